"""The branch protection checks (reviews, status checks) through the real pipeline and on
hand-written records: classic protection and rulesets, bypass, weak settings, and pages or
fields of the wrong shape."""

from __future__ import annotations

from evidence.checks.github_branches import branch_protection_reviews, branch_protection_status_checks
from evidence.models import Status
from tests.checks.githubrun import BASELINE, ORG, REVIEWS, STATUS, Records, by, run, statuses, verdicts
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


def test_branch_rules_page_not_a_list_errors_that_repository(run_evidence: RunFn, raw_gh: FakeGitHub) -> None:
    raw_gh.add_repo("api")
    raw_gh.set_branch_protection("api", BranchProtection.compliant())
    raw_gh.add_repo("web")
    raw_gh.set_branch_protection("web", BranchProtection.compliant())
    raw_gh.inject(f"/repos/{ORG}/api/rules/branches/main", 200, times=1, body={"rules": []})
    result = run(run_evidence, raw_gh)

    for check_id in (REVIEWS, STATUS):
        assert statuses(result, check_id) == {f"{ORG}/api": Status.ERROR, f"{ORG}/web": Status.PASS}
        api = by(result, check_id)[f"{ORG}/api"]
        assert "github.repos/get-branch-rules" in api.message and api.evidence[0] in api.message


def test_protection_without_allow_force_pushes_is_an_error_not_a_pass(
    run_evidence: RunFn, raw_gh: FakeGitHub
) -> None:
    """A missing `allow_force_pushes` used to read as "force pushes blocked": a pass."""
    raw_gh.add_repo("api")
    protection = {
        "url": "https://api.github.com/repos/zaptic/api/branches/main/protection",
        "required_status_checks": {"url": "u", "strict": True, "contexts": ["ci"],
                                   "checks": [{"context": "ci", "app_id": None}]},
        "required_pull_request_reviews": {"url": "u", "dismiss_stale_reviews": True,
                                          "require_code_owner_reviews": False, "required_approving_review_count": 1},
        "enforce_admins": {"url": "u", "enabled": True},
        "allow_deletions": {"enabled": False},
    }
    raw_gh.inject(f"/repos/{ORG}/api/branches/main/protection", 200, times=1, body=protection)
    result = run(run_evidence, raw_gh)

    api = by(result, REVIEWS)[f"{ORG}/api"]
    assert api.status is Status.ERROR
    assert "field 'allow_force_pushes' in evidence/github/" in api.message and "is missing" in api.message
    assert by(result, STATUS)[f"{ORG}/api"].status is Status.PASS  # it does not read that field


def test_repository_without_default_branch_is_an_error(records: Records) -> None:
    records.add("repos/list-for-org", [{"full_name": f"{ORG}/api", "name": "api", "archived": False}],
                org=ORG, type="all")
    for chk in (branch_protection_reviews, branch_protection_status_checks):
        [found] = records.judge(chk)
        assert found.status is Status.ERROR and found.resource_id == f"{ORG}/api"
        assert "'[0].default_branch'" in found.message and "is missing" in found.message
