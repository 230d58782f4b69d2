"""The fake GitHub REST API, driven by a real HTTP client (httpx), its payloads checked against
GitHub's own OpenAPI description (npm package @octokit/openapi) after every test."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.github import (
    BranchProtection,
    BypassActor,
    FakeGitHub,
    RequiredReviews,
    Rule,
    Ruleset,
)
from tests.fakes.openapi import (
    ENV_VAR,
    OpenAPIDocumentMissing,
    OpenAPISpec,
    ResponseValidationError,
    locate_openapi_document,
)

ORG = "zaptic"
START = 1_790_000_000.0  # 2026-09-21T13:33:20Z


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gh(spec: OpenAPISpec, clock: Clock) -> Iterator[FakeGitHub]:
    with FakeGitHub(org=ORG, clock=clock) as fake:
        yield fake
        checked = fake.assert_served_payloads_valid(spec)
        assert checked == len(fake.served)


@pytest.fixture
def client(gh: FakeGitHub) -> Iterator[httpx.Client]:
    headers = {
        "Authorization": f"Bearer {gh.token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    with httpx.Client(base_url=gh.api_url, headers=headers, timeout=10) as c:
        yield c


def _follow(client: httpx.Client, url: str, params: dict[str, Any] | None = None) -> tuple[list[Any], int]:
    """Every item of a paginated listing, following rel="next" like Octokit and PyGithub do."""
    items: list[Any] = []
    pages = 0
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        pages += 1
        items.extend(response.json())
        next_link = response.links.get("next")
        if next_link is None:
            return items, pages
        response = client.get(next_link["url"])


def test_binds_loopback_and_stops(spec: OpenAPISpec) -> None:
    fake = FakeGitHub(org=ORG)
    with pytest.raises(RuntimeError):
        _ = fake.api_url
    with fake:
        assert fake.api_url.startswith("http://127.0.0.1:")
        response = httpx.get(fake.api_url + "/orgs/zaptic", headers={"Authorization": f"token {fake.token}"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        fake.assert_served_payloads_valid(spec)
    with pytest.raises(RuntimeError):
        _ = fake.api_url
    fake.stop()  # idempotent


def test_pagination_follows_link_headers(gh: FakeGitHub, client: httpx.Client) -> None:
    for i in range(7):
        gh.add_repo(f"service-{i}", archived=i == 6, private=i % 2 == 0)
    first = client.get(f"/orgs/{ORG}/repos", params={"type": "all", "per_page": 2})
    assert first.links["next"]["url"].endswith("/orgs/zaptic/repos?type=all&per_page=2&page=2")
    assert first.links["last"]["url"].endswith("page=4")
    assert "prev" not in first.links and "first" not in first.links
    middle = client.get(first.links["next"]["url"])
    assert set(middle.links) == {"prev", "next", "last", "first"}

    repos, pages = _follow(client, f"/orgs/{ORG}/repos", {"type": "all", "per_page": 2})
    assert pages == 4
    assert [r["name"] for r in repos] == [f"service-{i}" for i in reversed(range(7))]  # created, desc
    assert {r["full_name"] for r in repos} == {f"{ORG}/service-{i}" for i in range(7)}
    assert [r["archived"] for r in repos].count(True) == 1
    assert all(r["default_branch"] == "main" and r["owner"]["login"] == ORG for r in repos)

    last = client.get(first.links["last"]["url"])
    assert "next" not in last.links and last.links["first"]["url"].endswith("page=1")
    beyond = client.get(f"/orgs/{ORG}/repos", params={"per_page": 2, "page": 9})
    assert beyond.status_code == 200 and beyond.json() == []

    by_name, _ = _follow(client, f"/orgs/{ORG}/repos", {"sort": "full_name", "per_page": 3})
    assert [r["name"] for r in by_name] == sorted(r["name"] for r in repos)
    private, _ = _follow(client, f"/orgs/{ORG}/repos", {"type": "private", "per_page": 100})
    assert len(private) == 4 and all(r["private"] for r in private)


def test_org_and_members_two_factor(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.set_org(two_factor_requirement_enabled=False)
    gh.add_member("owner", role="admin")
    for i in range(5):
        gh.add_member(f"dev{i}", two_factor=i != 3)
    org = client.get(f"/orgs/{ORG}").json()
    assert org["login"] == ORG and org["two_factor_requirement_enabled"] is False

    members, pages = _follow(client, f"/orgs/{ORG}/members", {"per_page": 2})
    assert pages == 3 and [m["login"] for m in members] == ["owner", *(f"dev{i}" for i in range(5))]
    without_2fa, _ = _follow(client, f"/orgs/{ORG}/members", {"filter": "2fa_disabled", "per_page": 100})
    assert [m["login"] for m in without_2fa] == ["dev3"]
    admins = client.get(f"/orgs/{ORG}/members", params={"role": "admin"}).json()
    assert [m["login"] for m in admins] == ["owner"]
    bad = client.get(f"/orgs/{ORG}/members", params={"filter": "nope"})
    assert bad.status_code == 422
    assert client.get("/orgs/someone-else").status_code == 404


def test_branch_not_protected_is_404_like_github(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.add_repo("api")
    gh.add_repo("web", default_branch="trunk", branches=["release/v1"])
    gh.set_branch_protection("api", BranchProtection.compliant(contexts=["ci", "lint"]))
    gh.set_branch_protection(
        "web",
        BranchProtection(required_pull_request_reviews=RequiredReviews(0), allow_force_pushes=True),
        branch="release/v1",
    )

    missing = client.get(f"/repos/{ORG}/web/branches/trunk/protection")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "Branch not protected",
        "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
        "status": "404",
    }
    assert client.get(f"/repos/{ORG}/web/branches/nope/protection").json()["message"] == "Branch not found"
    assert client.get(f"/repos/{ORG}/nope/branches/main/protection").json()["message"] == "Not Found"

    api = client.get(f"/repos/{ORG}/api/branches/main/protection").json()
    assert api["required_pull_request_reviews"]["required_approving_review_count"] == 1
    assert api["required_pull_request_reviews"]["dismiss_stale_reviews"] is True
    assert api["enforce_admins"]["enabled"] is True
    assert api["required_status_checks"]["strict"] is True
    assert api["required_status_checks"]["contexts"] == ["ci", "lint"]
    assert api["allow_force_pushes"] == {"enabled": False}
    assert api["allow_deletions"] == {"enabled": False}

    # A branch name with a slash, URL-encoded as Octokit sends it.
    release = client.get(f"/repos/{ORG}/web/branches/release%2Fv1/protection").json()
    assert release["allow_force_pushes"] == {"enabled": True}
    assert "required_status_checks" not in release


def test_rules_for_branch_merge_repo_and_org_rulesets(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.add_repo("api")
    gh.add_repo("legacy")
    repo_id = gh.add_repo_ruleset(
        "api",
        Ruleset(
            "main protection",
            [Rule.pull_request(2, require_code_owner_review=True), Rule.non_fast_forward()],
            bypass_actors=[BypassActor("RepositoryRole", 5, "always")],
        ),
    )
    org_id = gh.add_org_ruleset(
        Ruleset(
            "org baseline",
            [Rule.required_status_checks(["ci"], strict=True), Rule.deletion()],
            repository_exclude=["legacy"],
            bypass_actors=[BypassActor("OrganizationAdmin", None, "pull_request")],
        )
    )
    gh.add_org_ruleset(Ruleset("trial", [Rule.required_linear_history()], enforcement="evaluate"))
    gh.add_repo_ruleset("api", Ruleset("releases", [Rule.deletion()], include=["refs/heads/release/*"]))

    rules, pages = _follow(client, f"/repos/{ORG}/api/rules/branches/main", {"per_page": 1})
    assert pages == 4
    summary = [(r["type"], r["ruleset_source_type"], r["ruleset_source"], r["ruleset_id"]) for r in rules]
    assert summary == [
        ("pull_request", "Repository", f"{ORG}/api", repo_id),
        ("non_fast_forward", "Repository", f"{ORG}/api", repo_id),
        ("required_status_checks", "Organization", ORG, org_id),
        ("deletion", "Organization", ORG, org_id),
    ]
    assert rules[0]["parameters"]["required_approving_review_count"] == 2
    assert rules[0]["parameters"]["dismiss_stale_reviews_on_push"] is True
    assert rules[2]["parameters"]["strict_required_status_checks_policy"] is True
    assert rules[2]["parameters"]["required_status_checks"] == [{"context": "ci"}]

    release = client.get(f"/repos/{ORG}/api/rules/branches/release/v2").json()
    # The org baseline targets ~DEFAULT_BRANCH only; "releases" targets refs/heads/release/*.
    assert [(r["type"], r["ruleset_source_type"]) for r in release] == [("deletion", "Repository")]
    assert client.get(f"/repos/{ORG}/legacy/rules/branches/main").json() == []

    listed = client.get(f"/repos/{ORG}/api/rulesets").json()
    assert {r["id"] for r in listed} >= {repo_id, org_id}
    assert "bypass_actors" not in listed[0]
    only_repo = client.get(f"/repos/{ORG}/api/rulesets", params={"includes_parents": "false"}).json()
    assert all(r["source_type"] == "Repository" for r in only_repo)

    detail = client.get(f"/repos/{ORG}/api/rulesets/{repo_id}").json()
    assert detail["bypass_actors"] == [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    assert detail["conditions"] == {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}}
    org_detail = client.get(f"/orgs/{ORG}/rulesets/{org_id}").json()
    assert org_detail["bypass_actors"][0]["actor_type"] == "OrganizationAdmin"
    assert org_detail["conditions"]["repository_name"]["exclude"] == ["legacy"]
    assert [r["name"] for r in client.get(f"/orgs/{ORG}/rulesets").json()] == ["org baseline", "trial"]
    assert client.get(f"/orgs/{ORG}/rulesets/999999").status_code == 404


def test_pulls_and_reviews(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.add_repo("api")
    gh.add_member("alice")
    gh.add_member("bob")
    for n in range(1, 8):
        gh.add_pull_request(
            "api", title=f"change {n}", user="alice", merged_at=f"2026-10-{n:02d}T12:00:00Z",
        )
    gh.add_pull_request("api", title="closed unmerged", user="bob", closed_at="2026-10-20T09:00:00Z")
    gh.add_pull_request("api", title="to a branch", user="bob", base="develop",
                        merged_at="2026-10-21T09:00:00Z")
    gh.add_pull_request("api", title="still open", user="bob")
    gh.add_review("api", 1, user="bob", state="CHANGES_REQUESTED")
    gh.add_review("api", 1, user="alice", state="COMMENTED")
    gh.add_review("api", 1, user="bob", state="APPROVED", submitted_at="2026-10-01T11:00:00Z")

    params = {"state": "closed", "base": "main", "sort": "updated", "direction": "desc", "per_page": 3}
    pulls, pages = _follow(client, f"/repos/{ORG}/api/pulls", params)
    assert pages == 3
    assert [p["number"] for p in pulls] == [8, 7, 6, 5, 4, 3, 2, 1]
    merged = [p for p in pulls if p["merged_at"] is not None]
    assert len(merged) == 7 and all(p["merge_commit_sha"] for p in merged)
    assert pulls[0]["merged_at"] is None and pulls[0]["state"] == "closed"
    assert {p["base"]["ref"] for p in pulls} == {"main"}
    assert pulls[-1]["user"]["login"] == "alice" and pulls[-1]["author_association"] == "MEMBER"
    assert [p["title"] for p in client.get(f"/repos/{ORG}/api/pulls").json()] == ["still open"]

    single = client.get(f"/repos/{ORG}/api/pulls/1").json()
    assert single["merged"] is True and single["merged_by"]["login"] == "alice"

    reviews, pages = _follow(client, f"/repos/{ORG}/api/pulls/1/reviews", {"per_page": 1})
    assert pages == 3
    assert [(r["user"]["login"], r["state"]) for r in reviews] == [
        ("bob", "CHANGES_REQUESTED"), ("alice", "COMMENTED"), ("bob", "APPROVED"),
    ]
    assert reviews[2]["submitted_at"] == "2026-10-01T11:00:00Z"
    assert all(r["submitted_at"] < "2026-10-01T12:00:00Z" for r in reviews)
    assert client.get(f"/repos/{ORG}/api/pulls/99/reviews").status_code == 404


def test_rate_limit_exhausted_then_refills_after_reset(
    gh: FakeGitHub, client: httpx.Client, clock: Clock
) -> None:
    ok = client.get(f"/orgs/{ORG}")
    assert ok.headers["X-RateLimit-Limit"] == "5000"
    assert ok.headers["X-RateLimit-Remaining"] == "4999"
    assert ok.headers["X-RateLimit-Used"] == "1"
    assert ok.headers["X-RateLimit-Resource"] == "core"

    gh.set_rate_limit(remaining=2, reset_in=120)
    assert client.get(f"/orgs/{ORG}").headers["X-RateLimit-Remaining"] == "1"
    assert client.get(f"/orgs/{ORG}").headers["X-RateLimit-Remaining"] == "0"
    limited = client.get(f"/orgs/{ORG}/repos")
    assert limited.status_code == 403
    assert limited.json()["message"].startswith("API rate limit exceeded for ")
    assert limited.json()["documentation_url"].startswith("https://docs.github.com/")
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"] == str(math.ceil(START + 120))
    overview = client.get("/rate_limit")  # never counted, still answers
    assert overview.status_code == 200
    assert overview.json()["resources"]["core"]["remaining"] == 0
    assert overview.json()["rate"]["reset"] == math.ceil(START + 120)

    clock.advance(119)
    assert client.get(f"/orgs/{ORG}").status_code == 403
    clock.advance(1)
    refilled = client.get(f"/orgs/{ORG}")
    assert refilled.status_code == 200
    assert refilled.headers["X-RateLimit-Remaining"] == "4999"
    assert int(refilled.headers["X-RateLimit-Reset"]) == math.ceil(START + 120 + 3600)

    gh.set_rate_limit(remaining=0, reset_in=30, status=429)
    assert client.get(f"/orgs/{ORG}").status_code == 429


def test_secondary_rate_limit_has_retry_after(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.inject_secondary_rate_limit(retry_after=7, times=1)
    throttled = client.get(f"/orgs/{ORG}")
    assert throttled.status_code == 403
    assert throttled.headers["Retry-After"] == "7"
    assert int(throttled.headers["X-RateLimit-Remaining"]) > 0
    assert throttled.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert client.get(f"/orgs/{ORG}").status_code == 200


def test_injected_403_on_one_repository(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.add_repo("api")
    gh.add_repo("web")
    gh.set_branch_protection("api", BranchProtection.compliant())
    gh.set_branch_protection("web", BranchProtection.compliant())
    gh.deny_integration_access("web")

    denied = client.get(f"/repos/{ORG}/web/branches/main/protection")
    assert denied.status_code == 403
    assert denied.json() == {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
        "status": "403",
    }
    assert client.get(f"/repos/{ORG}/web/branches/main/protection").status_code == 403  # stays denied
    assert client.get(f"/repos/{ORG}/api/branches/main/protection").status_code == 200
    assert client.get(f"/repos/{ORG}/web/rulesets").status_code == 200

    gh.inject(f"/repos/{ORG}/api/", 502, times=2, headers={"X-Test": "1"})
    assert [client.get(f"/repos/{ORG}/api/rulesets").status_code for _ in range(3)] == [502, 502, 200]
    gh.clear_injections()
    assert client.get(f"/repos/{ORG}/web/branches/main/protection").status_code == 200


def test_bad_token_is_401_and_tokens_are_never_logged(gh: FakeGitHub, client: httpx.Client) -> None:
    wrong = httpx.get(gh.api_url + f"/orgs/{ORG}", headers={"Authorization": "Bearer ghp_wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Bad credentials"
    assert wrong.json()["documentation_url"] == "https://docs.github.com/rest"
    assert "X-RateLimit-Remaining" in wrong.headers
    anonymous = httpx.get(gh.api_url + f"/orgs/{ORG}")
    assert anonymous.status_code == 401 and anonymous.json()["message"] == "Requires authentication"
    classic = httpx.get(gh.api_url + f"/orgs/{ORG}", headers={"Authorization": f"token {gh.token}"})
    assert classic.status_code == 200 and classic.headers["X-OAuth-Scopes"] == "read:org, repo"

    log = gh.requests
    assert [(r.method, r.path, r.status, r.authenticated) for r in log] == [
        ("GET", f"/orgs/{ORG}", 401, False),
        ("GET", f"/orgs/{ORG}", 401, False),
        ("GET", f"/orgs/{ORG}", 200, True),
    ]
    client.get(f"/orgs/{ORG}/repos", params={"type": "all", "per_page": 5})
    assert gh.requests[-1].query == {"type": ["all"], "per_page": ["5"]}
    assert gh.token not in repr(gh.requests) and "ghp_wrong" not in repr(gh.requests)


def test_validator_reports_operation_and_json_path(
    gh: FakeGitHub, client: httpx.Client, spec: OpenAPISpec
) -> None:
    gh.add_repo("api", description=None)  # nullable: fine
    repos = client.get(f"/orgs/{ORG}/repos").json()
    spec.validate_response("GET", f"/orgs/{ORG}/repos", 200, repos)

    broken = copy.deepcopy(repos)
    del broken[0]["owner"]["login"]
    with pytest.raises(ResponseValidationError) as info:
        spec.validate_response("GET", f"/orgs/{ORG}/repos", 200, broken)
    assert info.value.operation_id == "repos/list-for-org"
    assert info.value.json_path == "$[0].owner"
    assert "'login' is a required property" in str(info.value)

    broken = copy.deepcopy(repos)
    broken[0]["name"] = None  # not nullable
    with pytest.raises(AssertionError, match=r"\$\[0\]\.name"):
        spec.validate_response("GET", f"/orgs/{ORG}/repos", 200, broken)
    with pytest.raises(AssertionError, match="no operation"):
        spec.validate_response("GET", "/no/such/endpoint", 200, {})
    # Error bodies of statuses an operation does not document are checked as basic-error.
    spec.validate_response("GET", f"/repos/{ORG}/api/branches/main/protection", 403, {"message": "x"})
    with pytest.raises(AssertionError, match="basic-error"):
        spec.validate_response("GET", f"/repos/{ORG}/api/branches/main/protection", 403, {"message": 1})


def test_find_operation_and_locating_the_document(
    spec: OpenAPISpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    op = spec.find_operation("GET", "/repos/o/r/rulesets/rule-suites")
    assert op is not None and op.template == "/repos/{owner}/{repo}/rulesets/rule-suites"
    op = spec.find_operation("GET", "/repos/o/r/rulesets/42")
    assert op is not None and op.operation_id == "repos/get-repo-ruleset"
    op = spec.find_operation("GET", "/repos/o/r/branches/release/v1/protection")
    assert op is not None and op.operation_id == "repos/get-branch-protection"
    assert spec.find_operation("GET", "/definitely/not/github") is None

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.json"))
    with pytest.raises(OpenAPIDocumentMissing, match=ENV_VAR):
        locate_openapi_document()
    monkeypatch.setenv(ENV_VAR, spec.source)
    assert locate_openapi_document() == Path(spec.source)
