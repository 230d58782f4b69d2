"""The GitHub checks' declared inventories and decisive fields (issue 11): a page whose items are
not where a check reads them, or a record without a field a verdict depends on, is an `error`
naming the page or record and the path, never `not_applicable` or a pass, and never a crash.

Pipeline tests use the fake GitHub with injected pages of the wrong shape (so its served
payloads are not validated against GitHub's description, unlike tests/checks/test_github.py);
the others judge hand-written records as a run judges them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evidence.artifacts.github import merged_pull_requests_csv
from evidence.catalog import load_catalog
from evidence.checks.base import Check
from evidence.checks.github import pull_requests_peer_approved
from evidence.checks.github_branches import branch_protection_reviews, branch_protection_status_checks
from evidence.checks.github_members import members_without_2fa
from evidence.judge import Judging, run_check
from evidence.models import EvidenceRecord, Finding, Status
from evidence.records import EvidenceIndex, EvidenceWriter
from tests.checks.test_github import ORG, PEER, REVIEWS, STATUS, TOKEN_ENV, by, run, statuses, verdicts
from tests.conftest import RunFn
from tests.fakes.github import BranchProtection, FakeGitHub

NOW = datetime(2027, 1, 1, tzinfo=UTC)
PERIOD = {"period_start": "2026-10-01", "period_end": "2026-12-31"}


@pytest.fixture
def raw_gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The fake GitHub, free to serve pages GitHub's description does not allow."""
    with FakeGitHub(org=ORG) as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        fake.add_member("alice")
        yield fake
        assert not fake.errors


class Records:
    """Hand-written GitHub evidence records, judged exactly as a run judges them."""

    def __init__(self, root: Path) -> None:
        self.writer = EvidenceWriter(root)

    def add(self, op: str, response: Any, subject: str = ORG, **params: Any) -> str:
        return self.writer.write(EvidenceRecord(
            source="github", service="github", operation=op, parameters={"page": 1, **params}, account=ORG,
            subject=subject, collected_at="2026-12-31T00:00:00Z", response=response,
        ))

    @property
    def index(self) -> EvidenceIndex:
        return self.writer.index()

    def judge(self, chk: Check) -> list[Finding]:
        catalog = load_catalog()
        control = next(c for c in catalog.controls.values() if any(r.id == chk.id for r in c.checks))
        judging = Judging(reference_time=NOW, catalog=catalog, params={control.id: {chk.id: dict(chk.params)}},
                          sources={"github": None})
        return run_check(chk, control.id, judging, self.index)

    def repos(self, *names: str) -> str:
        return self.add("repos/list-for-org", [{"full_name": f"{ORG}/{n}", "name": n, "default_branch": "main",
                                                "archived": False} for n in names], org=ORG, type="all")

    def pulls(self, repo: str, response: Any) -> str:
        return self.add("pulls/list", response, f"{ORG}/{repo}", owner=ORG, repo=repo, state="closed", base="main",
                        **PERIOD)

    def reviews(self, repo: str, number: int, response: Any) -> str:
        return self.add("pulls/list-reviews", response, f"{ORG}/{repo}#{number}", owner=ORG, repo=repo,
                        pull_number=number)


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return Records(tmp_path / "bundle")


def pull(number: int, merged_at: str | None = "2026-10-05T10:00:00Z", author: str = "alice") -> dict[str, Any]:
    return {"number": number, "title": f"Change {number}", "user": {"login": author, "type": "User"},
            "merged_at": merged_at, "base": {"ref": "main"}, "updated_at": "2026-10-05T10:00:00Z"}


def review(rid: int, login: str, state: str, at: str) -> dict[str, Any]:
    return {"id": rid, "user": {"login": login, "type": "User"}, "state": state, "submitted_at": at}


def one(findings: list[Finding], check_id: str, resource_id: str) -> Finding:
    [found] = [f for f in findings if f.check_id == check_id and f.resource_id == resource_id]
    return found


def population(index: EvidenceIndex, folder: Path) -> list[dict[str, str]]:
    """The population file the artifact builds for `index`."""
    data = merged_pull_requests_csv.build(index)
    assert data is not None
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


# --------------------------------------------------------------------------- pages of the wrong shape


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


def test_pulls_page_that_is_an_object_completes_the_run_with_bundle_and_history(
    raw_gh: FakeGitHub, tmp_path: Path
) -> None:
    """Acceptance 2 (GitHub): an `error` finding; the bundle, the population file and the history
    are written (the population hook used to raise AttributeError and lose the run)."""
    from click.testing import CliRunner

    from evidence.cli import cli
    from evidence.history import HISTORY_FILE

    raw_gh.add_repo("api")
    raw_gh.set_branch_protection("api", BranchProtection.compliant())
    raw_gh.inject(f"/repos/{ORG}/api/pulls", 200, times=1, body={"total_count": 1, "pull_requests": [pull(1)]})
    config = tmp_path / "evidence.toml"
    config.write_text(f'[github]\norg = "{ORG}"\ntoken_env = "{TOKEN_ENV}"\napi_url = "{raw_gh.api_url}"\n',
                      encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "github", "--period", "2026-Q4",
                                      "--out", str(out)], catch_exceptions=False)

    assert result.exit_code == 3, result.output
    bundle = Path(next(line for line in result.output.splitlines() if line.startswith("bundle: "))[8:])
    assert (bundle / "findings.json").is_file() and (bundle / "manifest.json").is_file()
    # the header only: nothing readable
    assert (bundle / merged_pull_requests_csv.path).read_text(encoding="utf-8").count("\n") == 1
    assert (out / HISTORY_FILE).is_file()
    findings = [f for f in json.loads((bundle / "findings.json").read_text(encoding="utf-8")) if f["check_id"] == PEER]
    assert [f["status"] for f in findings] == ["error"]
    assert "github.pulls/list" in findings[0]["message"] and findings[0]["evidence"][0] in findings[0]["message"]


def test_population_hook_writes_what_it_can_read(records: Records, tmp_path: Path) -> None:
    """Malformed pages and unreadable pull requests are left out of the file, never a crash;
    the check reports each of them as an `error`."""
    records.repos("api", "web")
    api_page = records.pulls("api", {"pulls": [pull(1)]})
    no_merged_at = pull(3)
    del no_merged_at["merged_at"]
    web_page = records.pulls("web", ["not a pull request", pull(2), no_merged_at, {**pull(4), "number": "4"},
                                     pull(5, merged_at=None)])
    records.reviews("web", 2, [review(10, "bob", "APPROVED", "2026-10-05T09:00:00Z")])

    rows = population(records.index, tmp_path / "folder")
    assert [(r["repo"], r["number"], r["peer_approved"]) for r in rows] == [(f"{ORG}/web", "2", "yes")]

    findings = records.judge(pull_requests_peer_approved)
    page_errors = [f for f in findings if f.resource_id in {f"{ORG}/api", f"{ORG}/web"}]
    assert {(f.resource_id, f.status) for f in page_errors} == {(f"{ORG}/api", Status.ERROR),
                                                                  (f"{ORG}/web", Status.ERROR)}
    assert any(api_page in f.message for f in page_errors) and any("[0]" in f.message for f in page_errors)
    assert one(findings, PEER, f"{ORG}/web#2").status is Status.PASS
    missing = one(findings, PEER, f"{ORG}/web#3")
    assert missing.status is Status.ERROR and "'[2].merged_at'" in missing.message and web_page in missing.message
    assert one(findings, PEER, f"{ORG}/web#4").status is Status.ERROR  # a number that is a string
    closed = one(findings, PEER, f"{ORG}/web#5")
    assert closed.status is Status.NOT_APPLICABLE and "closed without being merged" in closed.message


# --------------------------------------------------------------------------- decisive fields


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


def test_repository_without_default_branch_is_an_error(records: Records) -> None:
    records.add("repos/list-for-org", [{"full_name": f"{ORG}/api", "name": "api", "archived": False}],
                org=ORG, type="all")
    for chk in (branch_protection_reviews, branch_protection_status_checks):
        [found] = records.judge(chk)
        assert found.status is Status.ERROR and found.resource_id == f"{ORG}/api"
        assert "'[0].default_branch'" in found.message and "is missing" in found.message


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
