"""Loopback TLS/HTTP endpoints for ``evidence demo`` and the tests.

A :class:`FakeEndpoint` is a real HTTPS server (``ssl`` + ``http.server`` in a thread, bound to
127.0.0.1; plain HTTP without a certificate) whose behaviour a :class:`Site` describes: the TLS
versions it accepts, the security headers it sends, the cookies it sets and its
``/.well-known/security.txt``. The defaults are a compliant site; every knob can be turned to
make a non-compliant one (accepts TLS 1.0/1.1, no HSTS, an insecure cookie, an expired
security.txt, ...). :func:`demo_endpoints` starts the simulated company's endpoints.

Example::

    ca = CertificateAuthority()
    with FakeEndpoint(ca.issue(["localhost", "127.0.0.1"])) as good:
        good.endpoint   # "127.0.0.1:PORT", for [probes] tls_endpoints
        good.url()      # "https://127.0.0.1:PORT/login", for [probes] urls
        ca.write(tmp / "ca.pem")  # for [probes] ca_file

Nothing here touches anything but loopback.
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cryptography.hazmat.primitives.asymmetric import rsa

from evidence.demo.certificates import LOOPBACK, CertificateAuthority, IssuedCertificate, rsa_key


def security_txt(
    *,
    contact: Sequence[str] = ("mailto:security@example.test",),
    expires: datetime | None = None,
    extra: Sequence[str] = ("Preferred-Languages: en",),
) -> str:
    """An RFC 9116 security.txt; `expires` defaults to 180 days from now (pass a past date for an
    expired one)."""
    when = expires if expires is not None else datetime.now(UTC) + timedelta(days=180)
    lines = ["# security.txt served by a loopback fake"]
    lines += [f"Contact: {c}" for c in contact]
    lines.append(f"Expires: {when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.000Z')}")
    lines += list(extra)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Cookie:
    """A cookie a site sets: `name=value; attributes`. The value stands in for a session secret."""

    name: str
    value: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    attributes: str = "Path=/; Secure; HttpOnly; SameSite=Lax"

    def header(self) -> str:
        return f"{self.name}={self.value}; {self.attributes}" if self.attributes else f"{self.name}={self.value}"


@dataclass
class Site:
    """What a fake endpoint does. The defaults are compliant."""

    min_tls: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    max_tls: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    hsts: str | None = "max-age=31536000; includeSubDomains"
    csp: str | None = "default-src 'self'; frame-ancestors 'none'"
    cookies: list[Cookie] = field(default_factory=lambda: [Cookie("session")])
    #: the body of /.well-known/security.txt; None serves a 404
    security_txt: str | None = field(default_factory=security_txt)
    #: path -> Location of a 302 (the default "/" redirects to the login page)
    redirects: dict[str, str] = field(default_factory=lambda: {"/": "/login"})


def _quiet_context(min_tls: ssl.TLSVersion, max_tls: ssl.TLSVersion, legacy: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        # pinning TLS 1.0/1.1 is deprecated in Python; a fake that accepts them is the point here
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = min_tls
        ctx.maximum_version = max_tls
    if legacy:
        # OpenSSL 3 refuses TLS < 1.2 and RSA < 2048 at its default security level
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: FakeEndpoint, handler: type[BaseHTTPRequestHandler]) -> None:
        self.owner = owner
        super().__init__((LOOPBACK, 0), handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # the TLS handshake runs here, in the connection's own thread, so a slow or failing
        # client never blocks the accept loop
        ctx = self.owner.context
        conn = request
        if ctx is not None:
            request.settimeout(10)
            try:
                conn = ctx.wrap_socket(request, server_side=True)
            except OSError as exc:  # ssl.SSLError is an OSError: a refused version, a reset
                self.owner._saw(None, type(exc).__name__)
                return
            self.owner._saw(conn.version(), None)
        try:
            super().finish_request(conn, client_address)
        except OSError:
            pass  # the client hung up (protocol probes close right after the handshake)
        finally:
            if conn is not request:
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "fake-endpoint"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        site = owner.site
        path = self.path.split("?", 1)[0]
        with owner._lock:
            owner.requests.append(self.path)
        if path == "/.well-known/security.txt":
            if site.security_txt is None:
                self._send(404, b"not found\n", "text/plain; charset=utf-8", cookies=False)
            else:
                self._send(200, site.security_txt.encode(), "text/plain; charset=utf-8", cookies=False)
            return
        if path in site.redirects:
            self._send(302, b"", "text/html; charset=utf-8", location=site.redirects[path])
            return
        body = b"<!doctype html><title>Sign in</title><form method=post><input name=user></form>\n"
        self._send(200, body, "text/html; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str, *, cookies: bool = True,
              location: str | None = None) -> None:
        site = self.server.owner.site
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location is not None:
            self.send_header("Location", location)
        if site.hsts is not None and self.server.owner.context is not None:
            self.send_header("Strict-Transport-Security", site.hsts)
        if site.csp is not None:
            self.send_header("Content-Security-Policy", site.csp)
        if cookies:
            for cookie in site.cookies:
                self.send_header("Set-Cookie", cookie.header())
        self.end_headers()
        self.wfile.write(body)


class FakeEndpoint:
    """A real HTTPS (or, with no certificate, plain HTTP) server on 127.0.0.1."""

    def __init__(self, certificate: IssuedCertificate | None, site: Site | None = None) -> None:
        self.certificate = certificate
        self.site = site or Site()
        self.requests: list[str] = []
        #: TLS versions negotiated, in order (None for a handshake the server refused)
        self.handshakes: list[str | None] = []
        self.handshake_errors: list[str] = []
        self._lock = threading.Lock()
        self.context: ssl.SSLContext | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _saw(self, version: str | None, error: str | None) -> None:
        with self._lock:
            self.handshakes.append(version)
            if error is not None:
                self.handshake_errors.append(error)

    def _make_context(self, cert: IssuedCertificate) -> ssl.SSLContext:
        weak_key = isinstance(cert.key, rsa.RSAPrivateKey) and cert.key.key_size < 2048
        legacy = self.site.min_tls < ssl.TLSVersion.TLSv1_2 or weak_key
        ctx = _quiet_context(self.site.min_tls, self.site.max_tls, legacy)
        # load_cert_chain reads files only: write them to a private folder and remove it at once
        with tempfile.TemporaryDirectory(prefix="fake-endpoint-") as tmp:
            chain, key = Path(tmp) / "chain.pem", Path(tmp) / "key.pem"
            chain.write_bytes(cert.chain_pem)
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(cert.key_pem)
            ctx.load_cert_chain(chain, key)
        return ctx

    # lifecycle -------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("FakeEndpoint already started")
        self.context = self._make_context(self.certificate) if self.certificate is not None else None
        self._server = _Server(self, _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-endpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # addresses -------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeEndpoint not started")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def endpoint(self) -> str:
        """`127.0.0.1:PORT`, as `[probes] tls_endpoints` lists it."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def origin(self) -> str:
        scheme = "https" if self.certificate is not None else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    def url(self, path: str = "/login") -> str:
        return self.origin + path


@dataclass(frozen=True)
class DemoEndpoints:
    """The simulated company's endpoints, and the `[probes]` section that lists them."""

    ca_file: Path
    tls_endpoints: list[str]
    urls: list[str]

    def probes_config(self) -> dict[str, Any]:
        return {
            "tls_endpoints": list(self.tls_endpoints),
            "urls": list(self.urls),
            "ca_file": str(self.ca_file),
            "timeout_seconds": 5.0,
        }


@contextmanager
def demo_endpoints(workdir: Path, contact: str = "mailto:security@zaptic.com") -> Iterator[DemoEndpoints]:
    """Start the simulated company's endpoints on loopback: one compliant site and one of each
    failure (accepts TLS 1.0/1.1, RSA-1024 key, expiring certificate, wrong hostname; a site with
    no HSTS/CSP, an insecure cookie and an expired security.txt)."""
    ca = CertificateAuthority("Zaptic demo CA")
    ca_file = ca.write(workdir / "demo-ca.pem")
    names = ("localhost", LOOPBACK)
    shared = rsa_key(2048)
    good_txt = security_txt(contact=[contact])
    expired_txt = security_txt(contact=[contact], expires=datetime.now(UTC) - timedelta(days=30))
    with ExitStack() as stack:

        def serve(cert: IssuedCertificate, site: Site | None = None) -> FakeEndpoint:
            return stack.enter_context(FakeEndpoint(cert, site or Site(security_txt=good_txt)))

        app = serve(ca.issue(names, key=shared))
        legacy = serve(ca.issue(names, key=shared), Site(min_tls=ssl.TLSVersion.TLSv1, security_txt=good_txt))
        weak = serve(ca.issue(names, key_bits=1024))
        expiring = serve(ca.issue(names, key=shared, days_valid=10))
        wrong_host = serve(ca.issue(["www.zaptic.example"], key=shared))
        marketing = serve(
            ca.issue(names, key=shared),
            Site(hsts=None, csp=None, security_txt=expired_txt,
                 cookies=[Cookie("tracking", attributes="Path=/"), Cookie("session")]),
        )
        yield DemoEndpoints(
            ca_file=ca_file,
            tls_endpoints=[e.endpoint for e in (app, legacy, weak, expiring, wrong_host)],
            urls=[app.url("/login"), marketing.url("/pricing")],
        )
