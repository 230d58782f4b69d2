"""A loopback reverse proxy that injects faults between a real client and a fake server.

    with FaultProxy(fake.api_url) as proxy:
        proxy.add("reset", lambda r: r.path.startswith("/orgs/zaptic/repos"), nth=3, times=None)
        ... point the client at proxy.url ...

Each request is forwarded to `upstream` unless a rule takes it: a rule counts the requests its
predicate matches and injects its fault into the `nth` of them and the `times - 1` after it
(`times=None`: every one from the `nth` on). The faults:

- `reset`: the connection is closed with SO_LINGER 0, so the client gets a TCP RST;
- `timeout`: the connection is held without a byte of answer for `hold` seconds (or until the
  proxy stops), longer than the client waits;
- `500`: an HTTP 500 with a small JSON body;
- `truncate`: the upstream's status and headers with the full Content-Length, then half the
  body, then the connection is closed.

Response headers naming the upstream's origin (a `Link` to the next page) are rewritten to name
the proxy, as a reverse proxy does. With `server_tls` the proxy speaks HTTPS to its clients;
with an `https://` upstream it verifies the upstream with `upstream_tls`.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import struct
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self

Fault = Literal["reset", "timeout", "500", "truncate"]
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade", "content-length", "server", "date"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query string
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)


@dataclass
class Rule:
    fault: Fault
    match: Callable[[Request], bool]
    nth: int = 1
    times: int | None = 1
    matched: int = 0
    injected: int = 0

    def take(self, request: Request) -> bool:
        """Whether this request gets the fault (counts it when the predicate matches)."""
        if not self.match(request):
            return False
        self.matched += 1
        if self.matched < self.nth or (self.times is not None and self.injected >= self.times):
            return False
        self.injected += 1
        return True


@dataclass
class FaultProxy:
    upstream: str
    hold: float = 30.0
    server_tls: ssl.SSLContext | None = None
    upstream_tls: ssl.SSLContext | None = None
    #: (method, path, what happened: "forwarded" or the fault), in order
    log: list[tuple[str, str, str]] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _server: _Server | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def add(self, fault: Fault, match: Callable[[Request], bool], *, nth: int = 1, times: int | None = 1) -> Rule:
        rule = Rule(fault, match, nth, times)
        with self._lock:
            self.rules.append(rule)
        return rule

    @property
    def url(self) -> str:
        assert self._server is not None, "FaultProxy not started"
        scheme = "https" if self.server_tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def faults(self, fault: Fault | None = None) -> list[tuple[str, str, str]]:
        with self._lock:
            return [e for e in self.log if e[2] != "forwarded" and (fault is None or e[2] == fault)]

    def __enter__(self) -> Self:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fault-proxy",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopping.set()  # held connections let go
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def _decide(self, request: Request) -> Fault | None:
        with self._lock:
            fault = next((r.fault for r in self.rules if r.take(request)), None)
            self.log.append((request.method, request.path, fault or "forwarded"))
            return fault

    def _forward(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        up = urllib.parse.urlsplit(self.upstream)
        conn: http.client.HTTPConnection = (
            http.client.HTTPSConnection(up.hostname or "", up.port, timeout=30, context=self.upstream_tls)
            if up.scheme == "https" else http.client.HTTPConnection(up.hostname or "", up.port, timeout=30))
        try:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
            conn.request(request.method, request.path, body=request.body or None, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            origin = f"{up.scheme}://{up.netloc}"
            kept = [(k, v.replace(origin, self.url)) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
            return resp.status, kept, body
        finally:
            conn.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a pool of clients connecting at once is not refused

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        tls = self.proxy.server_tls
        if tls is not None:  # the handshake runs in the connection's own thread
            request.settimeout(10)
            try:
                request = tls.wrap_socket(request, server_side=True)
            except OSError:
                return
            request.settimeout(None)
        try:
            super().finish_request(request, client_address)
        except OSError:
            pass  # the client hung up

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up, or a reset connection handled after its reset


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                          self.rfile.read(length) if length else b"")
        proxy = self.server.proxy
        fault = proxy._decide(request)
        if fault == "reset":
            self.close_connection = True
            self.rfile.close()
            self.wfile.close()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if fault == "timeout":
            self.close_connection = True
            proxy._stopping.wait(proxy.hold)
            return
        if fault == "500":
            status, headers, body = 500, [("Content-Type", "application/json")], b'{"message": "injected fault"}'
        else:
            status, headers, body = proxy._forward(request)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if fault == "truncate":
            self.send_header("Connection", "close")
            self.close_connection = True
            body = body[: len(body) // 2]
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
