"""The fake GitHub's in-memory model: organisation members, repositories, branch protection,
rulesets, pull requests and reviews, plus what it records (requests, served payloads) and the
rate-limit budget it keeps. Plain data: no I/O."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

DOCS = "https://docs.github.com/rest"
DOC_PROTECTION = "https://docs.github.com/rest/branches/branch-protection#get-branch-protection"
DOC_RATE_LIMIT = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
DOC_SECONDARY = DOC_RATE_LIMIT + "#about-secondary-rate-limits"
API_VERSION = "2022-11-28"
BASE_TIME = datetime(2020, 1, 6, 9, 0, 0, tzinfo=UTC)

ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
Enforcement = Literal["active", "evaluate", "disabled"]
Timestamp = datetime | str


# --------------------------------------------------------------------------- helpers


def iso_time(value: Timestamp) -> str:
    """A GitHub timestamp (``2026-10-02T10:00:00Z``) from a datetime or an ISO 8601 string."""
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        parsed = value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def fake_sha(*parts: object) -> str:
    return hashlib.sha1(":".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()


def error_body(status: int, message: str, documentation_url: str = DOCS) -> dict[str, Any]:
    return {"message": message, "documentation_url": documentation_url, "status": str(status)}


def _glob(pattern: str) -> re.Pattern[str]:
    """fnmatch as GitHub rulesets use it: ``*`` stays within a path segment, ``**`` spans them."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


# --------------------------------------------------------------------------- model


@dataclass
class Member:
    """An organisation member. ``two_factor`` False puts them in ``filter=2fa_disabled``."""

    login: str
    two_factor: bool = True
    role: Literal["admin", "member"] = "member"


@dataclass
class RequiredReviews:
    """Classic protection's ``required_pull_request_reviews``."""

    required_approving_review_count: int = 1
    dismiss_stale_reviews: bool = False
    require_code_owner_reviews: bool = False
    require_last_push_approval: bool = False
    #: logins in ``bypass_pull_request_allowances.users`` (allowed to bypass the requirement)
    bypass_users: list[str] = field(default_factory=list)


@dataclass
class RequiredStatusChecks:
    """Classic protection's ``required_status_checks`` (``contexts``; ``checks`` is derived)."""

    contexts: list[str] = field(default_factory=list)
    strict: bool = False


@dataclass
class BranchProtection:
    """Classic branch protection. The default instance protects a branch and requires nothing."""

    required_pull_request_reviews: RequiredReviews | None = None
    required_status_checks: RequiredStatusChecks | None = None
    enforce_admins: bool = False
    allow_force_pushes: bool = False
    allow_deletions: bool = False
    required_linear_history: bool = False
    required_conversation_resolution: bool = False
    required_signatures: bool = False
    block_creations: bool = False
    lock_branch: bool = False
    allow_fork_syncing: bool = False

    @classmethod
    def compliant(cls, contexts: Sequence[str] = ("ci",), approvals: int = 1) -> BranchProtection:
        """What CODE-REVIEW and CI-GATE ask for: reviews, stale dismissal, admins, checks."""
        return cls(
            required_pull_request_reviews=RequiredReviews(
                required_approving_review_count=approvals, dismiss_stale_reviews=True
            ),
            required_status_checks=RequiredStatusChecks(contexts=list(contexts), strict=True),
            enforce_admins=True,
        )


@dataclass
class Rule:
    """One ruleset rule: ``type`` and its ``parameters`` exactly as GitHub spells them."""

    type: str
    parameters: dict[str, Any] | None = None

    @classmethod
    def pull_request(
        cls,
        required_approving_review_count: int = 1,
        *,
        dismiss_stale_reviews_on_push: bool = True,
        require_code_owner_review: bool = False,
        require_last_push_approval: bool = False,
        required_review_thread_resolution: bool = False,
        allowed_merge_methods: Sequence[str] = ("merge", "squash", "rebase"),
    ) -> Rule:
        return cls(
            "pull_request",
            {
                "required_approving_review_count": required_approving_review_count,
                "dismiss_stale_reviews_on_push": dismiss_stale_reviews_on_push,
                "require_code_owner_review": require_code_owner_review,
                "require_last_push_approval": require_last_push_approval,
                "required_review_thread_resolution": required_review_thread_resolution,
                "allowed_merge_methods": list(allowed_merge_methods),
            },
        )

    @classmethod
    def required_status_checks(
        cls,
        contexts: Sequence[str] = ("ci",),
        *,
        strict: bool = True,
        integration_id: int | None = None,
        do_not_enforce_on_create: bool = False,
    ) -> Rule:
        checks: list[dict[str, Any]] = []
        for context in contexts:
            check: dict[str, Any] = {"context": context}
            if integration_id is not None:
                check["integration_id"] = integration_id
            checks.append(check)
        return cls(
            "required_status_checks",
            {
                "strict_required_status_checks_policy": strict,
                "do_not_enforce_on_create": do_not_enforce_on_create,
                "required_status_checks": checks,
            },
        )

    @classmethod
    def non_fast_forward(cls) -> Rule:
        return cls("non_fast_forward")

    @classmethod
    def deletion(cls) -> Rule:
        return cls("deletion")

    @classmethod
    def required_linear_history(cls) -> Rule:
        return cls("required_linear_history")

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.parameters is not None:
            out["parameters"] = json.loads(json.dumps(self.parameters))
        return out


@dataclass
class BypassActor:
    """A ruleset bypass actor (``actor_type``: RepositoryRole, Team, Integration, OrganizationAdmin, ...)."""

    actor_type: str
    actor_id: int | None = None
    bypass_mode: Literal["always", "pull_request", "exempt"] = "always"


@dataclass
class Ruleset:
    """A repository or organisation ruleset.

    ``include``/``exclude`` are ref-name conditions (``~DEFAULT_BRANCH``, ``~ALL``,
    ``refs/heads/main``, ``refs/heads/release/*``). ``repository_include``/
    ``repository_exclude`` are used by organisation rulesets only (``~ALL`` or
    name patterns). ``id`` is assigned when the ruleset is added.
    """

    name: str
    rules: list[Rule]
    enforcement: Enforcement = "active"
    target: Literal["branch", "tag", "push"] = "branch"
    include: list[str] = field(default_factory=lambda: ["~DEFAULT_BRANCH"])
    exclude: list[str] = field(default_factory=list)
    bypass_actors: list[BypassActor] = field(default_factory=list)
    repository_include: list[str] = field(default_factory=lambda: ["~ALL"])
    repository_exclude: list[str] = field(default_factory=list)
    id: int = 0
    source_type: Literal["Repository", "Organization"] = "Repository"
    source: str = ""
    created_at: str = ""

    def applies_to_ref(self, branch: str, default_branch: str) -> bool:
        ref = "refs/heads/" + branch
        def hit(pattern: str) -> bool:
            if pattern == "~ALL":
                return True
            if pattern == "~DEFAULT_BRANCH":
                return branch == default_branch
            return bool(_glob(pattern).match(ref) or _glob(pattern).match(branch))
        return any(hit(p) for p in self.include) and not any(hit(p) for p in self.exclude)

    def applies_to_repo(self, name: str) -> bool:
        if self.source_type == "Repository":
            return True
        def hit(pattern: str) -> bool:
            return pattern == "~ALL" or bool(_glob(pattern.lower()).match(name.lower()))
        return any(hit(p) for p in self.repository_include) and not any(
            hit(p) for p in self.repository_exclude
        )


@dataclass
class Review:
    """A pull request review."""

    id: int
    user: str
    state: ReviewState
    submitted_at: str | None
    body: str = ""
    commit_id: str | None = None


@dataclass
class PullRequest:
    """A pull request; ``merged`` is derived from ``merged_at``."""

    number: int
    title: str
    user: str
    base: str
    head: str
    state: Literal["open", "closed"]
    created_at: str
    updated_at: str
    closed_at: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    draft: bool = False
    body: str | None = None
    id: int = 0
    reviews: list[Review] = field(default_factory=list)

    @property
    def merged(self) -> bool:
        return self.merged_at is not None

    @property
    def head_sha(self) -> str:
        return fake_sha("head", self.id, self.head)


@dataclass
class Repository:
    """A repository of the organisation."""

    name: str
    id: int
    default_branch: str = "main"
    archived: bool = False
    private: bool = True
    visibility: Literal["public", "private", "internal"] = "private"
    fork: bool = False
    description: str | None = None
    created_at: str = ""
    branches: set[str] = field(default_factory=set)
    protections: dict[str, BranchProtection] = field(default_factory=dict)
    rulesets: list[Ruleset] = field(default_factory=list)
    pulls: dict[int, PullRequest] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    """One request as the fake saw it. The Authorization value is never kept."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int = 0
    authenticated: bool = False
    #: the request's Accept, X-GitHub-Api-Version and User-Agent headers (never Authorization)
    headers: dict[str, str] = field(default_factory=dict)


class ServedPayload(NamedTuple):
    """One JSON body the fake served: (method, path, status, payload)."""

    method: str
    path: str
    status: int
    payload: Any


@dataclass
class Budget:
    limit: int
    window: float
    remaining: int
    reset_at: float
    exhausted_status: int = 403

    def refresh(self, now: float) -> None:
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = now + self.window

    def headers(self, resource: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
            "X-RateLimit-Used": str(self.limit - self.remaining),
            "X-RateLimit-Resource": resource,
        }

    def payload(self, resource: str) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "reset": math.ceil(self.reset_at),
            "used": self.limit - self.remaining,
            "resource": resource,
        }


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Groups = tuple[str, ...]
Query = dict[str, list[str]]
#: checks one served payload (e.g. against GitHub's OpenAPI description); raises AssertionError
PayloadValidator = Callable[[ServedPayload], None]
