"""The repositories listing every GitHub check reads (`github_common`): a page of the wrong shape is an
`error` for every check reading it, never `not_applicable`."""

from __future__ import annotations

from evidence.models import Status
from tests.checks.githubrun import ORG, PEER, REVIEWS, STATUS, run, verdicts
from tests.conftest import RunFn
from tests.fakes.github import BranchProtection, FakeGitHub


def test_repositories_page_not_a_list_is_an_error_for_every_check_reading_it(
    run_evidence: RunFn, raw_gh: FakeGitHub
) -> None:
    """Acceptance 1 (GitHub): the repositories arrive under a key; nothing is "not applicable"."""
    raw_gh.add_repo("api")
    raw_gh.set_branch_protection("api", BranchProtection.compliant())
    raw_gh.inject(f"/orgs/{ORG}/repos", 200, times=1, body={"total_count": 1, "repositories": [
        {"full_name": f"{ORG}/api", "name": "api", "default_branch": "main", "archived": False}]})
    result = run(run_evidence, raw_gh)

    for check_id in (REVIEWS, STATUS, PEER):
        [finding] = [f for f in result.findings if f.check_id == check_id]
        assert finding.status is Status.ERROR, finding
        [page] = finding.evidence
        assert "list-for-org" in page and page in finding.message
        assert "github.repos/list-for-org" in finding.message and "'[]' is object, not a list" in finding.message
    assert verdicts(result)["CODE-REVIEW"] is Status.ERROR and verdicts(result)["CI-GATE"] is Status.ERROR
    assert result.exit_code == 3
