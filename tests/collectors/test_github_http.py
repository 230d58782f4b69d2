"""The GitHub API client: rate limits, retries with backoff, the cap on waiting, unreachable APIs
and next pages outside the API, with a clock and sleep the tests control."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from evidence.collectors.github_http import MAX_TOTAL_WAIT, MAX_TRANSIENT_ATTEMPTS
from tests.collectors.githubhelp import Clock, collect
from tests.fakes.github import FakeGitHub


def test_rate_limit_exhausted_waits_for_the_reset_then_succeeds(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """Acceptance 4: remaining 0, reset 2 s ahead: the collector waits, then succeeds."""
    gh.add_repo("api")
    gh.set_rate_limit(0, 2)
    got = collect(gh, tmp_path, monkeypatch, clock)

    assert all(r.ok for r in got.records), [r.error for r in got.records if not r.ok]
    assert len(clock.slept) == 1
    assert 2 <= clock.slept[0] <= 4  # until X-RateLimit-Reset (whole seconds) + 1 s margin
    statuses = [r.status for r in gh.requests]
    assert statuses[0] == 403 and 403 not in statuses[1:]


def test_remaining_zero_on_a_success_waits_before_the_next_call(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("api")
    gh.set_rate_limit(1, 30)
    got = collect(gh, tmp_path, monkeypatch, clock)

    assert all(r.ok for r in got.records)
    assert 403 not in [r.status for r in gh.requests]  # it waited instead of asking in vain
    assert len(clock.slept) == 1 and 30 <= clock.slept[0] <= 32


def test_secondary_rate_limit_honours_retry_after(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("api")
    gh.inject_secondary_rate_limit(retry_after=42, times=1, path_prefix="/orgs/zaptic/repos")
    got = collect(gh, tmp_path, monkeypatch, clock)

    assert all(r.ok for r in got.records)
    assert clock.slept == [42.0]


def test_waiting_past_the_cap_records_the_calls_as_errors(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("api")
    gh.set_rate_limit(0, MAX_TOTAL_WAIT + 600)
    got = collect(gh, tmp_path, monkeypatch, clock)

    assert clock.slept == []
    assert got.records and not any(r.ok for r in got.records)
    err = got.records[0].error
    assert err is not None and err.code == "RateLimited"
    assert "15 minutes" in err.remedy and "run again after the reset" in err.remedy
    assert len(gh.requests) == 1  # once the reset is known to be too far, nothing more is asked


def test_server_errors_are_retried_with_backoff(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("api")
    gh.inject("/orgs/zaptic/repos", 502, times=2)
    got = collect(gh, tmp_path, monkeypatch, clock, wanted={"github.repos/list-for-org"})

    assert [r.ok for r in got.records] == [True]
    assert len(clock.slept) == 2
    assert 1 <= clock.slept[0] <= 2 and 2 <= clock.slept[1] <= 3  # exponential, with jitter


def test_persistent_server_error_is_recorded_with_a_remedy(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("api")
    gh.inject("/orgs/zaptic/repos", 500, times=-1)
    got = collect(gh, tmp_path, monkeypatch, clock, wanted={"github.repos/list-for-org"})

    [record] = got.records
    assert record.error is not None and record.error.code == "HTTP 500"
    assert f"failed {MAX_TRANSIENT_ATTEMPTS} times" in record.error.remedy
    assert len(gh.requests) == MAX_TRANSIENT_ATTEMPTS


def test_unreachable_api_is_recorded_with_a_remedy(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    got = collect(gh, tmp_path, monkeypatch, clock, api_url=closed, wanted={"github.orgs/get"})

    [record] = got.records
    assert record.error is not None and record.error.code == "ConnectError"
    assert closed in record.error.remedy and "api_url" in record.error.remedy
    assert len(clock.slept) == MAX_TRANSIENT_ATTEMPTS - 1


def test_next_page_outside_the_api_is_not_followed(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_member("alice")
    gh.inject("/orgs/zaptic/members", 200, times=1, body=[],
              headers={"Link": '<http://127.0.0.2:9/steal?page=2>; rel="next"'})
    got = collect(gh, tmp_path, monkeypatch, clock, wanted={"github.orgs/list-members"})

    members = got.of("orgs/list-members")
    first = sorted((r for r in members if r.parameters["filter"] == "all"), key=lambda r: r.parameters["page"])
    assert [(r.ok, r.parameters["page"]) for r in first] == [(True, 1), (False, 2)]
    assert first[1].error is not None and first[1].error.code == "ForeignNextPage"
    assert [r.ok for r in members if r.parameters["filter"] == "2fa_disabled"] == [True]
