"""The simulated company's people and code: its Google Workspace users and its GitHub
organisation (members, repositories, protection, pull requests), and the context managers that
serve them on loopback for the demo (a fake Admin SDK with a generated service-account key; a
fake GitHub whose token is put in `EVIDENCE_DEMO_GITHUB_TOKEN` for the demo only)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from evidence.demo.github import (
    BranchProtection,
    BypassActor,
    FakeGitHub,
    RequiredReviews,
    RequiredStatusChecks,
    Rule,
    Ruleset,
)
from evidence.demo.scratch import scratch_dir
from evidence.demo.workspace import NEVER_LOGGED_IN, FakeWorkspace, make_user
from evidence.models import Period

DEMO_WORKSPACE_ADMIN = "it-admin@zaptic.example"


def workspace_users(now: datetime | None = None) -> list[dict[str, Any]]:
    """The simulated company's Google Workspace: most people comply, some do not."""
    now = now or datetime.now(UTC)

    def ago(days: int) -> str:
        return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def person(name: str, unit: str, **overrides: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True, "orgUnitPath": unit,
                                  "creationTime": ago(600), "lastLoginTime": ago(1), **overrides}
        return make_user(f"{name}@zaptic.example", **fields)

    return [
        person("it-admin", "/IT", isAdmin=True),
        person("ceo", "/Leadership", isAdmin=True),
        person("cto", "/Leadership", isAdmin=True, isEnrolledIn2Sv=False, isEnforcedIn2Sv=False),  # admin, no 2SV
        person("helpdesk", "/IT", isDelegatedAdmin=True),
        person("alice", "/Engineering"),
        person("ben", "/Engineering", lastLoginTime=ago(3)),
        person("chloe", "/Engineering"),
        person("dev-contractor", "/Contractors", isEnforcedIn2Sv=False),  # enrolled, not enforced
        person("sam", "/Sales", isEnrolledIn2Sv=False),  # enforced, never enrolled
        person("olivia", "/Sales", lastLoginTime=ago(200)),  # idle for 200 days
        person("new-joiner", "/Engineering", creationTime=ago(3), lastLoginTime=NEVER_LOGGED_IN),
        person("temp-2023", "/Sales", creationTime=ago(400), lastLoginTime=NEVER_LOGGED_IN),  # never used
        person("leaver", "/Engineering", isEnrolledIn2Sv=False, suspended=True, suspensionReason="ADMIN",
               lastLoginTime=ago(150)),
        person("former-ceo", "/Leadership", archived=True, lastLoginTime=ago(700)),
    ]


@contextmanager
def fake_workspace() -> Iterator[dict[str, str]]:
    """A fake Google Workspace on 127.0.0.1 and its service-account key (in a private temporary
    folder, removed afterwards); yields the `[google_workspace]` section that reaches it."""
    with workspace_server() as (section, _):
        yield section


@contextmanager
def workspace_server() -> Iterator[tuple[dict[str, str], FakeWorkspace]]:
    """`fake_workspace`, with the fake itself (to change the company between runs)."""
    with (
        FakeWorkspace(workspace_users(), customer_id="C01zapt1c", page_size=5) as workspace,
        scratch_dir("workspace") as folder,
    ):
        key = folder / "service-account.json"
        key.write_text(json.dumps(workspace.service_account_info()), encoding="utf-8")
        yield {
            "customer_id": "my_customer",
            "credentials_file": str(key),
            "delegated_admin": DEMO_WORKSPACE_ADMIN,
            "api_endpoint": workspace.api_endpoint,
        }, workspace


DEMO_GITHUB_ORG = "zaptic"
DEMO_GITHUB_TOKEN_ENV = "EVIDENCE_DEMO_GITHUB_TOKEN"


def seed_github(gh: FakeGitHub, period: Period, now: datetime | None = None) -> None:
    """The simulated GitHub organisation: some repositories protected (classically or by an
    organisation ruleset), some not; pull requests merged in `period` with and without a peer's
    approval; 2FA not required and one member without it."""
    now = now or datetime.now(UTC)
    start = datetime(period.start.year, period.start.month, period.start.day, 9, tzinfo=UTC)

    def at(days: int, hours: int = 0) -> datetime:
        """`days` into the period, but never in the future (the demo may run on its first day)."""
        return max(start, min(start + timedelta(days=days, hours=hours), now - timedelta(minutes=5)))

    gh.set_org(two_factor_requirement_enabled=False)
    gh.add_member("amelia", role="admin")
    for login in ("ben", "chloe", "dmitri"):
        gh.add_member(login)
    gh.add_member("ext-contractor", two_factor=False)

    gh.add_repo("platform-api", description="Public API")
    gh.set_branch_protection("platform-api", BranchProtection.compliant(contexts=["ci/tests", "ci/lint"]))
    gh.add_repo("web-app", description="Customer web application")  # protected by the org ruleset only
    gh.add_org_ruleset(Ruleset("production-baseline", [
        Rule.pull_request(1), Rule.required_status_checks(["ci/tests"], strict=True),
        Rule.non_fast_forward(), Rule.deletion(),
    ], repository_include=["web-app"]))
    gh.add_repo("docs", default_branch="trunk")
    gh.set_branch_protection("docs", BranchProtection.compliant(contexts=["build"]))
    gh.add_repo("mobile-app")  # admins exempt, status checks not strict
    gh.set_branch_protection("mobile-app", BranchProtection(
        required_pull_request_reviews=RequiredReviews(1, dismiss_stale_reviews=True),
        required_status_checks=RequiredStatusChecks(["build"], strict=False), enforce_admins=False))
    gh.add_repo("infra-terraform")  # a repository ruleset that administrators may bypass, no checks
    gh.add_repo_ruleset("infra-terraform", Ruleset("main", [
        Rule.pull_request(1), Rule.non_fast_forward(), Rule.deletion(),
    ], bypass_actors=[BypassActor("RepositoryRole", 5, "always")]))
    gh.add_repo("data-scripts")  # nothing protects it
    gh.add_repo("legacy-portal", archived=True)

    def merged(repo: str, title: str, author: str, days: int, approvers: tuple[str, ...] = (),
               merged_by: str | None = None) -> None:
        pr = gh.add_pull_request(repo, title=title, user=author, merged_at=at(days), merged_by=merged_by,
                                 created_at=at(days - 1))
        for reviewer in approvers:
            gh.add_review(repo, pr.number, user=reviewer, state="APPROVED")

    gh.add_pull_request("platform-api", title="Last quarter's change", user="ben",
                        merged_at=start - timedelta(days=20))
    merged("platform-api", "Add rate limiting to login", "ben", 3, ("chloe",))
    merged("platform-api", "Hotfix: rotate session signing key", "amelia", 9, ("amelia",))  # own approval
    merged("platform-api", "Upgrade database driver", "chloe", 15, ("amelia", "ben"))
    merged("web-app", "Fix CSRF token refresh", "chloe", 5)  # merged with no review
    late = gh.add_pull_request("web-app", title="New onboarding flow", user="ben", merged_at=at(20),
                               created_at=at(17))
    gh.add_review("web-app", late.number, user="dmitri", state="CHANGES_REQUESTED")
    gh.add_review("web-app", late.number, user="dmitri", state="APPROVED")
    gh.add_pull_request("web-app", title="Abandoned experiment", user="dmitri", closed_at=at(8))
    merged("data-scripts", "Nightly export script", "dmitri", 11, merged_by="dmitri")


@contextmanager
def fake_github(period: Period) -> Iterator[dict[str, str]]:
    """A fake GitHub REST API on 127.0.0.1 seeded with the simulated organisation, its token in
    `EVIDENCE_DEMO_GITHUB_TOKEN` for the demo only; yields the `[github]` section that reaches it."""
    with FakeGitHub(org=DEMO_GITHUB_ORG) as gh:
        seed_github(gh, period)
        saved = os.environ.get(DEMO_GITHUB_TOKEN_ENV)
        os.environ[DEMO_GITHUB_TOKEN_ENV] = gh.token
        try:
            yield {"org": DEMO_GITHUB_ORG, "token_env": DEMO_GITHUB_TOKEN_ENV, "api_url": gh.api_url}
        finally:
            if saved is None:
                os.environ.pop(DEMO_GITHUB_TOKEN_ENV, None)
            else:
                os.environ[DEMO_GITHUB_TOKEN_ENV] = saved
