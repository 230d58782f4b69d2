"""The HTTP probe: one GET of each URL (redirects are recorded, never followed) and of each
site's `/.well-known/security.txt`, read into what the checks judge.

A GET records the status, the security headers (an allow-list) and, for each cookie set, its
NAME and attributes: cookie values are session secrets and are dropped at the first step, so
they never reach a record. A redirect target loses its query, fragment and credentials (they
can carry tokens). security.txt is recorded with its text (up to 32 KiB) and its RFC 9116 fields.
"""

from __future__ import annotations

import re
import socket
import ssl
import urllib.parse
from typing import Any

import httpx

from evidence.collectors.probe_tls import ssl_message
from evidence.models import CollectionError

#: response headers recorded from a GET (an allow-list: Set-Cookie is parsed, never copied)
SECURITY_HEADERS = (
    "strict-transport-security",
    "content-security-policy",
    "content-security-policy-report-only",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "content-type",
)
#: cookie attributes whose values are recorded; other attributes are recorded by name only
_COOKIE_VALUED = {"domain", "path", "expires", "max-age", "samesite", "priority"}
_COOKIE_FLAGS = {"secure", "httponly", "partitioned"}
_SECURITY_TXT_LIMIT = 32 * 1024


def parse_set_cookie(header: str) -> dict[str, Any]:
    """A Set-Cookie header as the cookie's name and attributes. The value is dropped here, at
    the first step, so it never reaches a record."""
    first, _, rest = header.partition(";")
    name, eq, _value = first.partition("=")
    # a pair without "=" is, to browsers, a nameless cookie whose VALUE is the text: keep nothing
    cookie: dict[str, Any] = {
        "name": name.strip() if eq else "",
        "secure": False,
        "http_only": False,
        "same_site": None,
        "attributes": {},
        "other_attributes": [],
    }
    for part in rest.split(";"):
        attr, has_value, val = part.strip().partition("=")
        key = attr.strip().lower()
        if not key:
            continue
        if key == "secure":
            cookie["secure"] = True
        elif key == "httponly":
            cookie["http_only"] = True
        elif key == "samesite":
            cookie["same_site"] = val.strip()
        if key in _COOKIE_VALUED and has_value:
            cookie["attributes"][attr.strip()] = val.strip()
        elif key in _COOKIE_FLAGS:
            cookie["attributes"][attr.strip()] = True
        else:
            cookie["other_attributes"].append(attr.strip())
    return cookie


def parse_security_txt(text: str) -> dict[str, list[str]]:
    """RFC 9116 fields (names lower-cased) -> values in order; comments, blank lines and an
    OpenPGP cleartext signature's armour are skipped."""
    fields: dict[str, list[str]] = {}
    in_armour_header = False
    in_signature = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("-----BEGIN PGP SIGNED MESSAGE"):
            in_armour_header = True
            continue
        if in_armour_header:
            in_armour_header = bool(line)
            continue
        if line.startswith("-----BEGIN PGP SIGNATURE"):
            in_signature = True
            continue
        if line.startswith("-----END PGP SIGNATURE"):
            in_signature = False
            continue
        if in_signature or not line or line.startswith("#"):
            continue
        if line.startswith("- "):
            line = line[2:]
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or not re.fullmatch(r"[A-Za-z0-9-]+", name):
            continue
        fields.setdefault(name.lower(), []).append(value.strip())
    return fields


def _safe_location(location: str | None, base: str) -> str | None:
    """A redirect target without its query, fragment or credentials (they can carry tokens)."""
    if location is None:
        return None
    target = urllib.parse.urlsplit(urllib.parse.urljoin(base, location))
    host = target.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{target.port}" if target.port else host
    return urllib.parse.urlunsplit((target.scheme, netloc, target.path, "", ""))


def http_error(exc: httpx.HTTPError, url: str, timeout: float) -> CollectionError:
    """Why a GET failed (an untrusted certificate, a timeout, a refusal, a name that does not
    resolve) and what to do about it."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 8:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        cert_err = next(e for e in chain if isinstance(e, ssl.SSLCertVerificationError))
        return CollectionError(
            code="CertificateVerifyFailed",
            message=f"GET {url}: the served certificate is not trusted: {cert_err.verify_message}",
            remedy="fix the certificate (see probe.certificate), or add its issuing CA to [probes] ca_file",
        )
    if isinstance(exc, httpx.TimeoutException):
        return CollectionError(code="Timeout", message=f"GET {url}: no answer within {timeout:g}s",
                               remedy="check the URL is reachable from where evidence runs, or raise "
                                      "[probes] timeout_seconds")
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return CollectionError(code="ConnectionRefused", message=f"GET {url}: connection refused",
                               remedy="check the URL in [probes] urls and that the site is up")
    if any(isinstance(e, socket.gaierror) for e in chain):
        return CollectionError(code="NameResolutionFailed", message=f"GET {url}: cannot resolve the host",
                               remedy="check the host name in [probes] urls and DNS where evidence runs")
    return CollectionError(code=type(exc).__name__, message=f"GET {url}: {ssl_message(str(exc)) or type(exc).__name__}",
                           remedy="check the URL is reachable over HTTP(S) from where evidence runs")


def http_get(client: httpx.Client, url: str) -> dict[str, Any]:
    """Status, security headers and cookie names/attributes of one GET; the body is not read."""
    with client.stream("GET", url) as resp:
        headers = {name: resp.headers.get_list(name) for name in SECURITY_HEADERS if name in resp.headers}
        cookies = [parse_set_cookie(h) for h in resp.headers.get_list("set-cookie")]
        return {
            "url": url,
            "status": resp.status_code,
            "http_version": resp.http_version,
            "redirect": _safe_location(resp.headers.get("location"), url) if resp.is_redirect else None,
            "headers": headers,
            "cookies": cookies,
        }


def http_security_txt(client: httpx.Client, url: str) -> dict[str, Any]:
    """The site's security.txt: status, content type, text (when 200) and its fields."""
    with client.stream("GET", url) as resp:
        out: dict[str, Any] = {
            "url": url,
            "status": resp.status_code,
            "content_type": resp.headers.get("content-type"),
            "redirect": _safe_location(resp.headers.get("location"), url) if resp.is_redirect else None,
            "text": None,
            "truncated": False,
            "fields": {},
        }
        if resp.status_code != 200:
            return out
        body = bytearray()
        for chunk in resp.iter_bytes():
            body.extend(chunk)
            if len(body) > _SECURITY_TXT_LIMIT:
                out["truncated"] = True
                break
        text = bytes(body[:_SECURITY_TXT_LIMIT]).decode("utf-8", errors="replace")
        out["text"] = text
        out["fields"] = parse_security_txt(text)
        return out
