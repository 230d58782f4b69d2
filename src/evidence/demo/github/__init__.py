"""A loopback-only fake of the GitHub REST API, for ``evidence demo`` and the tests.

It serves the read-only endpoints the GitHub collector uses, with GitHub's paths, query
parameters, pagination (RFC 5988 ``Link`` headers), error bodies and rate-limit headers, from a
small in-memory model seeded through typed methods. Every payload it serves is recorded;
:meth:`FakeGitHub.assert_served_payloads_valid` checks them all with a validator the caller
supplies (the tests build one from GitHub's OpenAPI description, in ``tests/fakes``), so the
demo needs no schema library.

Example::

    with FakeGitHub(org="acme") as gh:
        gh.add_member("alice")
        gh.add_member("bob", two_factor=False)
        gh.add_repo("api")
        gh.set_branch_protection("api", BranchProtection.compliant(contexts=["ci"]))
        pr = gh.add_pull_request("api", title="Fix", user="alice", merged_at="2026-10-02T10:00:00Z")
        gh.add_review("api", pr.number, user="bob", state="APPROVED")
        client = httpx.Client(base_url=gh.api_url, headers={"Authorization": f"Bearer {gh.token}"})

Endpoints (GET only): ``/orgs/{org}``, ``/orgs/{org}/members``, ``/orgs/{org}/repos``,
``/orgs/{org}/rulesets``, ``/orgs/{org}/rulesets/{id}``, ``/repos/{owner}/{repo}``,
``/repos/{owner}/{repo}/branches/{branch}/protection``,
``/repos/{owner}/{repo}/rules/branches/{branch}``, ``/repos/{owner}/{repo}/rulesets``,
``/repos/{owner}/{repo}/rulesets/{id}``, ``/repos/{owner}/{repo}/pulls``,
``/repos/{owner}/{repo}/pulls/{n}``, ``/repos/{owner}/{repo}/pulls/{n}/reviews``, ``/rate_limit``.

Modules: ``model`` (the data), ``state`` (seeding), ``payloads`` and ``change_payloads`` (the
JSON served), ``routes`` (the endpoints), ``server`` (HTTP, authentication, rate limits).
"""

from __future__ import annotations

from evidence.demo.github.model import (
    BranchProtection,
    BypassActor,
    Member,
    PayloadValidator,
    PullRequest,
    RecordedRequest,
    Repository,
    RequiredReviews,
    RequiredStatusChecks,
    Response,
    Review,
    Rule,
    Ruleset,
    ServedPayload,
)
from evidence.demo.github.server import FakeGitHub

__all__ = [
    "BranchProtection",
    "BypassActor",
    "FakeGitHub",
    "Member",
    "PayloadValidator",
    "PullRequest",
    "RecordedRequest",
    "Repository",
    "RequiredReviews",
    "RequiredStatusChecks",
    "Response",
    "Review",
    "Rule",
    "Ruleset",
    "ServedPayload",
]
