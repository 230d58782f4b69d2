"""The organisation's two-factor checks (`github.org_2fa_required`, `github.members_without_2fa`)."""

from __future__ import annotations

from evidence.checks.github_members import members_without_2fa
from evidence.models import Status
from tests.checks.githubrun import ORG, Records, by, one, run, statuses, verdicts
from tests.conftest import RunFn
from tests.fakes.github import FakeGitHub


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


def test_members_page_of_the_wrong_shape_leaves_nobody_passed(records: Records) -> None:
    """Who lacks 2FA is unknown when the 2fa_disabled page holds its members under a key."""
    records.add("orgs/list-members", [{"login": "alice"}, {"login": "bob"}], org=ORG, filter="all")
    page = records.add("orgs/list-members", {"members": [{"login": "bob"}]}, org=ORG, filter="2fa_disabled")
    findings = records.judge(members_without_2fa)

    for login in ("alice", "bob"):
        member = one(findings, "github.members_without_2fa", login)
        assert member.status is Status.ERROR and "unknown" in member.message
    [shape] = [f for f in findings if f.resource_id == ORG]
    assert shape.status is Status.ERROR and page in shape.message
