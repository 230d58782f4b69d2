"""Loopback endpoints for the tests: the demo's TLS/HTTP servers and certificate authority
(`evidence.demo.endpoints`, `evidence.demo.certificates`), plus what only tests need —
:class:`SilentEndpoint` (accepts TCP, never answers: timeouts) and :func:`refused_port` (a port
nothing listens on: connection refused). Nothing here touches anything but loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from evidence.demo.certificates import LOOPBACK, CertificateAuthority, IssuedCertificate, rsa_key
from evidence.demo.endpoints import Cookie, DemoEndpoints, FakeEndpoint, Site, demo_endpoints, security_txt

__all__ = [
    "CertificateAuthority",
    "Cookie",
    "DemoEndpoints",
    "FakeEndpoint",
    "IssuedCertificate",
    "SilentEndpoint",
    "Site",
    "demo_endpoints",
    "refused_port",
    "rsa_key",
    "security_txt",
]


class SilentEndpoint:
    """A TCP port that completes the TCP handshake (the kernel does, from the listen backlog) and
    then never says a word: every TLS handshake or HTTP request to it times out."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None

    def __enter__(self) -> SilentEndpoint:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((LOOPBACK, 0))
        sock.listen(16)
        self._sock = sock
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("SilentEndpoint not started")
        return int(self._sock.getsockname()[1])

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.port}"


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that is bound (so nobody else takes it) but not listening: connecting to
    it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()

