"""The pull-request check (`github.pull_requests_peer_approved`) through the real pipeline, on
hand-written records, and the pure `peer_approvers`; and what holds for the whole GitHub source
(no token in the bundle, a missing token, offline re-judging)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from evidence.artifacts.github import POPULATION_CSV
from evidence.checks.github import peer_approvers, pull_requests_peer_approved
from evidence.checks.inventory import FieldError
from evidence.evaluate import evaluate
from evidence.models import Status
from evidence.registry import Registry
from tests.checks.githubrun import (
    BASELINE,
    ORG,
    PEER,
    TOKEN_ENV,
    Records,
    by,
    items,
    one,
    population,
    pull,
    review,
    run,
    verdicts,
)
from tests.conftest import RunFn
from tests.fakes.github import BranchProtection, FakeGitHub, Ruleset


def test_three_merged_pull_requests_two_fail_and_the_csv_lists_all(run_evidence: RunFn, gh: FakeGitHub) -> None:
    """Acceptance 3."""
    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant())
    peer = gh.add_pull_request("api", title="Peer approved", user="alice", merged_at="2026-10-05T10:00:00Z",
                               merged_by="alice")
    gh.add_review("api", peer.number, user="bob", state="APPROVED")
    own = gh.add_pull_request("api", title="Own approval", user="alice", merged_at="2026-10-06T10:00:00Z")
    gh.add_review("api", own.number, user="alice", state="APPROVED")
    gh.add_review("api", own.number, user="bob", state="COMMENTED")
    bare = gh.add_pull_request("api", title="No review", user="bob", merged_at="2026-11-02T10:00:00Z",
                               merged_by="alice")
    last = gh.add_pull_request("api", title="Last quarter", user="bob", merged_at="2026-09-20T10:00:00Z")
    result = run(run_evidence, gh)

    found = by(result, PEER)
    assert {k: f.status for k, f in found.items()} == {
        f"zaptic/api#{peer.number}": Status.PASS,
        f"zaptic/api#{own.number}": Status.FAIL,
        f"zaptic/api#{bare.number}": Status.FAIL,
        f"zaptic/api#{last.number}": Status.NOT_APPLICABLE,  # listed, merged before the period: a skip
    }
    assert f"zaptic/api#{own.number}" in found[f"zaptic/api#{own.number}"].message
    assert "without an approval from someone other than its author" in found[f"zaptic/api#{own.number}"].message
    assert "with no review at all" in found[f"zaptic/api#{bare.number}"].message
    assert found[f"zaptic/api#{peer.number}"].observed["approvers"] == ["bob"]
    assert verdicts(result)["CODE-REVIEW"] == Status.FAIL

    assert result.bundle is not None
    text = (result.bundle / POPULATION_CSV).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["number"], r["peer_approved"], r["approvers"]) for r in rows] == [
        (str(peer.number), "yes", "bob"), (str(own.number), "no", ""), (str(bare.number), "no", "")]
    assert rows[0]["repo"] == "zaptic/api" and rows[0]["title"] == "Peer approved"
    assert rows[0]["author"] == "alice" and rows[0]["merged_at"] == "2026-10-05T10:00:00Z"
    assert rows[2]["merged_by"] == "alice" and rows[2]["author"] == "bob"
    for row in rows:  # every evidence path named is in the bundle
        assert all((result.bundle / p).is_file() for p in row["evidence"].split(";"))
    manifest = result.bundle / "manifest.json"
    assert POPULATION_CSV in manifest.read_text(encoding="utf-8")  # hashed with the rest


def test_token_appears_nowhere_in_the_bundle(
    run_evidence: RunFn, gh: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    """Acceptance 5: successes, failures with remedies and the population, and no token."""
    caplog.set_level("DEBUG")
    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant())
    gh.add_repo("locked")
    gh.deny_integration_access("locked")
    pr = gh.add_pull_request("api", title="Change", user="alice", merged_at="2026-10-05T10:00:00Z")
    gh.add_review("api", pr.number, user="bob")
    gh.inject("/repos/zaptic/api/pulls/1/reviews", 500, times=-1)
    result = run(run_evidence, gh)

    assert result.bundle is not None
    files = [p for p in result.bundle.rglob("*") if p.is_file()]
    assert any(p.name == "merged-pull-requests.csv" for p in files)
    assert any(p.name == "findings.json" for p in files)
    assert len([p for p in files if "/evidence/github/" in p.as_posix()]) > 5
    for path in files:
        assert gh.token.encode() not in path.read_bytes(), path
    assert gh.token not in caplog.text
    assert gh.token not in repr(result.findings)
    assert {f.status for f in result.findings if f.source == "github"} >= {Status.PASS, Status.ERROR}


def test_no_merged_pull_request_is_not_applicable(run_evidence: RunFn, gh: FakeGitHub) -> None:
    gh.add_repo("api")
    gh.add_pull_request("api", title="Old", user="bob", merged_at="2026-06-01T10:00:00Z")
    result = run(run_evidence, gh)
    [finding] = by(result, PEER).values()
    assert finding.status is Status.NOT_APPLICABLE and finding.evidence
    # the listed pull request is left out on purpose, saying why
    assert finding.resource_id == "zaptic/api#1" and "outside the period 2026-10-01 to 2026-12-31" in finding.message
    assert result.bundle is not None
    assert (result.bundle / POPULATION_CSV).read_text(encoding="utf-8").count("\n") == 1  # header only


def test_missing_token_exits_2_with_one_line(
    run_evidence: RunFn, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    result = run(run_evidence, gh)
    assert result.exit_code == 2
    [line] = result.user_errors
    assert TOKEN_ENV in line and "\n" not in line
    assert {f.status for f in result.findings if f.source == "github"} == {Status.ERROR}


def test_evaluate_reproduces_the_findings(run_evidence: RunFn, gh: FakeGitHub, registry: Registry) -> None:
    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant())
    gh.add_repo("ruled")
    gh.add_org_ruleset(Ruleset("baseline", list(BASELINE), repository_include=["ruled"]))
    pr = gh.add_pull_request("api", title="Change", user="alice", merged_at="2026-10-05T10:00:00Z")
    gh.add_review("api", pr.number, user="bob")
    result = run(run_evidence, gh)
    assert result.bundle is not None
    text, _, _ = evaluate(result.bundle, registry)
    assert text == (result.bundle / "findings.json").read_text(encoding="utf-8")


def _review(login: str, state: str, at: str, rid: int, kind: str = "User") -> dict[str, Any]:
    return {"id": rid, "user": {"login": login, "type": kind}, "state": state, "submitted_at": at}


def test_peer_approvers() -> None:
    merged = "2026-10-05T10:00:00Z"
    assert peer_approvers("Alice", merged, items([
        _review("alice", "APPROVED", "2026-10-05T09:00:00Z", 1),  # the author, case aside
        _review("bob", "APPROVED", "2026-10-05T09:00:00Z", 2),
        _review("bob", "COMMENTED", "2026-10-05T09:30:00Z", 3),  # a comment does not withdraw it
        _review("carol", "APPROVED", "2026-10-05T09:00:00Z", 4),
        _review("carol", "CHANGES_REQUESTED", "2026-10-05T09:10:00Z", 5),  # withdrawn
        _review("dave", "APPROVED", "2026-10-05T11:00:00Z", 6),  # after the merge
        _review("renovate[bot]", "APPROVED", "2026-10-05T09:00:00Z", 7, "Bot"),
        _review("erin", "DISMISSED", "2026-10-05T09:00:00Z", 8),
        {"id": 9, "user": None, "state": "APPROVED", "submitted_at": "2026-10-05T09:00:00Z"},  # deleted account
    ])) == ["bob"]


def test_peer_approvers_unreadable_review_raises() -> None:
    """A withdrawal that cannot be read must not leave the approval before it standing."""
    approved = _review("bob", "APPROVED", "2026-10-05T09:00:00Z", 1)
    withdrawn = _review("bob", "CHANGES_REQUESTED", "2026-10-05T09:10:00Z", 2)
    del withdrawn["state"]
    with pytest.raises(FieldError, match=r"\[1\]\.state.* is missing"):
        peer_approvers("alice", "2026-10-05T10:00:00Z", items([approved, withdrawn]))
    withdrawn.update(state="CHANGES_REQUESTED", submitted_at="yesterday")
    with pytest.raises(FieldError, match="ISO-8601"):
        peer_approvers("alice", "2026-10-05T10:00:00Z", items([approved, withdrawn]))


def test_review_that_cannot_be_read_is_an_error_not_an_approval(records: Records, tmp_path: Path) -> None:
    """bob approved, then requested changes in a review without its `state`: not a pass."""
    records.repos("api")
    records.pulls("api", [pull(1)])
    withdrawn = review(11, "bob", "CHANGES_REQUESTED", "2026-10-05T09:30:00Z")
    del withdrawn["state"]
    page = records.reviews("api", 1, [review(10, "bob", "APPROVED", "2026-10-05T09:00:00Z"), withdrawn])

    found = one(records.judge(pull_requests_peer_approved), PEER, f"{ORG}/api#1")
    assert found.status is Status.ERROR
    assert f"field '[1].state' in {page} is missing" in found.message
    [row] = population(records.index, tmp_path / "folder")
    assert (row["number"], row["peer_approved"]) == ("1", "unknown")


def test_pull_requests_of_every_listed_repository_are_accounted_for(records: Records) -> None:
    """A repository whose pull requests were not listed is an error, unless it has no default
    branch (the collector lists none for it), which is a skip saying so."""
    records.add("repos/list-for-org", [
        {"full_name": f"{ORG}/{name}", "name": name, "default_branch": branch, "archived": False}
        for name, branch in (("api", "main"), ("empty", ""), ("web", "main"))], org=ORG, type="all")
    records.pulls("api", [])
    findings = records.judge(pull_requests_peer_approved)
    assert {f.resource_id: f.status for f in findings} == {f"{ORG}/empty": Status.NOT_APPLICABLE,
                                                            f"{ORG}/web": Status.ERROR}
    assert "no github.pulls/list record was collected" in one(findings, PEER, f"{ORG}/web").message
