"""The fake GitHub's HTTP server: a ``ThreadingHTTPServer`` on 127.0.0.1 that authenticates
each request, keeps the rate-limit budget and headers GitHub sends, dispatches to the
endpoints and records every request and JSON body it serves."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from evidence.demo.github.model import (
    API_VERSION,
    DOC_RATE_LIMIT,
    Budget,
    PayloadValidator,
    RecordedRequest,
    Response,
    ServedPayload,
    error_body,
)
from evidence.demo.github.routes import ROUTES, GitHubRoutes

_KEPT_HEADERS = ("Accept", "X-GitHub-Api-Version", "User-Agent")


class FakeGitHub(GitHubRoutes):
    """A fake GitHub REST API on ``127.0.0.1`` (ephemeral port), one organisation.

    Use it as a context manager or call :meth:`start`/:meth:`stop`. Seed it with
    :meth:`add_member`, :meth:`add_repo`, :meth:`set_branch_protection`,
    :meth:`add_repo_ruleset`, :meth:`add_org_ruleset`, :meth:`add_pull_request`
    and :meth:`add_review` (before or while it runs; it is thread-safe).
    """

    # lifecycle ---------------------------------------------------------------

    def start(self) -> Self:
        """Bind ``127.0.0.1`` on an ephemeral port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeGitHub already started")
        fake: FakeGitHub = self

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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # hooks and checks -----------------------------------------------------------

    def _intercept(self, method: str, path: str) -> Response | None:
        """An answer that replaces the endpoint's for this (authenticated, counted) request, or
        None. The demo answers every request normally; tests override this to inject faults."""
        return None

    def assert_served_payloads_valid(self, validator: PayloadValidator | None = None) -> int:
        """Check every served payload with ``validator`` (default: the one the fake was made
        with). Raises AssertionError naming the payload and the first mismatch; returns how many
        payloads were checked."""
        check = validator if validator is not None else self.validator
        if check is None:
            raise RuntimeError("FakeGitHub has no payload validator: pass one")
        served = self.served
        for index, item in enumerate(served):
            try:
                check(item)
            except AssertionError as exc:
                raise AssertionError(f"served payload #{index}: {exc}") from None
        return len(served)

    # request handling (server threads) -------------------------------------------

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
    ) -> Response:
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
            response: Response
            if problem is not None:
                response = Response(401, error_body(401, problem))
            else:
                record.authenticated = True
                try:
                    response = self._dispatch_authenticated(method, path, query, budget)
                except Exception as exc:  # noqa: BLE001 - a bug in the fake must not look like a reset
                    self.errors.append(exc)
                    response = Response(500, error_body(500, f"fake GitHub failed: {exc!r}"))
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
        self, method: str, path: str, query: dict[str, list[str]], budget: Budget
    ) -> Response:
        counted = path != "/rate_limit"
        if counted:
            if budget.remaining <= 0:
                return Response(
                    budget.exhausted_status,
                    error_body(
                        budget.exhausted_status,
                        f"API rate limit exceeded for user ID {self.user_id}. If you reach out to GitHub "
                        "Support for help, please include the request ID FAKE:0000:0000.",
                        DOC_RATE_LIMIT,
                    ),
                )
            budget.remaining -= 1
        intercepted = self._intercept(method, path)
        if intercepted is not None:
            return intercepted
        if method != "GET":
            return self._not_found()
        for regex, handler in ROUTES:
            match = regex.match(path)
            if match is not None:
                groups = tuple(urllib.parse.unquote(g) for g in match.groups())
                return handler(self, groups, query, path)
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
