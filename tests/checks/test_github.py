"""GitHub checks through the real pipeline (collector + fake GitHub + judge + bundle), and the
pure merge of classic protection and rulesets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence.artifacts.github import POPULATION_CSV
from evidence.checks.github import peer_approvers
from evidence.checks.github_rules import effective_rules
from evidence.checks.inventory import FieldError, Item
from evidence.collectors.base import Collector
from evidence.collectors.github import GitHubCollector
from evidence.config import Config
from evidence.evaluate import evaluate
from evidence.models import EvidenceRecord, Finding, Period, Status
from evidence.records import Evidence
from evidence.registry import Registry
from evidence.runner import RunResult
from tests.conftest import RunFn
from tests.fakes.github import (
    BranchProtection,
    BypassActor,
    FakeGitHub,
    RequiredReviews,
    RequiredStatusChecks,
    Rule,
    Ruleset,
)
from tests.fakes.openapi import OpenAPISpec

ORG = "zaptic"
TOKEN_ENV = "EVIDENCE_TEST_GITHUB_TOKEN"
REVIEWS = "github.branch_protection_reviews"
STATUS = "github.branch_protection_status_checks"
PEER = "github.pull_requests_peer_approved"

BASELINE = [
    Rule.pull_request(1),
    Rule.required_status_checks(["ci"], strict=True),
    Rule.non_fast_forward(),
    Rule.deletion(),
]


@pytest.fixture
def gh(spec: OpenAPISpec, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(org=ORG) as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        fake.add_member("alice")
        fake.add_member("bob")
        yield fake
        assert fake.assert_served_payloads_valid(spec) == len(fake.served)
        assert not fake.errors


def no_sleep_collectors(cls: type[Collector], config: Config, period: Period) -> Collector:
    """The registry's collectors, the GitHub one without real sleeping between retries."""
    if cls is GitHubCollector:
        return GitHubCollector(config, period, sleep=lambda seconds: None)
    return cls(config, period)


def run(run_evidence: RunFn, gh: FakeGitHub) -> RunResult:
    config = {"github": {"org": ORG, "token_env": TOKEN_ENV, "api_url": gh.api_url}}
    return run_evidence(config, only={"github"}, collector_factory=no_sleep_collectors)


def by(result: RunResult, check_id: str) -> dict[str, Finding]:
    found = [f for f in result.findings if f.check_id == check_id]
    out = {f.resource_id: f for f in found}
    assert len(out) == len(found), "one finding per resource"
    return out


def statuses(result: RunResult, check_id: str) -> dict[str, Status]:
    return {k: f.status for k, f in by(result, check_id).items()}


def verdicts(result: RunResult) -> dict[str, Status]:
    return {v.control_id: v.verdict for v in result.verdicts}


# --------------------------------------------------------------------------- acceptance


def test_classic_protection_and_org_ruleset_pass_unprotected_fails(run_evidence: RunFn, gh: FakeGitHub) -> None:
    """Acceptance 1."""
    gh.add_repo("classic")
    gh.set_branch_protection("classic", BranchProtection.compliant(contexts=["ci"], approvals=1))
    gh.add_repo("bare")
    gh.add_repo("ruled")
    gh.add_org_ruleset(Ruleset("baseline", list(BASELINE), repository_include=["ruled"]))
    result = run(run_evidence, gh)

    expected = {"zaptic/classic": Status.PASS, "zaptic/bare": Status.FAIL, "zaptic/ruled": Status.PASS}
    assert statuses(result, REVIEWS) == expected
    assert statuses(result, STATUS) == expected
    bare = by(result, REVIEWS)["zaptic/bare"]
    assert bare.message == "zaptic/bare: default branch 'main' has no branch protection and no ruleset."
    assert bare.control_id == "CODE-REVIEW" and bare.resource_type == "github_repository"
    ruled = by(result, REVIEWS)["zaptic/ruled"].observed
    assert ruled["required_approvals"] == 1 and ruled["approvals_nobody_can_bypass"] == 1
    assert ruled["required_approvals_from"] == [ruled["protected_by"][0]]
    assert ruled["protected_by"][0].startswith("organization ruleset ") and "'baseline'" in ruled["protected_by"][0]
    classic = by(result, STATUS)["zaptic/classic"].observed
    assert classic["required_status_checks"] == {"ci": ["classic branch protection"]}
    assert classic["up_to_date_before_merging"] is True
    assert all(p.startswith("evidence/github/zaptic/") for p in by(result, REVIEWS)["zaptic/ruled"].evidence)
    assert verdicts(result)["CODE-REVIEW"] == Status.FAIL and verdicts(result)["CI-GATE"] == Status.FAIL


def test_integration_403_errors_that_repository_only(run_evidence: RunFn, gh: FakeGitHub) -> None:
    """Acceptance 2."""
    gh.add_repo("locked")
    gh.set_branch_protection("locked", BranchProtection.compliant())
    gh.add_repo("good")
    gh.set_branch_protection("good", BranchProtection.compliant())
    gh.add_repo("bare")
    gh.deny_integration_access("locked")
    result = run(run_evidence, gh)

    for check_id in (REVIEWS, STATUS):
        found = by(result, check_id)
        assert {k: f.status for k, f in found.items()} == {
            "zaptic/locked": Status.ERROR, "zaptic/good": Status.PASS, "zaptic/bare": Status.FAIL}
        locked = found["zaptic/locked"]
        assert "Resource not accessible by integration" in locked.message
        assert "Administration: read" in locked.message
        assert locked.evidence and locked.evidence[0].startswith("evidence/github/zaptic/global/github/repos_get-")


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


# --------------------------------------------------------------------------- more behaviour


def test_bypass_and_admin_exemption(run_evidence: RunFn, gh: FakeGitHub) -> None:
    no_admins = BranchProtection.compliant()
    no_admins.enforce_admins = False
    gh.add_repo("admins-exempt")
    gh.set_branch_protection("admins-exempt", no_admins)
    gh.add_repo("bypass-ruleset")
    gh.add_repo_ruleset("bypass-ruleset", Ruleset("main", list(BASELINE), bypass_actors=[
        BypassActor("RepositoryRole", 5, "always")]))
    gh.add_repo("both")  # classic exempts admins, but an org ruleset nobody bypasses requires a review
    gh.set_branch_protection("both", no_admins)
    gh.add_org_ruleset(Ruleset("reviews", [Rule.pull_request(1)], repository_include=["both"]))
    gh.add_repo("allowances")
    gh.set_branch_protection("allowances", BranchProtection(
        required_pull_request_reviews=RequiredReviews(1, dismiss_stale_reviews=True, bypass_users=["alice"]),
        enforce_admins=True))
    result = run(run_evidence, gh)

    found = by(result, REVIEWS)
    assert {k: f.status for k, f in found.items()} == {
        "zaptic/admins-exempt": Status.FAIL, "zaptic/bypass-ruleset": Status.FAIL,
        "zaptic/both": Status.PASS, "zaptic/allowances": Status.FAIL}
    for name in ("admins-exempt", "bypass-ruleset", "allowances"):
        assert "can merge without the required approvals" in found[f"zaptic/{name}"].message
    bypass = found["zaptic/bypass-ruleset"].observed["bypass"]
    assert list(bypass.values()) == ["RepositoryRole#5 (always)"]
    assert found["zaptic/allowances"].observed["bypass"] == {
        "classic branch protection": "bypass allowances: user alice"}
    assert found["zaptic/both"].observed["approvals_nobody_can_bypass_from"][0].startswith("organization ruleset")


def test_weak_settings_each_named(run_evidence: RunFn, gh: FakeGitHub) -> None:
    gh.add_repo("weak")
    gh.set_branch_protection("weak", BranchProtection(
        required_pull_request_reviews=RequiredReviews(0),
        required_status_checks=RequiredStatusChecks(contexts=["ci"], strict=False),
        enforce_admins=True, allow_force_pushes=True, allow_deletions=True))
    gh.add_repo("old", archived=True)
    result = run(run_evidence, gh)

    weak = by(result, REVIEWS)["zaptic/weak"]
    assert weak.status is Status.FAIL
    for phrase in ("0 approval(s) required, fewer than 1", "stale approvals are not dismissed",
                   "force pushes are allowed", "the branch can be deleted"):
        assert phrase in weak.message
    status = by(result, STATUS)["zaptic/weak"]
    assert status.status is Status.FAIL and "need not be up to date" in status.message
    assert by(result, REVIEWS)["zaptic/old"].status is Status.NOT_APPLICABLE
    assert by(result, STATUS)["zaptic/old"].status is Status.NOT_APPLICABLE
    assert not any(r.path.startswith("/repos/zaptic/old/branches") for r in gh.requests)


def test_two_factor(run_evidence: RunFn, gh: FakeGitHub) -> None:
    gh.add_member("carol", two_factor=False)
    gh.set_org(two_factor_requirement_enabled=False)
    result = run(run_evidence, gh)
    assert statuses(result, "github.org_2fa_required") == {"zaptic": Status.FAIL}
    assert statuses(result, "github.members_without_2fa") == {
        "alice": Status.PASS, "bob": Status.PASS, "carol": Status.FAIL}
    assert verdicts(result)["CODEHOST-MFA"] == Status.FAIL


def test_two_factor_requirement_hidden_from_a_non_owner_is_an_error(run_evidence: RunFn, gh: FakeGitHub) -> None:
    gh.set_org(viewer_is_owner=False)
    result = run(run_evidence, gh)
    [finding] = by(result, "github.org_2fa_required").values()
    assert finding.status is Status.ERROR and "organisation owner" in finding.message


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


# --------------------------------------------------------------------------- pure


def item(value: Any, at: str = "", path: str = "evidence/github/zaptic/global/github/record.json") -> Item:
    """`value` as a listed item of a record at `path` (for the pure functions)."""
    record = EvidenceRecord(source="github", service="github", operation="x", subject="o/r",
                            collected_at="2026-12-31T00:00:00Z", response=value)
    return Item(value, Evidence(path, record), "o/r", "o/r", at)


def items(values: list[dict[str, Any]]) -> list[Item]:
    return [item(v, f"[{n}]") for n, v in enumerate(values)]


def _classic(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": "u",
        "enforce_admins": {"enabled": True},
        "allow_force_pushes": {"enabled": True},
        "allow_deletions": {"enabled": True},
    }
    base.update(kw)
    return base


def test_effective_rules_strongest_setting_wins() -> None:
    classic = _classic(
        required_pull_request_reviews={"required_approving_review_count": 1, "dismiss_stale_reviews": False},
        required_status_checks={"strict": False, "contexts": ["lint"], "checks": [{"context": "lint"}]},
    )
    rules = [
        {"type": "pull_request", "ruleset_id": 7, "ruleset_source_type": "Repository", "ruleset_source": "o/r",
         "parameters": {"required_approving_review_count": 2, "dismiss_stale_reviews_on_push": True}},
        {"type": "required_status_checks", "ruleset_id": 7, "ruleset_source_type": "Repository",
         "ruleset_source": "o/r", "parameters": {"strict_required_status_checks_policy": True,
                                                  "required_status_checks": [{"context": "ci"}]}},
        {"type": "non_fast_forward", "ruleset_id": 8, "ruleset_source_type": "Organization", "ruleset_source": "o"},
    ]
    eff = effective_rules(item(classic), items(rules), {7: item({"name": "main", "bypass_actors": []}), 8: None})
    r7 = "repository ruleset 7 'main' (o/r)"
    r8 = "organization ruleset 8 (o)"
    assert [s.label for s in eff.sources] == ["classic branch protection", r7, r8]
    assert (eff.approvals, eff.approvals_from) == (2, [r7])
    assert eff.dismiss_stale_from == [r7]
    assert eff.status_checks == {"lint": ["classic branch protection"], "ci": [r7]}
    assert eff.strict_from == [r7]
    assert eff.force_push_blocked_by == [r8] and eff.deletion_blocked_by == []
    assert (eff.unbypassable_approvals, eff.unbypassable_from) == (2, [r7])
    assert {s.label: s.bypass for s in eff.sources}[r8] == "unknown"


def test_effective_rules_of_an_unprotected_branch() -> None:
    eff = effective_rules(item({"protected": False, "status": 404, "message": "Branch not protected"}), [], {})
    assert not eff.protected and eff.approvals == 0 and not eff.force_push_blocked_by


def test_effective_rules_decisive_fields_missing_raise() -> None:
    """A field whose absence would read as "blocked" or "no bypass" is an error, never a pass."""
    classic = _classic(required_pull_request_reviews={"required_approving_review_count": 1,
                                                      "dismiss_stale_reviews": True})
    del classic["allow_force_pushes"]
    with pytest.raises(FieldError) as raised:
        effective_rules(item(classic), [], {})
    assert raised.value.field == "allow_force_pushes" and raised.value.record.endswith("record.json")
    # the status-check aspect does not read it
    assert not effective_rules(item(classic), [], {}, reviews=False).status_checks
    rule = {"type": "pull_request", "ruleset_id": 7, "parameters": {"required_approving_review_count": 1}}
    with pytest.raises(FieldError, match=r"\[0\]\.parameters\.dismiss_stale_reviews_on_push.* is missing"):
        effective_rules(None, items([rule]), {7: item({"bypass_actors": []})})
    with pytest.raises(FieldError, match="bypass_actors"):  # an object where a list belongs
        effective_rules(None, items([rule]), {7: item({"bypass_actors": {"actor_type": "Team"}})})


def test_unknown_bypass_is_an_error_not_a_pass(run_evidence: RunFn, gh: FakeGitHub) -> None:
    gh.add_repo("api")
    rid = gh.add_org_ruleset(Ruleset("baseline", list(BASELINE)))
    gh.inject(f"/orgs/zaptic/rulesets/{rid}", 404, times=-1)
    result = run(run_evidence, gh)
    found = by(result, REVIEWS)
    # the unreadable ruleset itself is an error (judge), and the repository cannot be passed
    assert found["zaptic/api"].status is Status.ERROR
    assert "could not be read" in found["zaptic/api"].message
    assert found["zaptic"].status is Status.ERROR and "GitHub answers 404" in found["zaptic"].message
    assert by(result, STATUS)["zaptic/api"].status is Status.PASS  # status checks need no bypass info


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


def test_demo_organisation_shows_every_verdict(
    run_evidence: RunFn, spec: OpenAPISpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidence.demo.company import seed_github
    from tests.conftest import PERIOD

    with FakeGitHub(org=ORG) as fake:
        seed_github(fake, PERIOD)
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        result = run(run_evidence, fake)
        fake.assert_served_payloads_valid(spec)
    assert statuses(result, REVIEWS) == {
        "zaptic/platform-api": Status.PASS, "zaptic/web-app": Status.PASS, "zaptic/docs": Status.PASS,
        "zaptic/mobile-app": Status.FAIL, "zaptic/infra-terraform": Status.FAIL,
        "zaptic/data-scripts": Status.FAIL, "zaptic/legacy-portal": Status.NOT_APPLICABLE}
    assert statuses(result, STATUS)["zaptic/mobile-app"] is Status.FAIL
    assert statuses(result, STATUS)["zaptic/web-app"] is Status.PASS
    peer = statuses(result, PEER)
    assert sorted(peer.values()).count(Status.PASS) == 3 and sorted(peer.values()).count(Status.FAIL) == 3
    skipped = {k: f.message for k, f in by(result, PEER).items() if f.status is Status.NOT_APPLICABLE}
    assert len(skipped) == 2  # every listed pull request has a finding: the two out of scope say why
    assert any("closed without being merged" in m for m in skipped.values())
    assert any("outside the period" in m for m in skipped.values())
    assert statuses(result, "github.org_2fa_required") == {"zaptic": Status.FAIL}
    assert statuses(result, "github.members_without_2fa")["ext-contractor"] is Status.FAIL


def test_evidence_run_writes_the_population_csv(gh: FakeGitHub, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from evidence.cli import cli

    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant())
    pr = gh.add_pull_request("api", title="Change", user="alice", merged_at="2026-10-05T10:00:00Z")
    gh.add_review("api", pr.number, user="bob")
    config = tmp_path / "evidence.toml"
    config.write_text(f'[github]\norg = "{ORG}"\ntoken_env = "{TOKEN_ENV}"\napi_url = "{gh.api_url}"\n',
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "github", "--period", "2026-Q4",
                                      "--out", str(tmp_path / "out")], catch_exceptions=False)
    bundle = Path(next(line for line in result.output.splitlines() if line.startswith("bundle: "))[8:])
    rows = list(csv.DictReader(io.StringIO((bundle / POPULATION_CSV).read_text(encoding="utf-8"))))
    assert [(r["repo"], r["number"], r["peer_approved"]) for r in rows] == [("zaptic/api", "1", "yes")]
    assert gh.token not in result.output


def test_evaluate_builds_the_population_again_and_names_it_when_it_differs(gh: FakeGitHub, tmp_path: Path) -> None:
    """Issue 12, acceptance 4: `evidence evaluate` rebuilds every declared artifact from the
    bundle's evidence; an edited population file is named, and the command exits 1."""
    from click.testing import CliRunner

    from evidence.cli import cli

    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant())
    pr = gh.add_pull_request("api", title="Change", user="alice", merged_at="2026-10-05T10:00:00Z")
    gh.add_review("api", pr.number, user="bob")
    config = tmp_path / "evidence.toml"
    config.write_text(f'[github]\norg = "{ORG}"\ntoken_env = "{TOKEN_ENV}"\napi_url = "{gh.api_url}"\n',
                      encoding="utf-8")
    ran = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "github", "--period", "2026-Q4",
                                   "--out", str(tmp_path / "out")], catch_exceptions=False)
    bundle = Path(next(line for line in ran.output.splitlines() if line.startswith("bundle: "))[8:])
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["artifacts"] == {"github.merged_pull_requests": POPULATION_CSV}

    same = CliRunner().invoke(cli, ["evaluate", str(bundle)], catch_exceptions=False)
    assert same.exit_code == 0, same.output
    assert "every artifact builds again alike" in same.output

    csv_file = bundle / POPULATION_CSV
    csv_file.write_text(csv_file.read_text(encoding="utf-8").replace(",yes,", ",no,"), encoding="utf-8")
    edited = CliRunner().invoke(cli, ["evaluate", "--no-verify", str(bundle)], catch_exceptions=False)
    assert edited.exit_code == 1
    assert f"artifact DIFFERS: {POPULATION_CSV}: differs from the file built again from the evidence" in edited.output
    assert "re-judged findings DIFFER" not in edited.output  # the findings themselves still match
