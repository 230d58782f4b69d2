"""GitHub collector: organisation 2FA, repositories' branch rules, the period's merged PRs.

Talks to the REST API (github.com, or GitHub Enterprise Server / a local fake through
`[github] api_url`) with httpx: one `httpx.Client` per run, `Authorization: Bearer <token>`,
`Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`, pages of 100
followed through `Link: rel="next"` (only to the configured API's own origin, so the token
never travels anywhere else). Requests are made one at a time, as GitHub asks of integrations.

Every call, or page, is an evidence record: source `github`, service `github`, the operation
named after GitHub's REST operation id (`repos/get-branch-protection`, so evidence keys read
`github.repos/get-branch-protection`), account = the organisation, `subject` = `owner/repo`
(`owner/repo#N` for a pull request's own calls). Two answers that are facts, not failures, are
recorded as responses: a 404 "Branch not protected" (or "Branch not found", an empty
repository) becomes `{"protected": false, "status": 404, "message": ...}`, and so does the 403
GitHub gives a plan without branch protection for private repositories.

Waiting and retrying (the policy is tenacity's `Retrying` with an injectable `sleep`; httpx's
own transport retries only cover connection errors, without backoff control):
- primary rate limit: when `X-RateLimit-Remaining` is 0 (before the next call, or on a
  403/429 "API rate limit exceeded") wait until `X-RateLimit-Reset` (+1 s) and retry;
- secondary rate limit: honour `Retry-After` (60 s when GitHub gives none);
- 5xx answers and transport errors: 4 attempts, exponential backoff with jitter;
- at most `MAX_TOTAL_WAIT` (15 min) of waiting in a run: past it the call is recorded as a
  failure whose remedy says when to run again.

The pull-request listing of each repository (`state=closed`, `base=<default branch>`,
`sort=updated`, `direction=desc`) stops paging once a page reaches PRs last updated before
the period (a PR merged in the period was updated at or after its merge). Its records also
carry `period_start`/`period_end`, the window the collector paged back to (not sent to
GitHub), so the check can tell the population from the evidence alone. Each PR merged into
the default branch in the period then gets `pulls/get` (for `merged_by`) and its reviews.

The token is read from the environment variable `[github] token_env` names; it is sent only in
the Authorization header and never recorded, logged or reported.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from evidence import __version__
from evidence.checks.github import merged_in_window, window_bounds
from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.config import Config
from evidence.models import CollectionError, EvidenceRecord, Period, iso, utc_now
from evidence.models import parse_time as parse_ts

log = logging.getLogger(__name__)

SOURCE = "github"
SERVICE = "github"
API_VERSION = "2022-11-28"
PER_PAGE = 100
#: the most time a run spends waiting for rate limits and backoff, in seconds
MAX_TOTAL_WAIT = 15 * 60.0
#: attempts of one call that meets 5xx answers or transport errors
MAX_TRANSIENT_ATTEMPTS = 4
#: attempts of one call that meets rate limits (waits are bounded by MAX_TOTAL_WAIT as well)
MAX_RATE_LIMIT_ATTEMPTS = 10
#: seconds added to X-RateLimit-Reset (clocks differ; the reset is whole seconds)
RESET_MARGIN = 1.0
SECONDARY_DEFAULT_WAIT = 60.0
TIMEOUT = 30.0

_CLASSIC_REPO = "classic: repo"
_FG_METADATA = "fine-grained: Metadata: read"
_FG_ADMIN = "fine-grained: Administration: read"
_FG_PULLS = "fine-grained: Pull requests: read"
#: GitHub shows 2FA settings, members without 2FA and org rulesets to organization owners only
_OWNER = "role: organization owner"

#: evidence key -> the token permissions that call needs (`evidence permissions` prints these):
#: a classic token's scope, a fine-grained token's (or GitHub App's) permission, and the role
#: the token's user needs where the permission alone is not enough
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "github.orgs/get": ("classic: admin:org", _OWNER),  # a fine-grained token needs no permission for it
    "github.orgs/list-members": ("classic: read:org", "fine-grained: Members (organization): read", _OWNER),
    "github.repos/list-for-org": (_CLASSIC_REPO, _FG_METADATA),
    "github.repos/get-branch-protection": (_CLASSIC_REPO, _FG_ADMIN),
    "github.repos/get-branch-rules": (_CLASSIC_REPO, _FG_METADATA),
    "github.repos/get-repo-ruleset": (_CLASSIC_REPO, _FG_ADMIN),
    "github.repos/get-org-ruleset": ("classic: read:org", "fine-grained: Administration (organization): read",
                                     _OWNER),
    "github.pulls/list": (_CLASSIC_REPO, _FG_PULLS),
    "github.pulls/get": (_CLASSIC_REPO, _FG_PULLS),
    "github.pulls/list-reviews": (_CLASSIC_REPO, _FG_PULLS),
}

_TOKEN_KINDS = (
    ("github_pat_", "fine-grained personal access token"),
    ("ghp_", "classic personal access token"),
    ("ghs_", "GitHub App installation token"),
    ("gho_", "OAuth token"),
    ("ghu_", "GitHub App user token"),
)


def token_kind(token: str) -> str:
    """What kind of token this is, from its documented prefix (never the token itself)."""
    for prefix, kind in _TOKEN_KINDS:
        if token.startswith(prefix):
            return kind
    return "token"


def needs(key: str) -> str:
    return " / ".join(PERMISSIONS.get(key, ()))


def remedy_for(key: str, status: int, message: str, token_env: str) -> str:
    """What to do about a failed call, naming the permission the call needs."""
    perms = needs(key)
    lowered = message.lower()
    if status == 401:
        return f"the token in ${token_env} is invalid, expired or revoked: create a new one ({perms})"
    if status == 403 and "saml" in lowered:
        return "authorize the token for the organization's SAML single sign-on, then grant " + perms
    if status == 403:
        return f"grant the token {perms} (see `evidence permissions --source github`)"
    if status == 404 and key == "github.repos/get-branch-protection":
        return f"GitHub answers 404 when the token may not read branch protection: grant {perms} (repository admin)"
    if status == 404:
        return f"GitHub answers 404 when the token cannot see the resource: give it access and {perms}"
    if status == 422 and key == "github.orgs/list-members":
        return "the 2fa_disabled filter is only available to organization owners: use an owner's token with " + perms
    return f"see GitHub's message; the call needs {perms}"


# --------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    """One answer: its status and JSON body, the next page's URL, or why there is none."""

    status: int
    body: Any
    next_url: str | None = None
    #: set when no usable answer came (rate limit past the cap, 5xx, transport error)
    error: CollectionError | None = None

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message") or "")
        return ""


class _Retryable(Exception):
    """An attempt worth repeating after `wait` seconds (None: exponential backoff)."""

    def __init__(self, kind: str, wait: float | None, error: CollectionError) -> None:
        super().__init__(error.message)
        self.kind = kind
        self.wait = wait
        self.error = error


def _retryable(rs: RetryCallState) -> _Retryable:
    exc = rs.outcome.exception() if rs.outcome is not None else None
    assert isinstance(exc, _Retryable)
    return exc


class GitHubApi:
    """GitHub's REST API over one `httpx.Client`, with rate limits, retries and a waiting cap."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str], None] | None = None,
        max_total_wait: float = MAX_TOTAL_WAIT,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._clock = clock
        self._sleep = sleep
        self._on_wait = on_wait
        self.max_total_wait = max_total_wait
        self.waited = 0.0
        self.scopes: str | None = None
        self._remaining: int | None = None
        self._reset_at = 0.0
        self._origin = self._origin_of(httpx.URL(self.api_url))
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"evidence/{__version__}",
            },
            timeout=TIMEOUT,
            follow_redirects=True,  # httpx drops Authorization when a redirect leaves the origin
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubApi:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @staticmethod
    def _origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
        return url.scheme, url.host, url.port

    # -- waiting ---------------------------------------------------------------

    def _wait(self, rs: RetryCallState) -> float:
        exc = _retryable(rs)
        if exc.wait is not None:
            return max(0.0, exc.wait)
        return float(wait_exponential_jitter(initial=1, max=30, jitter=1)(rs))

    def _do_sleep(self, seconds: float) -> None:
        self.waited += seconds
        if self._on_wait is not None:
            self._on_wait(f"github: waiting {seconds:.0f}s (rate limit or retry)")
        log.info("github: waiting %.1f s before retrying", seconds)
        self._sleep(seconds)

    def _rate_limited(self, response: httpx.Response) -> _Retryable | None:
        if response.status_code not in (403, 429):
            return None
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            try:
                wait = max(1.0, float(retry_after))
            except ValueError:
                wait = SECONDARY_DEFAULT_WAIT
            return _Retryable(
                "secondary",
                wait,
                CollectionError(code="SecondaryRateLimit", message=message or "secondary rate limit"),
            )
        if response.headers.get("X-RateLimit-Remaining") == "0":
            reset = self._int_header(response, "X-RateLimit-Reset")
            wait = (reset - self._clock() if reset is not None else SECONDARY_DEFAULT_WAIT) + RESET_MARGIN
            until = f" until {iso(datetime.fromtimestamp(reset, UTC))}" if reset is not None else ""
            return _Retryable(
                "rate_limit",
                wait,
                CollectionError(code="RateLimited", message=f"GitHub's rate limit is exhausted{until}"),
            )
        if "secondary rate limit" in message.lower():
            return _Retryable("secondary", SECONDARY_DEFAULT_WAIT, CollectionError(code="SecondaryRateLimit",
                                                                                  message=message))
        if "rate limit" in message.lower():
            return _Retryable("rate_limit", SECONDARY_DEFAULT_WAIT, CollectionError(code="RateLimited",
                                                                                   message=message))
        return None

    @staticmethod
    def _int_header(response: httpx.Response, name: str) -> int | None:
        try:
            return int(response.headers[name])
        except (KeyError, ValueError):
            return None

    def _observe(self, response: httpx.Response) -> None:
        remaining = self._int_header(response, "X-RateLimit-Remaining")
        reset = self._int_header(response, "X-RateLimit-Reset")
        if remaining is not None:
            self._remaining = remaining
            self._reset_at = float(reset) if reset is not None else 0.0
        if self.scopes is None and "X-OAuth-Scopes" in response.headers:
            self.scopes = response.headers["X-OAuth-Scopes"]

    def _attempt(self, url: str, params: Mapping[str, Any] | None) -> httpx.Response:
        now = self._clock()
        if self._remaining == 0 and self._reset_at > now:
            until = iso(datetime.fromtimestamp(self._reset_at, UTC))
            raise _Retryable(
                "rate_limit",
                self._reset_at - now + RESET_MARGIN,
                CollectionError(code="RateLimited", message=f"GitHub's rate limit is exhausted until {until}"),
            )
        try:
            response = self._http.get(url, params=dict(params) if params else None)
        except httpx.TransportError as exc:
            raise _Retryable(
                "transport",
                None,
                CollectionError(code=type(exc).__name__, message=str(exc) or type(exc).__name__),
            ) from None
        self._observe(response)
        limited = self._rate_limited(response)
        if limited is not None:
            raise limited
        if response.status_code >= 500:
            raise _Retryable(
                "server",
                None,
                CollectionError(code=f"HTTP {response.status_code}", message=_message_of(response)),
            )
        return response

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Reply:
        """GET a path of the API (or a next-page URL); waits and retries as the module says."""
        counts = {"transient": 0, "limit": 0}
        stopped = {"cap": False}

        def stop(rs: RetryCallState) -> bool:
            exc = _retryable(rs)
            kind = "transient" if exc.kind in ("server", "transport") else "limit"
            counts[kind] += 1
            limit = MAX_TRANSIENT_ATTEMPTS if kind == "transient" else MAX_RATE_LIMIT_ATTEMPTS
            if counts[kind] >= limit:
                return True
            if self.waited + rs.upcoming_sleep > self.max_total_wait:
                stopped["cap"] = True
                return True
            return False

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            wait=self._wait,
            stop=stop,
            sleep=self._do_sleep,
            reraise=True,
        )
        try:
            response = retrying(self._attempt, url, params)
        except _Retryable as exc:
            return Reply(0, None, error=self._final_error(exc, counts, stopped["cap"]))
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = {"message": response.text[:200]}
        next_url = response.links.get("next", {}).get("url")
        if next_url is not None and self._origin_of(httpx.URL(next_url)) != self._origin:
            return Reply(
                response.status_code,
                body,
                error=CollectionError(
                    code="ForeignNextPage",
                    message="the next page's Link points outside the configured API; not followed",
                    remedy="check [github] api_url (and any proxy in front of GitHub); the token is only "
                    "ever sent to api_url",
                ),
            )
        return Reply(response.status_code, body, next_url)

    def _final_error(self, exc: _Retryable, counts: Mapping[str, int], capped: bool) -> CollectionError:
        cap = f"{self.max_total_wait / 60:.0f} minutes"
        if exc.kind in ("rate_limit", "secondary"):
            if capped:
                remedy = (
                    f"waiting more would pass the cap of {cap} of waiting per run; run again after the reset "
                    "(or use a GitHub App installation token, whose rate limit is higher)"
                )
            else:
                remedy = f"GitHub kept answering rate limited after {counts['limit']} attempts; run again later"
            return exc.error.model_copy(update={"remedy": remedy})
        if exc.kind == "transport":
            return exc.error.model_copy(
                update={"remedy": f"could not reach {self.api_url} after {counts['transient']} attempts: check "
                        "[github] api_url and the network"}
            )
        return exc.error.model_copy(
            update={"remedy": f"GitHub failed {counts['transient']} times in a row; run again later "
                    "(see https://www.githubstatus.com)"}
        )


def _message_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason_phrase


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


# --------------------------------------------------------------------------- the collector


class GitHubCollector(Collector):
    """Collects the evidence behind CODE-REVIEW, CI-GATE and CODEHOST-MFA from one organisation."""

    source: ClassVar[str] = SOURCE
    description: ClassVar[str] = (
        "GitHub organisation: 2FA, every repository's effective default-branch rules (classic protection "
        "and rulesets), the period's merged pull requests and their reviews"
    )
    permission_kind: ClassVar[str] = "token permission"
    permissions: ClassVar[Mapping[str, tuple[str, ...]]] = PERMISSIONS

    def __init__(
        self,
        config: Config,
        period: Period | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_total_wait: float = MAX_TOTAL_WAIT,
    ) -> None:
        super().__init__(config, period)
        self.clock = clock
        self.sleep = sleep
        self.max_total_wait = max_total_wait

    def not_configured(self) -> str | None:
        if self.config.github is None:
            return "no [github] section in the configuration"
        return None

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        cfg = self.config.github
        if cfg is None:
            raise CollectorFailure(
                "NotConfigured", "no [github] section in the configuration", "add [github] org and token_env"
            )
        token = os.environ.get(cfg.token_env, "").strip()
        if not token:
            raise CollectorFailure(
                "MissingToken",
                f"environment variable {cfg.token_env} (named by [github] token_env) is not set or empty",
                f"export {cfg.token_env} with a GitHub token that has the permissions "
                "`evidence permissions --source github` lists",
                user_error=True,
            )
        with GitHubApi(
            cfg.api_url,
            token,
            clock=self.clock,
            sleep=self.sleep,
            on_wait=sink.progress,
            max_total_wait=self.max_total_wait,
        ) as api:
            _Run(self, sink, api, wanted, cfg.org, cfg.token_env, token_kind(token)).run()


@dataclass
class _Repo:
    owner: str
    name: str
    default_branch: str
    archived: bool

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class _Run:
    """One collection: the calls, in order, each recorded."""

    def __init__(
        self,
        collector: GitHubCollector,
        sink: Sink,
        api: GitHubApi,
        wanted: frozenset[str],
        org: str,
        token_env: str,
        kind: str,
    ) -> None:
        self.collector = collector
        self.sink = sink
        self.api = api
        self.wanted = wanted
        self.org = org
        self.token_env = token_env
        self.kind = kind
        self.org_rulesets: set[int] = set()
        self.repo_rulesets: set[int] = set()

    @property
    def identity(self) -> str:
        scopes = f"; scopes: {self.api.scopes}" if self.api.scopes is not None else ""
        return f"${self.token_env} ({self.kind}{scopes})"

    def want(self, *keys: str) -> bool:
        return any(f"{SERVICE}.{k}" in self.wanted for k in keys)

    # -- recording -------------------------------------------------------------

    def record(self, op: str, params: Mapping[str, Any], subject: str, response: Any) -> None:
        self.sink.record(
            EvidenceRecord(
                source=SOURCE,
                service=SERVICE,
                operation=op,
                parameters=dict(params),
                account=self.org,
                identity=self.identity,
                subject=subject,
                collected_at=iso(utc_now()),
                response=response,
            )
        )

    def fail(self, op: str, params: Mapping[str, Any], subject: str, error: CollectionError) -> None:
        log.warning("github %s %s failed: %s %s", op, subject, error.code, error.message)
        self.sink.record(
            EvidenceRecord(
                source=SOURCE,
                service=SERVICE,
                operation=op,
                parameters=dict(params),
                account=self.org,
                identity=self.identity,
                subject=subject,
                collected_at=iso(utc_now()),
                error=error,
            )
        )

    def error_of(self, op: str, reply: Reply) -> CollectionError:
        if reply.error is not None:
            return reply.error
        key = f"{SERVICE}.{op}"
        if reply.status == 401:
            raise CollectorFailure(
                "HTTP 401",
                f"GitHub rejected the token in {self.token_env}: {reply.message or 'Bad credentials'}",
                remedy_for(key, 401, reply.message, self.token_env),
                user_error=True,
            )
        return CollectionError(
            code=f"HTTP {reply.status}",
            message=reply.message or f"HTTP {reply.status}",
            remedy=remedy_for(key, reply.status, reply.message, self.token_env),
        )

    def call(self, op: str, path: str, params: Mapping[str, Any], subject: str,
             query: Mapping[str, Any] | None = None) -> Reply | None:
        """One call; its reply when it succeeded (recorded), else None (the failure recorded)."""
        reply = self.api.get(path, query)
        if reply.error is None and 200 <= reply.status < 300:
            self.record(op, params, subject, reply.body)
            return reply
        self.fail(op, params, subject, self.error_of(op, reply))
        return None

    def pages(self, op: str, path: str, params: Mapping[str, Any], subject: str,
              query: Mapping[str, Any]) -> Iterator[list[Any]]:
        """Every page of a listing, each recorded as it arrives; stops at a failure (recorded)."""
        url: str | None = path
        page = 1
        args: Mapping[str, Any] | None = {**query, "per_page": PER_PAGE}
        while url is not None:
            reply = self.api.get(url, args)
            recorded = {**params, "per_page": PER_PAGE, "page": page}
            if not 200 <= reply.status < 300:  # includes no answer at all (status 0, error set)
                self.fail(op, recorded, subject, self.error_of(op, reply))
                return
            items = reply.body if isinstance(reply.body, list) else []
            self.record(op, recorded, subject, reply.body)
            if reply.error is not None:  # a foreign next link: this page is kept, the rest is a failure
                self.fail(op, {**params, "per_page": PER_PAGE, "page": page + 1}, subject, reply.error)
                yield items
                return
            yield items
            url, args, page = reply.next_url, None, page + 1

    # -- the collection --------------------------------------------------------

    def run(self) -> None:
        org = self.org
        if self.want("orgs/get"):
            self.sink.progress(f"github: organization {org}")
            self.call("orgs/get", f"/orgs/{_q(org)}", {"org": org}, org)
        if self.want("orgs/list-members"):
            for filter_ in ("all", "2fa_disabled"):
                for _ in self.pages("orgs/list-members", f"/orgs/{_q(org)}/members",
                                    {"org": org, "filter": filter_}, org, {"filter": filter_}):
                    pass
        repo_keys = ("repos/list-for-org", "repos/get-branch-protection", "repos/get-branch-rules",
                     "repos/get-repo-ruleset", "repos/get-org-ruleset", "pulls/list", "pulls/get",
                     "pulls/list-reviews")
        if not self.want(*repo_keys):
            return
        repos: list[_Repo] = []
        for page in self.pages("repos/list-for-org", f"/orgs/{_q(org)}/repos", {"org": org, "type": "all"},
                               org, {"type": "all"}):
            for item in page:
                owner = str((item.get("owner") or {}).get("login") or org)
                repos.append(_Repo(owner, str(item["name"]), str(item.get("default_branch") or ""),
                                   bool(item.get("archived"))))
        repos.sort(key=lambda r: r.full_name.lower())
        for n, repo in enumerate(repos, 1):
            self.sink.progress(f"github: {repo.full_name} ({n}/{len(repos)})")
            if not repo.archived and repo.default_branch:
                self.branch(repo)
            if repo.default_branch and self.want("pulls/list", "pulls/get", "pulls/list-reviews"):
                self.pulls(repo)
        if self.want("repos/get-org-ruleset"):
            for rid in sorted(self.org_rulesets):
                self.call("repos/get-org-ruleset", f"/orgs/{_q(org)}/rulesets/{rid}",
                          {"org": org, "ruleset_id": rid}, org)

    def branch(self, repo: _Repo) -> None:
        base = f"/repos/{_q(repo.owner)}/{_q(repo.name)}"
        branch = repo.default_branch
        params = {"owner": repo.owner, "repo": repo.name, "branch": branch}
        if self.want("repos/get-branch-protection"):
            self.protection(repo, f"{base}/branches/{_q(branch)}/protection", params)
        if not self.want("repos/get-branch-rules", "repos/get-repo-ruleset", "repos/get-org-ruleset"):
            return
        parents: dict[int, str] = {}
        for page in self.pages("repos/get-branch-rules", f"{base}/rules/branches/{_q(branch)}", params,
                               repo.full_name, {}):
            for rule in page:
                rid = rule.get("ruleset_id")
                if isinstance(rid, int):
                    kind = str(rule.get("ruleset_source_type") or "")
                    this_org = str(rule.get("ruleset_source") or "").lower() == self.org.lower()
                    parents[rid] = "Organization" if kind == "Organization" and this_org else kind or "Other"
        for rid, kind in sorted(parents.items()):
            if kind == "Organization":
                self.org_rulesets.add(rid)
            elif self.want("repos/get-repo-ruleset"):
                # repository rulesets, and parents other than this organization (enterprise)
                query = {"includes_parents": "true"} if kind != "Repository" else {}
                self.call("repos/get-repo-ruleset", f"{base}/rulesets/{rid}",
                          {"owner": repo.owner, "repo": repo.name, "ruleset_id": rid, **query},
                          repo.full_name, query)

    def protection(self, repo: _Repo, path: str, params: Mapping[str, Any]) -> None:
        op = "repos/get-branch-protection"
        reply = self.api.get(path)
        if reply.error is None and reply.status == 200:
            self.record(op, params, repo.full_name, reply.body)
            return
        message = reply.message
        no_protection = (reply.error is None and reply.status == 404
                         and message in ("Branch not protected", "Branch not found"))
        plan_lacks_it = (reply.error is None and reply.status == 403 and "upgrade to github pro" in message.lower())
        if no_protection or plan_lacks_it:
            # a fact about the branch, not a failure to collect: nothing classic protects it
            self.record(op, params, repo.full_name, {"protected": False, "status": reply.status, "message": message})
            return
        self.fail(op, params, repo.full_name, self.error_of(op, reply))

    def pulls(self, repo: _Repo) -> None:
        period = self.collector.period
        start, _ = window_bounds(period.start, period.end)
        base = f"/repos/{_q(repo.owner)}/{_q(repo.name)}"
        query = {"state": "closed", "base": repo.default_branch, "sort": "updated", "direction": "desc"}
        params = {"owner": repo.owner, "repo": repo.name, **query,
                  "period_start": period.start.isoformat(), "period_end": period.end.isoformat()}
        merged: list[int] = []
        if not self.want("pulls/list"):
            return
        for page in self.pages("pulls/list", f"{base}/pulls", params, repo.full_name, query):
            for pull in page:
                if merged_in_window(pull, period.start, period.end) and \
                        (pull.get("base") or {}).get("ref") == repo.default_branch:
                    merged.append(int(pull["number"]))
            oldest = min((t for p in page if (t := parse_ts(p.get("updated_at"))) is not None), default=None)
            if not page or (oldest is not None and oldest < start):
                break
        for number in sorted(set(merged)):
            subject = f"{repo.full_name}#{number}"
            pr = {"owner": repo.owner, "repo": repo.name, "pull_number": number}
            if self.want("pulls/get"):
                self.call("pulls/get", f"{base}/pulls/{number}", pr, subject)
            if self.want("pulls/list-reviews"):
                for _ in self.pages("pulls/list-reviews", f"{base}/pulls/{number}/reviews", pr, subject, {}):
                    pass
