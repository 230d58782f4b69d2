"""What the GitHub collector fetches and how each call is recorded, against the fake GitHub REST
server (payloads checked against GitHub's OpenAPI description after every test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.collectors.githubhelp import ORG, TOKEN_ENV, Clock, collect
from tests.fakes.github import BranchProtection, BypassActor, FakeGitHub, Rule, Ruleset


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


def test_repositories_it_cannot_name_are_skipped_and_collection_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """A repositories page holding items of the wrong shape is recorded as it came (the checks
    report it), and the repositories it can name are still collected."""
    with FakeGitHub(org=ORG, clock=clock) as fake:  # no payload validation: the page is malformed on purpose
        fake.add_repo("api")
        fake.set_branch_protection("api", BranchProtection.compliant())
        api = {"name": "api", "full_name": f"{ORG}/api", "default_branch": "main", "archived": False,
               "owner": {"login": ORG}}
        fake.inject(f"/orgs/{ORG}/repos", 200, times=1, body=["just-a-string", {"full_name": f"{ORG}/nameless"}, api])
        got = collect(fake, tmp_path, monkeypatch, clock)
    assert [r.subject for r in got.of("repos/get-branch-protection")] == [f"{ORG}/api"]
    [page] = got.ok("repos/list-for-org")
    assert page.response[0] == "just-a-string"  # recorded as it came
