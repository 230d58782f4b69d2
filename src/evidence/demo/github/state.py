"""The fake GitHub's state and how tests and the demo seed it: the organisation, its members,
repositories, branch protection, rulesets, pull requests and reviews (thread-safe; before or
while the server runs), and the rate-limit budgets."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Literal

from evidence.demo.github.model import (
    BASE_TIME,
    BranchProtection,
    Budget,
    Member,
    PayloadValidator,
    PullRequest,
    RecordedRequest,
    Repository,
    Review,
    ReviewState,
    Ruleset,
    ServedPayload,
    Timestamp,
    fake_sha,
    iso_time,
    parse_time,
)


class GitHubState:
    """One organisation's state on the fake GitHub; :class:`FakeGitHub` serves it.

    ``validator`` (optional) checks each served payload when
    :meth:`FakeGitHub.assert_served_payloads_valid` is called (the tests pass one built from
    GitHub's OpenAPI description; the demo passes none).
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
        validator: PayloadValidator | None = None,
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
        self.validator = validator
        self.members: dict[str, Member] = {}
        self.repos: dict[str, Repository] = {}
        self.org_rulesets: list[Ruleset] = []
        self._requests: list[RecordedRequest] = []
        self._served: list[ServedPayload] = []
        self.errors: list[BaseException] = []  # exceptions raised while serving (answered 500)
        self._user_ids: dict[str, int] = {}
        self._next_id = 1
        self._request_counter = 0
        self._lock = threading.RLock()
        self._budgets: dict[str, Budget] = {}
        self._budget_defaults = {"core": (rate_limit, 3600.0), "search": (search_rate_limit, 60.0)}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

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
                created_at=iso_time(created_at) if created_at is not None
                else iso_time(BASE_TIME + timedelta(days=index)),
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
        ruleset.created_at = ruleset.created_at or iso_time(BASE_TIME + timedelta(days=30, hours=ruleset.id))
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
            merged = iso_time(merged_at) if merged_at is not None else None
            closed = iso_time(closed_at) if closed_at is not None else merged
            anchor = parse_time(closed) if closed else datetime.fromtimestamp(self.clock(), UTC)
            created = iso_time(created_at) if created_at is not None else iso_time(anchor - timedelta(days=1))
            updated = iso_time(updated_at) if updated_at is not None else (closed or created)
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
            pull.merge_commit_sha = merge_commit_sha or (fake_sha("merge", pull.id) if merged else None)
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
                submitted: str | None = iso_time(submitted_at)
            elif state == "PENDING":
                submitted = None
            else:
                start = parse_time(pull.created_at) + timedelta(minutes=10 * (len(pull.reviews) + 1))
                end = parse_time(pull.merged_at or pull.closed_at or pull.updated_at)
                submitted = iso_time(min(start, max(end - timedelta(minutes=1), parse_time(pull.created_at))))
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

    # rate limits ---------------------------------------------------------------

    def _budget(self, resource: str) -> Budget:
        budget = self._budgets.get(resource)
        now = self.clock()
        if budget is None:
            limit, window = self._budget_defaults.get(resource, self._budget_defaults["core"])
            budget = Budget(limit=limit, window=window, remaining=limit, reset_at=now + window)
            self._budgets[resource] = budget
        budget.refresh(now)
        return budget
