"""The GitHub collector: httpx against the fake GitHub REST server (payloads checked against
GitHub's OpenAPI description after every test), with a clock and sleep the tests control."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evidence.collectors.base import CollectorFailure, Sink
from evidence.collectors.github import (
    MAX_TOTAL_WAIT,
    MAX_TRANSIENT_ATTEMPTS,
    PERMISSIONS,
    GitHubCollector,
)
from evidence.config import parse_config
from evidence.fakes.github import (
    BranchProtection,
    BypassActor,
    FakeGitHub,
    Rule,
    Ruleset,
)
from evidence.fakes.openapi import OpenAPISpec
from evidence.models import EvidenceRecord, Period
from evidence.records import EvidenceIndex, EvidenceWriter
from evidence.registry import Registry

ORG = "zaptic"
TOKEN_ENV = "EVIDENCE_TEST_GITHUB_TOKEN"
PERIOD = Period.parse("2026-Q4")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()


class Clock:
    """Time that moves only when the collector sleeps (or the test says so)."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gh(spec: OpenAPISpec, clock: Clock) -> Iterator[FakeGitHub]:
    with FakeGitHub(org=ORG, clock=clock) as fake:
        yield fake
        assert fake.assert_served_payloads_valid(spec) == len(fake.served)
        assert not fake.errors


class Collected:
    def __init__(self, index: EvidenceIndex, records: list[EvidenceRecord]) -> None:
        self.index = index
        self.records = records

    def of(self, op: str) -> list[EvidenceRecord]:
        return [r for r in self.records if r.operation == op]

    def ok(self, op: str) -> list[EvidenceRecord]:
        return [r for r in self.of(op) if r.ok]

    def failed(self, op: str) -> list[EvidenceRecord]:
        return [r for r in self.of(op) if not r.ok]


def collect(
    gh: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
    *,
    wanted: set[str] | None = None,
    period: Period = PERIOD,
    api_url: str | None = None,
    token: str | None = None,
) -> Collected:
    monkeypatch.setenv(TOKEN_ENV, gh.token if token is None else token)
    cfg = parse_config({"github": {"org": ORG, "token_env": TOKEN_ENV, "api_url": api_url or gh.api_url}})
    collector = GitHubCollector(cfg, period, clock=clock, sleep=clock.sleep)
    writer = EvidenceWriter(tmp_path / "bundle")
    collector.collect(Sink(writer), frozenset(wanted if wanted is not None else PERMISSIONS))
    index = writer.index()
    records = [index.load(e).record for e in index.entries]
    return Collected(index, records)


def test_permissions_name_classic_and_fine_grained_for_every_required_key(registry: Registry) -> None:
    assert registry.collectors["github"] is GitHubCollector
    required = {k for c in registry.checks.values() if c.source == "github" for k in c.requires}
    assert required <= set(PERMISSIONS)
    for key, perms in PERMISSIONS.items():
        assert key.startswith("github.") and "/" in key
        assert any(p.startswith("classic: ") for p in perms), key
        assert any(p.startswith("fine-grained: ") for p in perms) or key == "github.orgs/get", key
    assert "fine-grained: Administration: read" in PERMISSIONS["github.repos/get-branch-protection"]
    assert "role: organization owner" in PERMISSIONS["github.orgs/get"]
    assert GitHubCollector.permission_kind == "token permission"


def test_every_repository_page_recorded_with_operation_ids_and_headers(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    for i in range(101):
        gh.add_repo(f"svc-{i:03d}", archived=i == 7)
    got = collect(gh, tmp_path, monkeypatch, clock, wanted={"github.repos/list-for-org"})

    pages = sorted(got.ok("repos/list-for-org"), key=lambda r: r.parameters["page"])
    assert [r.parameters for r in pages] == [
        {"org": ORG, "type": "all", "per_page": 100, "page": 1},
        {"org": ORG, "type": "all", "per_page": 100, "page": 2},
    ]
    assert sum(len(r.response) for r in pages) == 101
    record = pages[0]
    assert (record.source, record.service, record.account, record.region) == ("github", "github", ORG, "")
    assert record.key == "github.repos/list-for-org"
    assert record.identity == f"${TOKEN_ENV} (classic personal access token; scopes: read:org, repo)"
    # the "/" of the operation id is sanitised in the path, and the key still finds the records
    paths = [e.path for e in got.index.entries_for("github.repos/list-for-org")]
    assert len(paths) == 2
    assert all(re.fullmatch(r"evidence/github/zaptic/global/github/repos_list-for-org-[0-9a-f]{12}\.json", p)
               for p in paths)
    # only what was wanted was called, with GitHub's headers, and pages of 100 through Link
    requests = gh.requests
    assert [(r.path, r.query.get("page")) for r in requests] == [
        ("/orgs/zaptic/repos", None), ("/orgs/zaptic/repos", ["2"])]
    assert requests[0].query == {"type": ["all"], "per_page": ["100"]}
    assert all(r.authenticated for r in requests)
    assert requests[0].headers["Accept"] == "application/vnd.github+json"
    assert requests[0].headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert requests[0].headers["User-Agent"].startswith("evidence/")


def test_unprotected_branch_is_recorded_as_a_response_not_a_failure(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("bare")
    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant(contexts=["ci"]))
    got = collect(gh, tmp_path, monkeypatch, clock)

    by_subject = {r.subject: r for r in got.of("repos/get-branch-protection")}
    bare = by_subject["zaptic/bare"]
    assert bare.ok
    assert bare.response == {"protected": False, "status": 404, "message": "Branch not protected"}
    assert bare.parameters == {"owner": ORG, "repo": "bare", "branch": "main"}
    api = by_subject["zaptic/api"]
    assert api.ok and api.response["enforce_admins"]["enabled"] is True
    rules = {r.subject: r for r in got.ok("repos/get-branch-rules")}
    assert rules["zaptic/bare"].response == []


def test_integration_403_fails_only_that_repository_naming_the_permission(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("locked")
    gh.add_repo("open")
    gh.deny_integration_access("locked")
    got = collect(gh, tmp_path, monkeypatch, clock)

    failed = got.failed("repos/get-branch-protection")
    assert [r.subject for r in failed] == ["zaptic/locked"]
    err = failed[0].error
    assert err is not None
    assert err.code == "HTTP 403" and err.message == "Resource not accessible by integration"
    assert "Administration: read" in err.remedy and "classic: repo" in err.remedy
    assert [r.subject for r in got.ok("repos/get-branch-protection")] == ["zaptic/open"]
    # the rest of the repository is still collected
    assert {r.subject for r in got.ok("repos/get-branch-rules")} == {"zaptic/locked", "zaptic/open"}


def test_rulesets_read_once_per_id_with_their_bypass_actors(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    for name in ("a", "b", "c"):
        gh.add_repo(name)
    org_id = gh.add_org_ruleset(Ruleset("baseline", [Rule.pull_request(1), Rule.deletion()]))
    repo_id = gh.add_repo_ruleset(
        "b", Ruleset("b-only", [Rule.non_fast_forward()], bypass_actors=[BypassActor("OrganizationAdmin", 1)])
    )
    got = collect(gh, tmp_path, monkeypatch, clock)

    org_sets = got.ok("repos/get-org-ruleset")
    assert [r.parameters for r in org_sets] == [{"org": ORG, "ruleset_id": org_id}]
    assert org_sets[0].subject == ORG and org_sets[0].response["bypass_actors"] == []
    repo_sets = got.ok("repos/get-repo-ruleset")
    assert [(r.subject, r.parameters["ruleset_id"]) for r in repo_sets] == [("zaptic/b", repo_id)]
    assert repo_sets[0].response["bypass_actors"][0]["actor_type"] == "OrganizationAdmin"
    assert sum(1 for r in gh.requests if "/rulesets/" in r.path) == 2


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


def test_missing_token_is_a_user_error_naming_the_variable(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    with pytest.raises(CollectorFailure) as info:
        collect(gh, tmp_path, monkeypatch, clock, token="  ")
    assert info.value.user_error
    assert TOKEN_ENV in info.value.error.message
    assert gh.requests == []


def test_rejected_token_is_a_user_error_that_does_not_echo_it(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    wrong = "ghp_wrong" + "x" * 30
    with pytest.raises(CollectorFailure) as info:
        collect(gh, tmp_path, monkeypatch, clock, token=wrong)
    assert info.value.user_error and info.value.error.code == "HTTP 401"
    assert TOKEN_ENV in info.value.error.message and "Bad credentials" in info.value.error.message
    assert wrong not in str(info.value.error.model_dump())


def test_pull_requests_paged_only_back_to_the_period_and_reviews_only_for_its_merges(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    gh.add_repo("api")
    gh.add_branch("api", "release")
    for day in range(1, 29):  # 224 PRs merged in August and September: before the period
        for hour in range(8):
            gh.add_pull_request("api", title="old", user="alice",
                                merged_at=f"2026-{8 + day // 15:02d}-{day % 15 + 1:02d}T{10 + hour}:00:00Z")
    inside = [
        gh.add_pull_request("api", title="in", user="alice", merged_at="2026-10-01T00:00:00Z").number,
        gh.add_pull_request("api", title="in", user="bob", merged_at="2026-11-29T23:59:59Z").number,
    ]
    gh.add_pull_request("api", title="closed unmerged", user="bob", closed_at="2026-10-05T10:00:00Z")
    gh.add_pull_request("api", title="to release", user="bob", base="release", merged_at="2026-10-06T10:00:00Z")
    # merged in September, updated (a comment) in October: listed in the period's pages, not judged
    gh.add_pull_request("api", title="late comment", user="bob", merged_at="2026-09-30T23:00:00Z",
                        updated_at="2026-10-02T09:00:00Z")
    got = collect(gh, tmp_path, monkeypatch, clock)

    pulls = got.ok("pulls/list")
    assert len(pulls) == 1  # the first page already reaches PRs updated before October
    assert pulls[0].parameters == {
        "owner": ORG, "repo": "api", "state": "closed", "base": "main", "sort": "updated", "direction": "desc",
        "period_start": "2026-10-01", "period_end": "2026-12-31", "per_page": 100, "page": 1,
    }
    assert pulls[0].subject == "zaptic/api"
    assert sorted(r.parameters["pull_number"] for r in got.ok("pulls/list-reviews")) == inside
    assert sorted(r.subject for r in got.ok("pulls/get")) == [f"zaptic/api#{n}" for n in inside]
    assert sum(1 for r in gh.requests if r.path == "/repos/zaptic/api/pulls") == 1


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


def test_token_is_never_logged_or_recorded(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gh.add_repo("api")
    gh.deny_integration_access("api")
    caplog.set_level(logging.DEBUG)
    collect(gh, tmp_path, monkeypatch, clock)
    assert gh.token not in caplog.text
    for path in (tmp_path / "bundle").rglob("*"):
        if path.is_file():
            assert gh.token.encode() not in path.read_bytes(), path
