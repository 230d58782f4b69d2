"""GitHub's REST API over one `httpx.Client`: headers, pages, rate limits, retries.

`Authorization: Bearer <token>`, `Accept: application/vnd.github+json`,
`X-GitHub-Api-Version: 2022-11-28`; a page's next page is followed through `Link: rel="next"`
only to the configured API's own origin, so the token never travels anywhere else. Requests
are made one at a time, as GitHub asks of integrations.

Waiting and retrying (the policy is tenacity's `Retrying` with an injectable `sleep`; httpx's
own transport retries only cover connection errors, without backoff control):
- primary rate limit: when `X-RateLimit-Remaining` is 0 (before the next call, or on a
  403/429 "API rate limit exceeded") wait until `X-RateLimit-Reset` (+1 s) and retry;
- secondary rate limit: honour `Retry-After` (60 s when GitHub gives none);
- 5xx answers and transport errors: 4 attempts, exponential backoff with jitter;
- at most `MAX_TOTAL_WAIT` (15 min) of waiting in a run: past it the call is recorded as a
  failure whose remedy says when to run again.

The token is sent only in the Authorization header.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from evidence import __version__
from evidence.errortext import plain_error
from evidence.models import CollectionError, iso

#: the collector's logger (its lines read `evidence.collectors.github: ...`, whichever module logs)
log = logging.getLogger("evidence.collectors.github")

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
        return plain_error(response.text[:2000]) if response.text else response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason_phrase
