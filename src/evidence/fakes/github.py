"""A loopback-only fake of the GitHub REST API, for tests and ``evidence demo``.

It serves the read-only endpoints the GitHub collector uses, with GitHub's
paths, query parameters, pagination (RFC 5988 ``Link`` headers), error bodies
and rate-limit headers, from a small in-memory model seeded through typed
methods. Every payload it serves is recorded, and
:meth:`FakeGitHub.assert_served_payloads_valid` checks them all against
GitHub's own OpenAPI description (see :mod:`evidence.fakes.openapi`), so the
payloads are complete (every required field of ``minimal-repository``,
``pull-request-simple``, ... is present).

Example::

    with FakeGitHub(org="acme") as gh:
        gh.add_member("alice")
        gh.add_member("bob", two_factor=False)
        gh.add_repo("api")
        gh.set_branch_protection("api", BranchProtection.compliant(contexts=["ci"]))
        pr = gh.add_pull_request("api", title="Fix", user="alice", merged_at="2026-10-02T10:00:00Z")
        gh.add_review("api", pr.number, user="bob", state="APPROVED")
        client = httpx.Client(base_url=gh.api_url, headers={"Authorization": f"Bearer {gh.token}"})
        ...
        gh.assert_served_payloads_valid()

Endpoints (GET only): ``/orgs/{org}``, ``/orgs/{org}/members``, ``/orgs/{org}/repos``,
``/orgs/{org}/rulesets``, ``/orgs/{org}/rulesets/{id}``, ``/repos/{owner}/{repo}``,
``/repos/{owner}/{repo}/branches/{branch}/protection``,
``/repos/{owner}/{repo}/rules/branches/{branch}``, ``/repos/{owner}/{repo}/rulesets``,
``/repos/{owner}/{repo}/rulesets/{id}``, ``/repos/{owner}/{repo}/pulls``,
``/repos/{owner}/{repo}/pulls/{n}``, ``/repos/{owner}/{repo}/pulls/{n}/reviews``, ``/rate_limit``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from evidence.fakes.openapi import OpenAPISpec

__all__ = [
    "BranchProtection",
    "BypassActor",
    "FakeGitHub",
    "Member",
    "PullRequest",
    "RecordedRequest",
    "Repository",
    "RequiredReviews",
    "RequiredStatusChecks",
    "Review",
    "Rule",
    "Ruleset",
    "ServedPayload",
]

DOCS = "https://docs.github.com/rest"
DOC_PROTECTION = "https://docs.github.com/rest/branches/branch-protection#get-branch-protection"
DOC_RATE_LIMIT = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
DOC_SECONDARY = DOC_RATE_LIMIT + "#about-secondary-rate-limits"
API_VERSION = "2022-11-28"
_BASE_TIME = datetime(2020, 1, 6, 9, 0, 0, tzinfo=UTC)
_DEFAULT_PER_PAGE = 30
_MAX_PER_PAGE = 100

ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
Enforcement = Literal["active", "evaluate", "disabled"]
Timestamp = datetime | str


# --------------------------------------------------------------------------- helpers


def _iso(value: Timestamp) -> str:
    """A GitHub timestamp (``2026-10-02T10:00:00Z``) from a datetime or an ISO 8601 string."""
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        parsed = value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def _sha(*parts: object) -> str:
    return hashlib.sha1(":".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()


def _error(status: int, message: str, documentation_url: str = DOCS) -> dict[str, Any]:
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
        return _sha("head", self.id, self.head)


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


_KEPT_HEADERS = ("Accept", "X-GitHub-Api-Version", "User-Agent")


class ServedPayload(NamedTuple):
    """One JSON body the fake served: (method, path, status, payload)."""

    method: str
    path: str
    status: int
    payload: Any


@dataclass
class _Injection:
    status: int
    remaining: int  # -1 = forever
    body: Any  # a JSON value; None = GitHub's error body for the status
    headers: dict[str, str]
    path_prefix: str = ""
    pattern: re.Pattern[str] | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.pattern is not None:
            return self.pattern.match(path) is not None
        return path.startswith(self.path_prefix)


@dataclass
class _Budget:
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
class _Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


_Groups = tuple[str, ...]
_Query = dict[str, list[str]]
_Handler = Callable[[_Groups, _Query, str], _Response]


# --------------------------------------------------------------------------- the fake


class FakeGitHub:
    """A fake GitHub REST API on ``127.0.0.1`` (ephemeral port), one organisation.

    Use it as a context manager or call :meth:`start`/:meth:`stop`. Seed it with
    :meth:`add_member`, :meth:`add_repo`, :meth:`set_branch_protection`,
    :meth:`add_repo_ruleset`, :meth:`add_org_ruleset`, :meth:`add_pull_request`
    and :meth:`add_review` (before or while it runs; it is thread-safe).
    """

    def __init__(
        self,
        *,
        org: str = "zaptic",
        token: str | None = None,
        clock: Callable[[], float] = time.time,
        two_factor_requirement_enabled: bool = True,
        html_url: str = "https://github.com",
        scopes: Sequence[str] | None = ("read:org", "repo"),
        rate_limit: int = 5000,
        search_rate_limit: int = 30,
        user_id: int = 4242,
    ) -> None:
        self.org = org
        self.token = token if token is not None else "ghp_fake" + secrets.token_hex(16)
        self.clock = clock
        self.two_factor_requirement_enabled = two_factor_requirement_enabled
        self.viewer_is_owner = True
        self.org_id = 9_100_000 + sum(org.encode()) % 1000
        self.html_url = html_url.rstrip("/")
        self.scopes = tuple(scopes) if scopes is not None else None
        self.user_id = user_id
        self.members: dict[str, Member] = {}
        self.repos: dict[str, Repository] = {}
        self.org_rulesets: list[Ruleset] = []
        self._requests: list[RecordedRequest] = []
        self._served: list[ServedPayload] = []
        self._injections: list[_Injection] = []
        self.errors: list[BaseException] = []  # exceptions raised while serving (answered 500)
        self._user_ids: dict[str, int] = {}
        self._next_id = 1
        self._request_counter = 0
        self._lock = threading.RLock()
        self._budgets: dict[str, _Budget] = {}
        self._budget_defaults = {"core": (rate_limit, 3600.0), "search": (search_rate_limit, 60.0)}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[re.Pattern[str], _Handler]] = [
            (re.compile(r"/orgs/([^/]+)\Z"), self._get_org),
            (re.compile(r"/orgs/([^/]+)/members\Z"), self._list_members),
            (re.compile(r"/orgs/([^/]+)/repos\Z"), self._list_repos),
            (re.compile(r"/orgs/([^/]+)/rulesets\Z"), self._list_org_rulesets),
            (re.compile(r"/orgs/([^/]+)/rulesets/(\d+)\Z"), self._get_org_ruleset),
            (re.compile(r"/repos/([^/]+)/([^/]+)\Z"), self._get_repo),
            (re.compile(r"/repos/([^/]+)/([^/]+)/branches/(.+)/protection\Z"), self._get_protection),
            (re.compile(r"/repos/([^/]+)/([^/]+)/rules/branches/(.+)\Z"), self._get_branch_rules),
            (re.compile(r"/repos/([^/]+)/([^/]+)/rulesets\Z"), self._list_repo_rulesets),
            (re.compile(r"/repos/([^/]+)/([^/]+)/rulesets/(\d+)\Z"), self._get_repo_ruleset),
            (re.compile(r"/repos/([^/]+)/([^/]+)/pulls\Z"), self._list_pulls),
            (re.compile(r"/repos/([^/]+)/([^/]+)/pulls/(\d+)\Z"), self._get_pull),
            (re.compile(r"/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews\Z"), self._list_reviews),
            (re.compile(r"/rate_limit\Z"), self._rate_limit),
        ]

    # lifecycle ---------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Bind ``127.0.0.1`` on an ephemeral port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeGitHub already started")
        fake = self

        class Handler(_RequestHandler):
            github = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-github", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash), the ``[github] api_url`` to configure."""
        if self._server is None:
            raise RuntimeError("FakeGitHub not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def served(self) -> list[ServedPayload]:
        """Every JSON body served, in order, as (method, path, status, payload) (a copy)."""
        with self._lock:
            return list(self._served)

    # seeding -----------------------------------------------------------------

    def _new_id(self) -> int:
        with self._lock:
            ident = self._next_id
            self._next_id += 1
            return ident

    def _user_id_for(self, login: str) -> int:
        with self._lock:
            if login not in self._user_ids:
                self._user_ids[login] = 1000 + len(self._user_ids) * 7 + 1
            return self._user_ids[login]

    def set_org(
        self, *, two_factor_requirement_enabled: bool | None = None, viewer_is_owner: bool | None = None
    ) -> None:
        """Change organisation settings.

        ``viewer_is_owner=False`` answers as GitHub does a token that is not an organisation
        owner's: ``two_factor_requirement_enabled`` is null in ``GET /orgs/{org}``.
        """
        with self._lock:
            if two_factor_requirement_enabled is not None:
                self.two_factor_requirement_enabled = two_factor_requirement_enabled
            if viewer_is_owner is not None:
                self.viewer_is_owner = viewer_is_owner

    def add_member(
        self, login: str, *, two_factor: bool = True, role: Literal["admin", "member"] = "member"
    ) -> Member:
        """Add (or replace) an organisation member."""
        member = Member(login, two_factor=two_factor, role=role)
        with self._lock:
            self._user_id_for(login)
            self.members[login.lower()] = member
        return member

    def add_repo(
        self,
        name: str,
        *,
        default_branch: str = "main",
        archived: bool = False,
        private: bool = True,
        visibility: Literal["public", "private", "internal"] | None = None,
        fork: bool = False,
        description: str | None = None,
        branches: Iterable[str] = (),
        created_at: Timestamp | None = None,
    ) -> Repository:
        """Add a repository (its default branch exists; ``branches`` adds more)."""
        with self._lock:
            index = len(self.repos)
            repo = Repository(
                name=name,
                id=700_000 + self._new_id(),
                default_branch=default_branch,
                archived=archived,
                private=private,
                visibility=visibility or ("private" if private else "public"),
                fork=fork,
                description=description,
                created_at=_iso(created_at) if created_at is not None
                else _iso(_BASE_TIME + timedelta(days=index)),
                branches={default_branch, *branches},
            )
            self.repos[name.lower()] = repo
        return repo

    def _repo(self, name: str) -> Repository:
        repo = self.repos.get(name.lower())
        if repo is None:
            raise KeyError(f"no repository {name!r}; add it with add_repo() first")
        return repo

    def add_branch(self, repo: str, branch: str) -> None:
        """Make ``branch`` exist in ``repo`` (protection of a missing branch is 404 Branch not found)."""
        with self._lock:
            self._repo(repo).branches.add(branch)

    def set_branch_protection(
        self, repo: str, protection: BranchProtection | None, branch: str | None = None
    ) -> None:
        """Set classic protection on ``branch`` (default: the default branch); None removes it."""
        with self._lock:
            target = self._repo(repo)
            name = branch or target.default_branch
            target.branches.add(name)
            if protection is None:
                target.protections.pop(name, None)
            else:
                target.protections[name] = protection

    def _add_ruleset(self, ruleset: Ruleset, source_type: Literal["Repository", "Organization"],
                     source: str) -> Ruleset:
        ruleset.id = ruleset.id or 1_000 + self._new_id()
        ruleset.source_type = source_type
        ruleset.source = source
        ruleset.created_at = ruleset.created_at or _iso(_BASE_TIME + timedelta(days=30, hours=ruleset.id))
        return ruleset

    def add_repo_ruleset(self, repo: str, ruleset: Ruleset) -> int:
        """Add a repository ruleset; returns its id."""
        with self._lock:
            target = self._repo(repo)
            target.rulesets.append(self._add_ruleset(ruleset, "Repository", f"{self.org}/{target.name}"))
            return ruleset.id

    def add_org_ruleset(self, ruleset: Ruleset) -> int:
        """Add an organisation ruleset (applies to repositories matching ``repository_include``)."""
        with self._lock:
            self.org_rulesets.append(self._add_ruleset(ruleset, "Organization", self.org))
            return ruleset.id

    def add_pull_request(
        self,
        repo: str,
        *,
        title: str,
        user: str,
        base: str | None = None,
        number: int | None = None,
        merged_at: Timestamp | None = None,
        closed_at: Timestamp | None = None,
        created_at: Timestamp | None = None,
        updated_at: Timestamp | None = None,
        state: Literal["open", "closed"] | None = None,
        merge_commit_sha: str | None = None,
        merged_by: str | None = None,
        head: str | None = None,
        draft: bool = False,
        body: str | None = None,
    ) -> PullRequest:
        """Add a pull request. A merged one (``merged_at``) is closed at the same instant.

        Defaults: ``base`` the default branch, ``number`` the next free one,
        ``created_at`` a day before it closed (or now, from the clock),
        ``merge_commit_sha`` derived for merged ones, ``merged_by`` the author.
        """
        with self._lock:
            target = self._repo(repo)
            num = number if number is not None else max(target.pulls, default=0) + 1
            if num in target.pulls:
                raise ValueError(f"pull request #{num} already exists in {repo}")
            merged = _iso(merged_at) if merged_at is not None else None
            closed = _iso(closed_at) if closed_at is not None else merged
            anchor = _parse(closed) if closed else datetime.fromtimestamp(self.clock(), UTC)
            created = _iso(created_at) if created_at is not None else _iso(anchor - timedelta(days=1))
            updated = _iso(updated_at) if updated_at is not None else (closed or created)
            pull = PullRequest(
                number=num,
                title=title,
                user=user,
                base=base or target.default_branch,
                head=head or f"{user}/change-{num}",
                state=state or ("closed" if closed else "open"),
                created_at=created,
                updated_at=updated,
                closed_at=closed,
                merged_at=merged,
                merged_by=(merged_by or user) if merged else None,
                draft=draft,
                body=body,
                id=2_000_000 + self._new_id(),
            )
            pull.merge_commit_sha = merge_commit_sha or (_sha("merge", pull.id) if merged else None)
            self._user_id_for(user)
            target.pulls[num] = pull
            return pull

    def add_review(
        self,
        repo: str,
        number: int,
        *,
        user: str,
        state: ReviewState = "APPROVED",
        submitted_at: Timestamp | None = None,
        body: str = "",
        commit_id: str | None = None,
    ) -> Review:
        """Add a review to pull request ``number`` (``submitted_at`` defaults to just before merge)."""
        with self._lock:
            pull = self._repo(repo).pulls.get(number)
            if pull is None:
                raise KeyError(f"no pull request #{number} in {repo}")
            if submitted_at is not None:
                submitted: str | None = _iso(submitted_at)
            elif state == "PENDING":
                submitted = None
            else:
                start = _parse(pull.created_at) + timedelta(minutes=10 * (len(pull.reviews) + 1))
                end = _parse(pull.merged_at or pull.closed_at or pull.updated_at)
                submitted = _iso(min(start, max(end - timedelta(minutes=1), _parse(pull.created_at))))
            review = Review(
                id=3_000_000 + self._new_id(),
                user=user,
                state=state,
                submitted_at=submitted,
                body=body,
                commit_id=commit_id or pull.head_sha,
            )
            self._user_id_for(user)
            pull.reviews.append(review)
            return review

    # rate limits and injected failures ----------------------------------------

    def _budget(self, resource: str) -> _Budget:
        budget = self._budgets.get(resource)
        now = self.clock()
        if budget is None:
            limit, window = self._budget_defaults.get(resource, self._budget_defaults["core"])
            budget = _Budget(limit=limit, window=window, remaining=limit, reset_at=now + window)
            self._budgets[resource] = budget
        budget.refresh(now)
        return budget

    def set_rate_limit(
        self,
        remaining: int,
        reset_in: float,
        *,
        limit: int | None = None,
        resource: Literal["core", "search"] = "core",
        status: Literal[403, 429] = 403,
    ) -> None:
        """Set the primary budget: ``remaining`` calls until ``clock() + reset_in``, then it refills.

        With ``remaining=0`` every counted request answers ``status`` (GitHub
        uses 403, sometimes 429) "API rate limit exceeded ..." until the reset.
        """
        with self._lock:
            budget = self._budget(resource)
            if limit is not None:
                budget.limit = limit
            budget.remaining = max(0, min(remaining, budget.limit))
            budget.reset_at = self.clock() + reset_in
            budget.exhausted_status = status

    def inject(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with ``status``.

        ``times=-1`` means forever. The default body is GitHub's error body for
        the status; ``body`` may be any JSON value (e.g. a list page with a
        ``Link`` header). Injected answers still carry rate-limit headers and
        count against the budget, as GitHub's do.
        """
        with self._lock:
            self._injections.append(
                _Injection(status, times, body, dict(headers or {}), path_prefix=path_prefix, method=method)
            )

    def inject_secondary_rate_limit(
        self,
        retry_after: int = 60,
        times: int = 1,
        path_prefix: str = "/",
        status: Literal[403, 429] = 403,
    ) -> None:
        """GitHub's secondary (abuse) limit: ``status`` with ``Retry-After`` and remaining > 0."""
        self.inject(
            path_prefix,
            status,
            times,
            body=_error(
                status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                "again. If you reach out to GitHub Support for help, please include the request ID "
                "FAKE:0000:0000.",
                DOC_SECONDARY,
            ),
            headers={"Retry-After": str(retry_after)},
        )

    def deny_integration_access(self, repo: str, branch: str | None = None, times: int = -1) -> None:
        """403 "Resource not accessible by integration" on ``repo``'s branch protection endpoint.

        What a GitHub App without the Administration (read) permission gets.
        ``branch`` None covers every branch of the repository.
        """
        segment = re.escape(urllib.parse.quote(branch, safe="")) if branch is not None else ".+"
        pattern = re.compile(
            rf"/repos/{re.escape(self.org)}/{re.escape(repo)}/branches/{segment}/protection\Z",
            re.IGNORECASE,
        )
        body = _error(403, "Resource not accessible by integration", DOC_PROTECTION)
        with self._lock:
            self._injections.append(_Injection(403, times, body, {}, pattern=pattern, method="GET"))

    def clear_injections(self) -> None:
        with self._lock:
            self._injections.clear()

    # schema check ---------------------------------------------------------------

    def assert_served_payloads_valid(self, spec: OpenAPISpec | None = None) -> int:
        """Validate every served payload against GitHub's OpenAPI description.

        Raises AssertionError naming the request, the operation and the JSON
        path of the first mismatch. Returns how many payloads were checked.
        ``spec`` defaults to :meth:`OpenAPISpec.load` (slow: pass one in).
        """
        from evidence.fakes.openapi import OpenAPISpec

        checker = spec if spec is not None else OpenAPISpec.load()
        served = self.served
        for index, item in enumerate(served):
            try:
                checker.validate_response(item.method, item.path, item.status, item.payload)
            except AssertionError as exc:
                raise AssertionError(f"served payload #{index}: {exc}") from None
        return len(served)

    # URL builders -------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.api_url + path

    def _user(self, login: str, *, org: bool = False) -> dict[str, Any]:
        ident = self.org_id if org else self._user_id_for(login)
        api = self._api("/users/" + login)
        return {
            "login": login,
            "id": ident,
            "node_id": _node_id("Organization" if org else "User", ident),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{ident}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.html_url}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Organization" if org else ("Bot" if login.endswith("[bot]") else "User"),
            "user_view_type": "public",
            "site_admin": False,
        }

    def _org_payload(self) -> dict[str, Any]:
        api = self._api(f"/orgs/{self.org}")
        private = sum(1 for r in self.repos.values() if r.private)
        return {
            "login": self.org,
            "id": self.org_id,
            "node_id": _node_id("Organization", self.org_id),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.org_id}?v=4",
            "description": None,
            "name": self.org,
            # company, location and email: absent (GitHub sends null; the description says string).
            "blog": f"{self.html_url}/{self.org}",
            "twitter_username": None,
            "is_verified": False,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": len(self.repos) - private,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": f"{self.html_url}/{self.org}",
            "created_at": _iso(_BASE_TIME),
            "updated_at": _iso(_BASE_TIME + timedelta(days=365)),
            "archived_at": None,
            "type": "Organization",
            "total_private_repos": private,
            "owned_private_repos": private,
            "private_gists": 0,
            "disk_usage": 1024 * len(self.repos),
            "collaborators": 0,
            "billing_email": None,
            "default_repository_permission": "read",
            "default_repository_branch": "main",
            "members_can_create_repositories": False,
            "two_factor_requirement_enabled": (
                self.two_factor_requirement_enabled if self.viewer_is_owner else None
            ),
            "members_allowed_repository_creation_type": "none",
            "members_can_create_public_repositories": False,
            "members_can_create_private_repositories": False,
            "members_can_create_internal_repositories": False,
            "members_can_create_pages": True,
            "members_can_create_public_pages": True,
            "members_can_create_private_pages": True,
            "members_can_fork_private_repositories": False,
            "web_commit_signoff_required": False,
            "deploy_keys_enabled_for_repositories": False,
            "plan": {
                "name": "team",
                "space": 976562499,
                "private_repos": 999999,
                "filled_seats": len(self.members),
                "seats": max(5, len(self.members)),
            },
        }

    def _repo_payload(
        self, repo: Repository, kind: Literal["minimal", "repository", "full"]
    ) -> dict[str, Any]:
        full_name = f"{self.org}/{repo.name}"
        api = self._api(f"/repos/{full_name}")
        html = f"{self.html_url}/{full_name}"
        host = urllib.parse.urlsplit(self.html_url).netloc or "github.com"
        pushed = max(
            [repo.created_at, *(p.updated_at for p in repo.pulls.values())], key=lambda s: _parse(s)
        )
        open_issues = sum(1 for p in repo.pulls.values() if p.state == "open")
        out: dict[str, Any] = {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": full_name,
            "private": repo.private,
            "owner": self._user(self.org, org=True),
            "html_url": html,
            "description": repo.description,
            "fork": repo.fork,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": repo.created_at,
            "updated_at": pushed,
            "pushed_at": pushed,
            "git_url": f"git://{host}/{full_name}.git",
            "ssh_url": f"git@{host}:{full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 1024,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "Python",
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": repo.archived,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": False,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": repo.visibility,
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
            "permissions": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True},
        }
        if kind != "minimal":
            out.update(
                {
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": False,
                    "delete_branch_on_merge": True,
                    "allow_update_branch": False,
                    "use_squash_pr_title_as_default": False,
                    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                    "squash_merge_commit_message": "COMMIT_MESSAGES",
                    "merge_commit_title": "MERGE_MESSAGE",
                    "merge_commit_message": "PR_TITLE",
                }
            )
        if kind == "full":
            out.update(
                {
                    "network_count": 0,
                    "subscribers_count": 0,
                    "organization": self._user(self.org, org=True),
                }
            )
        return out

    def _protection_payload(self, repo: Repository, branch: str, prot: BranchProtection) -> dict[str, Any]:
        quoted = urllib.parse.quote(branch, safe="")
        url = self._api(f"/repos/{self.org}/{repo.name}/branches/{quoted}/protection")
        out: dict[str, Any] = {"url": url}
        if prot.required_status_checks is not None:
            checks = prot.required_status_checks
            out["required_status_checks"] = {
                "url": f"{url}/required_status_checks",
                "strict": checks.strict,
                "contexts": list(checks.contexts),
                "contexts_url": f"{url}/required_status_checks/contexts",
                "checks": [{"context": c, "app_id": None} for c in checks.contexts],
            }
        if prot.required_pull_request_reviews is not None:
            reviews = prot.required_pull_request_reviews
            out["required_pull_request_reviews"] = {
                "url": f"{url}/required_pull_request_reviews",
                "dismiss_stale_reviews": reviews.dismiss_stale_reviews,
                "require_code_owner_reviews": reviews.require_code_owner_reviews,
                "required_approving_review_count": reviews.required_approving_review_count,
                "require_last_push_approval": reviews.require_last_push_approval,
            }
            if reviews.bypass_users:
                out["required_pull_request_reviews"]["bypass_pull_request_allowances"] = {
                    "users": [self._user(login) for login in reviews.bypass_users],
                    "teams": [],
                    "apps": [],
                }
        out["required_signatures"] = {
            "url": f"{url}/required_signatures",
            "enabled": prot.required_signatures,
        }
        out["enforce_admins"] = {"url": f"{url}/enforce_admins", "enabled": prot.enforce_admins}
        for name in (
            "required_linear_history",
            "allow_force_pushes",
            "allow_deletions",
            "block_creations",
            "required_conversation_resolution",
            "lock_branch",
            "allow_fork_syncing",
        ):
            out[name] = {"enabled": bool(getattr(prot, name))}
        return out

    def _ruleset_payload(self, ruleset: Ruleset, *, detail: bool, repo_level: bool) -> dict[str, Any]:
        if ruleset.source_type == "Organization":
            self_href = self._api(f"/orgs/{self.org}/rulesets/{ruleset.id}")
            html_href = f"{self.html_url}/organizations/{self.org}/settings/rules/{ruleset.id}"
        else:
            self_href = self._api(f"/repos/{ruleset.source}/rulesets/{ruleset.id}")
            html_href = f"{self.html_url}/{ruleset.source}/rules/{ruleset.id}"
        out: dict[str, Any] = {
            "id": ruleset.id,
            "name": ruleset.name,
            "target": ruleset.target,
            "source_type": ruleset.source_type,
            "source": ruleset.source,
            "enforcement": ruleset.enforcement,
            "node_id": _node_id("RepositoryRuleset", ruleset.id),
            "_links": {"self": {"href": self_href}, "html": {"href": html_href}},
            "created_at": ruleset.created_at,
            "updated_at": ruleset.created_at,
        }
        if not detail:
            return out
        conditions: dict[str, Any] = {
            "ref_name": {"include": list(ruleset.include), "exclude": list(ruleset.exclude)}
        }
        if ruleset.source_type == "Organization":
            conditions["repository_name"] = {
                "include": list(ruleset.repository_include),
                "exclude": list(ruleset.repository_exclude),
                "protected": False,
            }
        out["conditions"] = conditions
        out["rules"] = [rule.payload() for rule in ruleset.rules]
        out["bypass_actors"] = [
            {"actor_id": a.actor_id, "actor_type": a.actor_type, "bypass_mode": a.bypass_mode}
            for a in ruleset.bypass_actors
        ]
        if repo_level:
            out["current_user_can_bypass"] = "never"
        return out

    def _pull_payload(self, repo: Repository, pull: PullRequest, *, full: bool) -> dict[str, Any]:
        api = self._api(f"/repos/{self.org}/{repo.name}")
        html = f"{self.html_url}/{self.org}/{repo.name}"
        url = f"{api}/pulls/{pull.number}"
        repo_payload = self._repo_payload(repo, "repository")
        base_sha = _sha("base", repo.id, pull.base, pull.created_at)
        out: dict[str, Any] = {
            "url": url,
            "id": pull.id,
            "node_id": _node_id("PullRequest", pull.id),
            "html_url": f"{html}/pull/{pull.number}",
            "diff_url": f"{html}/pull/{pull.number}.diff",
            "patch_url": f"{html}/pull/{pull.number}.patch",
            "issue_url": f"{api}/issues/{pull.number}",
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self._user(pull.user),
            "body": pull.body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{self.org}:{pull.head}",
                "ref": pull.head,
                "sha": pull.head_sha,
                "user": self._user(self.org, org=True),
                "repo": repo_payload,
            },
            "base": {
                "label": f"{self.org}:{pull.base}",
                "ref": pull.base,
                "sha": base_sha,
                "user": self._user(self.org, org=True),
                "repo": repo_payload,
            },
            "_links": {
                "self": {"href": url},
                "html": {"href": f"{html}/pull/{pull.number}"},
                "issue": {"href": f"{api}/issues/{pull.number}"},
                "comments": {"href": f"{api}/issues/{pull.number}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{api}/statuses/{pull.head_sha}"},
            },
            "author_association": self._association(pull.user),
            "auto_merge": None,
            "draft": pull.draft,
        }
        if full:
            out.update(
                {
                    "merged": pull.merged,
                    "mergeable": None if pull.state == "closed" else True,
                    "rebaseable": None if pull.state == "closed" else True,
                    "mergeable_state": "unknown" if pull.state == "closed" else "clean",
                    "merged_by": self._user(pull.merged_by) if pull.merged_by else None,
                    "comments": 0,
                    "review_comments": 0,
                    "maintainer_can_modify": False,
                    "commits": 1,
                    "additions": 10,
                    "deletions": 2,
                    "changed_files": 1,
                }
            )
        return out

    def _association(self, login: str) -> str:
        member = self.members.get(login.lower())
        if member is None:
            return "CONTRIBUTOR"
        return "OWNER" if member.role == "admin" else "MEMBER"

    def _review_payload(self, repo: Repository, pull: PullRequest, review: Review) -> dict[str, Any]:
        api = self._api(f"/repos/{self.org}/{repo.name}")
        html = f"{self.html_url}/{self.org}/{repo.name}/pull/{pull.number}#pullrequestreview-{review.id}"
        out: dict[str, Any] = {
            "id": review.id,
            "node_id": _node_id("PullRequestReview", review.id),
            "user": self._user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": f"{api}/pulls/{pull.number}",
            "author_association": self._association(review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": f"{api}/pulls/{pull.number}"}},
            "commit_id": review.commit_id,
        }
        if review.submitted_at is not None:
            out["submitted_at"] = review.submitted_at
        return out

    # request handling (server threads) -------------------------------------------

    def _paginate(
        self, items: Sequence[Any], query: dict[str, list[str]], path: str
    ) -> tuple[list[Any], dict[str, str]]:
        def number(name: str, default: int) -> int:
            try:
                return int(query.get(name, [str(default)])[-1])
            except ValueError:
                return default

        per_page = number("per_page", _DEFAULT_PER_PAGE)
        per_page = _DEFAULT_PER_PAGE if per_page < 1 else min(per_page, _MAX_PER_PAGE)
        page = max(1, number("page", 1))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = list(items[(page - 1) * per_page : page * per_page])
        pairs = [(k, v) for k, values in query.items() for v in values if k != "page"]

        def link(target: int) -> str:
            return f"<{self.api_url}{path}?{urllib.parse.urlencode([*pairs, ('page', str(target))])}>"

        rels: list[str] = []
        if page > 1:
            rels.append(f'{link(min(page - 1, last))}; rel="prev"')
        if page < last:
            rels.append(f'{link(page + 1)}; rel="next"')
            rels.append(f'{link(last)}; rel="last"')
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        return chunk, ({"Link": ", ".join(rels)} if rels else {})

    def _not_found(self) -> _Response:
        return _Response(404, _error(404, "Not Found"))

    def _is_org(self, name: str) -> bool:
        return name.lower() == self.org.lower()

    def _find_repo(self, owner: str, name: str) -> Repository | None:
        if not self._is_org(owner):
            return None
        return self.repos.get(name.lower())

    @staticmethod
    def _param(query: dict[str, list[str]], name: str, default: str) -> str:
        values = query.get(name)
        return values[-1] if values else default

    def _invalid(self, field_name: str, value: str, allowed: Sequence[str], doc: str = DOCS) -> _Response:
        return _Response(
            422,
            {
                "message": f"Validation Failed: {field_name} must be one of {', '.join(allowed)}",
                "documentation_url": doc,
                "status": "422",
                "errors": [{"resource": "Request", "field": field_name, "code": "invalid", "value": value}],
            },
        )

    def _get_org(self, groups: _Groups, query: _Query, path: str) -> _Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        return _Response(200, self._org_payload())

    def _list_members(self, groups: _Groups, query: _Query, path: str) -> _Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        filter_ = self._param(query, "filter", "all")
        role = self._param(query, "role", "all")
        if filter_ not in ("all", "2fa_disabled", "2fa_insecure"):
            return self._invalid("filter", filter_, ("2fa_disabled", "2fa_insecure", "all"))
        if role not in ("all", "admin", "member"):
            return self._invalid("role", role, ("all", "admin", "member"))
        members = list(self.members.values())
        if filter_ == "2fa_disabled":
            members = [m for m in members if not m.two_factor]
        elif filter_ == "2fa_insecure":
            members = []
        if role != "all":
            members = [m for m in members if m.role == role]
        members.sort(key=lambda m: self._user_id_for(m.login))
        page, headers = self._paginate(members, query, path)
        return _Response(200, [self._user(m.login) for m in page], headers)

    def _list_repos(self, groups: _Groups, query: _Query, path: str) -> _Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        type_ = self._param(query, "type", "all")
        sort = self._param(query, "sort", "created")
        if type_ not in ("all", "public", "private", "forks", "sources", "member"):
            return self._invalid("type", type_, ("all", "public", "private", "forks", "sources", "member"))
        if sort not in ("created", "updated", "pushed", "full_name"):
            return self._invalid("sort", sort, ("created", "updated", "pushed", "full_name"))
        direction = self._param(query, "direction", "asc" if sort == "full_name" else "desc")
        repos = list(self.repos.values())
        if type_ == "public":
            repos = [r for r in repos if r.visibility == "public"]
        elif type_ == "private":
            repos = [r for r in repos if r.visibility != "public"]
        elif type_ == "forks":
            repos = [r for r in repos if r.fork]
        elif type_ == "sources":
            repos = [r for r in repos if not r.fork]
        payloads = [self._repo_payload(r, "minimal") for r in repos]
        if sort == "full_name":
            payloads.sort(key=lambda p: str(p["full_name"]).lower())
        else:
            field_name = {"created": "created_at", "updated": "updated_at", "pushed": "pushed_at"}[sort]
            payloads.sort(key=lambda p: (_parse(p[field_name]), p["id"]))
        if direction == "desc":
            payloads.reverse()
        page, headers = self._paginate(payloads, query, path)
        return _Response(200, page, headers)

    def _get_repo(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        return _Response(200, self._repo_payload(repo, "full"))

    def _get_protection(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        branch = groups[2]
        if branch not in repo.branches:
            return _Response(404, _error(404, "Branch not found", DOC_PROTECTION))
        protection = repo.protections.get(branch)
        if protection is None:
            return _Response(404, _error(404, "Branch not protected", DOC_PROTECTION))
        return _Response(200, self._protection_payload(repo, branch, protection))

    def _rulesets_for(self, repo: Repository, include_parents: bool) -> list[Ruleset]:
        out = list(repo.rulesets)
        if include_parents:
            out += [r for r in self.org_rulesets if r.applies_to_repo(repo.name)]
        return out

    def _get_branch_rules(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        branch = groups[2]
        rules: list[dict[str, Any]] = []
        for ruleset in self._rulesets_for(repo, include_parents=True):
            if ruleset.enforcement != "active" or ruleset.target != "branch":
                continue
            if not ruleset.applies_to_ref(branch, repo.default_branch):
                continue
            for rule in ruleset.rules:
                rules.append(
                    {
                        **rule.payload(),
                        "ruleset_source_type": ruleset.source_type,
                        "ruleset_source": ruleset.source,
                        "ruleset_id": ruleset.id,
                    }
                )
        page, headers = self._paginate(rules, query, path)
        return _Response(200, page, headers)

    @staticmethod
    def _targets(query: dict[str, list[str]]) -> set[str] | None:
        raw = FakeGitHub._param(query, "targets", "")
        return {t.strip() for t in raw.split(",") if t.strip()} or None

    def _list_repo_rulesets(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        parents = self._param(query, "includes_parents", "true").lower() != "false"
        targets = self._targets(query)
        rulesets = [r for r in self._rulesets_for(repo, parents) if targets is None or r.target in targets]
        page, headers = self._paginate(rulesets, query, path)
        payload = [self._ruleset_payload(r, detail=False, repo_level=True) for r in page]
        return _Response(200, payload, headers)

    def _get_repo_ruleset(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        parents = self._param(query, "includes_parents", "true").lower() != "false"
        for ruleset in self._rulesets_for(repo, parents):
            if ruleset.id == int(groups[2]):
                return _Response(200, self._ruleset_payload(ruleset, detail=True, repo_level=True))
        return self._not_found()

    def _list_org_rulesets(self, groups: _Groups, query: _Query, path: str) -> _Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        targets = self._targets(query)
        rulesets = [r for r in self.org_rulesets if targets is None or r.target in targets]
        page, headers = self._paginate(rulesets, query, path)
        payload = [self._ruleset_payload(r, detail=False, repo_level=False) for r in page]
        return _Response(200, payload, headers)

    def _get_org_ruleset(self, groups: _Groups, query: _Query, path: str) -> _Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        for ruleset in self.org_rulesets:
            if ruleset.id == int(groups[1]):
                return _Response(200, self._ruleset_payload(ruleset, detail=True, repo_level=False))
        return self._not_found()

    def _list_pulls(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        state = self._param(query, "state", "open")
        sort = self._param(query, "sort", "created")
        if state not in ("open", "closed", "all"):
            return self._invalid("state", state, ("open", "closed", "all"))
        if sort not in ("created", "updated", "popularity", "long-running"):
            return self._invalid("sort", sort, ("created", "updated", "popularity", "long-running"))
        direction = self._param(query, "direction", "desc" if sort == "created" else "asc")
        if direction not in ("asc", "desc"):
            return self._invalid("direction", direction, ("asc", "desc"))
        base = self._param(query, "base", "")
        head = self._param(query, "head", "")
        pulls = [p for p in repo.pulls.values() if state == "all" or p.state == state]
        if base:
            pulls = [p for p in pulls if p.base == base]
        if head:
            pulls = [p for p in pulls if f"{self.org}:{p.head}" == head or p.head == head]
        if sort == "updated":
            pulls.sort(key=lambda p: (_parse(p.updated_at), p.number))
        elif sort == "long-running":
            pulls.sort(key=lambda p: (_parse(p.created_at), p.number), reverse=True)
        else:
            pulls.sort(key=lambda p: (_parse(p.created_at), p.number))
        if direction == "desc":
            pulls.reverse()
        page, headers = self._paginate(pulls, query, path)
        return _Response(200, [self._pull_payload(repo, p, full=False) for p in page], headers)

    def _get_pull(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        pull = repo.pulls.get(int(groups[2])) if repo is not None else None
        if repo is None or pull is None:
            return self._not_found()
        return _Response(200, self._pull_payload(repo, pull, full=True))

    def _list_reviews(self, groups: _Groups, query: _Query, path: str) -> _Response:
        repo = self._find_repo(groups[0], groups[1])
        pull = repo.pulls.get(int(groups[2])) if repo is not None else None
        if repo is None or pull is None:
            return self._not_found()
        reviews = sorted(pull.reviews, key=lambda r: r.id)
        page, headers = self._paginate(reviews, query, path)
        return _Response(200, [self._review_payload(repo, pull, r) for r in page], headers)

    def _rate_limit(self, groups: _Groups, query: _Query, path: str) -> _Response:
        resources = {name: self._budget(name).payload(name) for name in ("core", "search")}
        for name, limit in (
            ("graphql", 5000),
            ("integration_manifest", 5000),
            ("code_search", 10),
            ("source_import", 100),
            ("code_scanning_upload", 1000),
            ("actions_runner_registration", 10000),
            ("scim", 15000),
            ("dependency_snapshots", 100),
        ):
            reset = math.ceil(self.clock() + 3600)
            resources[name] = {
                "limit": limit, "remaining": limit, "reset": reset, "used": 0, "resource": name
            }
        return _Response(200, {"resources": resources, "rate": resources["core"]})

    def _authenticate(self, header: str | None) -> str | None:
        """None when authenticated, else the 401 message."""
        if not header:
            return "Requires authentication"
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() in ("bearer", "token") and secrets.compare_digest(
            credential.strip().encode(), self.token.encode()
        ):
            return None
        return "Bad credentials"

    def _handle(
        self,
        method: str,
        raw_target: str,
        authorization: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> _Response:
        url = urllib.parse.urlsplit(raw_target)
        path = url.path
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        kept = {name: headers[name] for name in _KEPT_HEADERS if headers is not None and name in headers}
        with self._lock:
            self._request_counter += 1
            record = RecordedRequest(method, path, query, headers=kept)
            self._requests.append(record)
            resource = "search" if path.startswith("/search/") else "core"
            budget = self._budget(resource)
            problem = self._authenticate(authorization)
            response: _Response
            if problem is not None:
                response = _Response(401, _error(401, problem))
            else:
                record.authenticated = True
                try:
                    response = self._dispatch_authenticated(method, path, query, budget)
                except Exception as exc:  # noqa: BLE001 - a bug in the fake must not look like a reset
                    self.errors.append(exc)
                    response = _Response(500, _error(500, f"fake GitHub failed: {exc!r}"))
                if self.scopes is not None:
                    response.headers.setdefault("X-OAuth-Scopes", ", ".join(self.scopes))
                    response.headers.setdefault("X-Accepted-OAuth-Scopes", "")
            for name, value in budget.headers(resource).items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("X-GitHub-Request-Id", f"FAKE:{self._request_counter:06X}")
            record.status = response.status
            if response.body is not None:
                self._served.append(ServedPayload(method, path, response.status, response.body))
            return response

    def _dispatch_authenticated(
        self, method: str, path: str, query: dict[str, list[str]], budget: _Budget
    ) -> _Response:
        counted = path != "/rate_limit"
        if counted:
            if budget.remaining <= 0:
                return _Response(
                    budget.exhausted_status,
                    _error(
                        budget.exhausted_status,
                        f"API rate limit exceeded for user ID {self.user_id}. If you reach out to GitHub "
                        "Support for help, please include the request ID FAKE:0000:0000.",
                        DOC_RATE_LIMIT,
                    ),
                )
            budget.remaining -= 1
        for injection in self._injections:
            if injection.matches(method, path):
                if injection.remaining > 0:
                    injection.remaining -= 1
                body = injection.body
                if body is None:
                    body = _error(injection.status, HTTPStatus(injection.status).phrase)
                return _Response(injection.status, json.loads(json.dumps(body)), dict(injection.headers))
        if method != "GET":
            return self._not_found()
        for regex, handler in self._routes:
            match = regex.match(path)
            if match is not None:
                groups = tuple(urllib.parse.unquote(g) for g in match.groups())
                return handler(groups, query, path)
        return self._not_found()


class _RequestHandler(BaseHTTPRequestHandler):
    github: FakeGitHub
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._respond()

    def do_POST(self) -> None:
        self._respond()

    def do_PUT(self) -> None:
        self._respond()

    def do_PATCH(self) -> None:
        self._respond()

    def do_DELETE(self) -> None:
        self._respond()

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        response = self.github._handle(
            self.command, self.path, self.headers.get("Authorization"),
            {name: value for name in _KEPT_HEADERS if (value := self.headers.get(name)) is not None},
        )
        data = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-GitHub-Api-Version-Selected", API_VERSION)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
