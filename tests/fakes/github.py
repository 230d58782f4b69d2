"""The fake GitHub as the tests use it: `evidence.demo.github.FakeGitHub` plus what only tests
need — fault injection (injected answers, rate-limit exhaustion, secondary limits, a GitHub App
denied the Administration permission) and validation of every served payload against GitHub's
OpenAPI description (:mod:`tests.fakes.openapi`, jsonschema)."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from evidence.demo.github import (
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
from evidence.demo.github import FakeGitHub as DemoFakeGitHub
from evidence.demo.github.model import DOC_PROTECTION, DOC_SECONDARY, error_body
from tests.fakes.openapi import OpenAPISpec

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
    "openapi_validator",
]


def openapi_validator(spec: OpenAPISpec) -> PayloadValidator:
    """A payload validator checking each served payload against ``spec``."""

    def check(item: ServedPayload) -> None:
        spec.validate_response(item.method, item.path, item.status, item.payload)

    return check


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


class FakeGitHub(DemoFakeGitHub):
    """The demo's fake GitHub with fault injection; its payloads are validated against GitHub's
    OpenAPI description by :meth:`assert_served_payloads_valid`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._injections: list[_Injection] = []

    # rate limits and injected failures ----------------------------------------

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
            body=error_body(
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
        body = error_body(403, "Resource not accessible by integration", DOC_PROTECTION)
        with self._lock:
            self._injections.append(_Injection(403, times, body, {}, pattern=pattern, method="GET"))

    def clear_injections(self) -> None:
        with self._lock:
            self._injections.clear()

    def _intercept(self, method: str, path: str) -> Response | None:
        for injection in self._injections:
            if injection.matches(method, path):
                if injection.remaining > 0:
                    injection.remaining -= 1
                body = injection.body
                if body is None:
                    body = error_body(injection.status, HTTPStatus(injection.status).phrase)
                return Response(injection.status, json.loads(json.dumps(body)), dict(injection.headers))
        return None

    # schema check ---------------------------------------------------------------

    def assert_served_payloads_valid(self, spec: OpenAPISpec | PayloadValidator | None = None) -> int:
        """Validate every served payload against GitHub's OpenAPI description.

        Raises AssertionError naming the request, the operation and the JSON
        path of the first mismatch. Returns how many payloads were checked.
        ``spec`` defaults to the fake's validator, else :meth:`OpenAPISpec.load`
        (slow: pass one in).
        """
        if isinstance(spec, OpenAPISpec):
            return super().assert_served_payloads_valid(openapi_validator(spec))
        if spec is None and self.validator is None:
            return super().assert_served_payloads_valid(openapi_validator(OpenAPISpec.load()))
        return super().assert_served_payloads_valid(spec)
