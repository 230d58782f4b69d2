"""What `[probes]` lists, read: each `tls_endpoints` entry as a host and a port, each `urls`
entry checked to be a plain http(s) URL, and the `security.txt` URL of a URL's site.

A malformed entry is a `ProbeTargetError`, which the collector reports as the user's to fix.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

SECURITY_TXT_PATH = "/.well-known/security.txt"


class ProbeTargetError(ValueError):
    """A `[probes]` entry that is not a usable `host:port` or http(s) URL."""


@dataclass(frozen=True)
class TlsTarget:
    """One `tls_endpoints` entry: as configured, and split into host and port."""

    text: str
    host: str
    port: int


def parse_endpoint(text: str) -> TlsTarget:
    """`host:port`, `[v6addr]:port`, or a bare host (port 443)."""
    raw = text.strip()
    if not raw or "/" in raw or " " in raw:
        raise ProbeTargetError(f"tls_endpoints entry {text!r} is not host:port")
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ("" if not rest else "x")
        if not sep:
            raise ProbeTargetError(f"tls_endpoints entry {text!r} is not [address]:port")
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
    elif ":" in raw:
        raise ProbeTargetError(f"tls_endpoints entry {text!r}: write an IPv6 address as [address]:port")
    else:
        host, port_text = raw, ""
    if not host:
        raise ProbeTargetError(f"tls_endpoints entry {text!r} has no host")
    if port_text and not port_text.isdigit():
        raise ProbeTargetError(f"tls_endpoints entry {text!r}: port is not a number")
    port = int(port_text) if port_text else 443
    if not 0 < port < 65536:
        raise ProbeTargetError(f"tls_endpoints entry {text!r}: port out of range")
    return TlsTarget(text=raw, host=host, port=port)


def parse_url(text: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ProbeTargetError(f"urls entry {text!r} is not an http:// or https:// URL")
    if parts.username or parts.password:
        # never echo the entry: its password would reach the console and the failure records
        raise ProbeTargetError(f"a urls entry for host {parts.hostname!r} carries credentials; "
                               "list the URL without them")
    return parts


def security_txt_url(url: str) -> str:
    """`<scheme>://<host[:port]>/.well-known/security.txt` of a URL's site."""
    parts = parse_url(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, SECURITY_TXT_PATH, "", ""))
