"""Probe collector: live evidence from the company's own endpoints.

For each `[probes] tls_endpoints` entry (`host:port`) it tries one TLS handshake pinned to each
protocol version (TLS 1.0, 1.1, 1.2, 1.3) and records which the server accepts, then fetches the
served leaf certificate (parsed: key type and size, signature hash, validity, SANs) and whether
it validates, as a default modern client would, against the system trust store plus
`[probes] ca_file`, with hostname checking.

For each `[probes] urls` entry it GETs the URL (redirects are recorded, never followed) and
records the status, the security headers and, for each cookie set, its NAME and attributes:
cookie values are session secrets and are never recorded. It also GETs
`<scheme>://<host>/.well-known/security.txt` once per site and records its text and its fields.

"Refused by the server" and "the local OpenSSL could not even offer that version" are kept
apart: before any connection, each pinned client context writes a ClientHello into memory; a
version it cannot offer (OpenSSL built without it, a system policy forbidding it) is recorded
as an error with a remedy, never as a refusal, so it can never turn into a pass.

What is in scope is what `[probes]` states: without the section the source is not configured
(its checks are `error`, like every other unconfigured source); a list key left out of the
section records its listing as failed (`NotConfigured`); an explicitly empty list is recorded as
an empty listing naming the key (`"scope"`), a stated scope that the checks judge not_applicable.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import socket
import ssl
import urllib.parse
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import httpx
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from evidence import __version__
from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.config import ProbesConfig
from evidence.models import CollectionError, EvidenceRecord, iso, utc_now

log = logging.getLogger(__name__)

SOURCE = "probe"
_CONFIG_ONLY = "none: reads the [probes] section of the configuration"
_TLS_ACCESS = "outbound TCP to the listed tls_endpoints"
_HTTP_ACCESS = "outbound HTTP(S) to the listed urls"

#: evidence key -> the network access that call needs (`evidence permissions` prints these)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "tls.ListEndpoints": (_CONFIG_ONLY,),
    "tls.Handshake": (_TLS_ACCESS,),
    "tls.Certificate": (_TLS_ACCESS,),
    "http.ListUrls": (_CONFIG_ONLY,),
    "http.Get": (_HTTP_ACCESS,),
    "http.SecurityTxt": ("outbound HTTP(S) to /.well-known/security.txt on the listed urls' hosts",),
}

#: the evidence keys of the TLS and the HTTP probes (each group starts with its listing)
TLS_KEYS = ("tls.ListEndpoints", "tls.Handshake", "tls.Certificate")
HTTP_KEYS = ("http.ListUrls", "http.Get", "http.SecurityTxt")

#: the protocol versions probed, lowest first, with the names `SSLSocket.version()` uses
TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
_BUILT_WITH = {"TLSv1": ssl.HAS_TLSv1, "TLSv1.1": ssl.HAS_TLSv1_1, "TLSv1.2": ssl.HAS_TLSv1_2,
               "TLSv1.3": ssl.HAS_TLSv1_3}
#: OpenSSL reasons that mean the client itself had nothing to offer (never the server's doing)
_CLIENT_SIDE = {"NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE", "NO_SUITABLE_SIGNATURE_ALGORITHM"}
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
SECURITY_TXT_PATH = "/.well-known/security.txt"
_SECURITY_TXT_LIMIT = 32 * 1024
_SSL_SUFFIX = re.compile(r"\s*\(_ssl\.c:\d+\)$")
_MAX_WORKERS = 8


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
        raise ProbeTargetError(f"urls entry {text!r} carries credentials; list the URL without them")
    return parts


def security_txt_url(url: str) -> str:
    """`<scheme>://<host[:port]>/.well-known/security.txt` of a URL's site."""
    parts = parse_url(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, SECURITY_TXT_PATH, "", ""))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _clean(message: str) -> str:
    return _SSL_SUFFIX.sub("", message).strip()


# --- parsing what was seen (pure) -----------------------------------------------------------


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


def describe_certificate(der: bytes) -> dict[str, Any]:
    """What a check needs from a certificate, from its DER bytes."""
    cert = x509.load_der_x509_certificate(der)
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type, key_bits, key_algorithm = "RSA", key.key_size, f"RSA_{key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, key_bits, key_algorithm = "EC", key.curve.key_size, f"EC_{key.curve.name}"
    elif isinstance(key, dsa.DSAPublicKey):
        key_type, key_bits, key_algorithm = "DSA", key.key_size, f"DSA_{key.key_size}"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type, key_bits, key_algorithm = "ED25519", 256, "ED25519"
    elif isinstance(key, ed448.Ed448PublicKey):
        key_type, key_bits, key_algorithm = "ED448", 456, "ED448"
    else:
        key_type, key_bits, key_algorithm = type(key).__name__, 0, type(key).__name__
    try:
        sig_hash = cert.signature_hash_algorithm
        hash_name = sig_hash.name if sig_hash is not None else None
    except UnsupportedAlgorithm:
        hash_name = None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(n) for n in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial_number": format(cert.serial_number, "x"),
        "sha256_fingerprint": hashlib.sha256(der).hexdigest(),
        "not_before": iso(cert.not_valid_before_utc),
        "not_after": iso(cert.not_valid_after_utc),
        "key_type": key_type,
        "key_bits": key_bits,
        "key_algorithm": key_algorithm,
        "signature_algorithm": cert.signature_algorithm_oid._name,
        "signature_hash": hash_name,
        "san_dns": dns,
        "san_ip": ips,
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


# --- TLS ----------------------------------------------------------------------------------


class Unreachable(Exception):
    """The endpoint could not be reached at all (no TCP connection, or a silent server)."""

    def __init__(self, code: str, message: str, remedy: str) -> None:
        super().__init__(message)
        self.error = CollectionError(code=code, message=message, remedy=remedy)


@dataclass(frozen=True)
class Offer:
    """A client context pinned to one protocol version, or why it cannot offer that version."""

    label: str
    context: ssl.SSLContext | None
    unavailable: str | None


def _pinned_context(label: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # protocol support is probed here; trust is judged apart
    # OpenSSL 3 refuses to offer TLS 1.0/1.1 (and weak keys) above security level 0; the probe
    # asks what the server accepts, so it offers everything it can
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pinning TLS 1.0/1.1 is the point
        ctx.minimum_version = TLS_VERSIONS[label]
        ctx.maximum_version = TLS_VERSIONS[label]
    return ctx


def build_offer(label: str) -> Offer:
    """The pinned context for `label`, proven able to write a ClientHello (in memory, no I/O)."""
    where = f"this Python's OpenSSL ({ssl.OPENSSL_VERSION})"
    if not _BUILT_WITH[label]:
        return Offer(label, None, f"{where} was built without {label}")
    try:
        ctx = _pinned_context(label)
    except (ValueError, ssl.SSLError) as exc:
        return Offer(label, None, f"{where} cannot be pinned to {label}: {_clean(str(exc))}")
    hello = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="probe.invalid")
    try:
        hello.do_handshake()
    except ssl.SSLWantReadError:
        return Offer(label, ctx, None)  # the ClientHello was written; it waits for a server
    except ssl.SSLError as exc:
        return Offer(label, None, f"{where} cannot offer {label}: {exc.reason or _clean(str(exc))}")
    return Offer(label, None, f"{where} completed a handshake with no server while offering {label}")


def _cannot_offer(label: str, why: str) -> CollectionError:
    return CollectionError(
        code="ClientCannotOffer",
        message=f"{why}; whether the server accepts {label} is unknown",
        remedy=(
            f"run evidence with an OpenSSL that can offer {label} (OpenSSL 3 needs it enabled at "
            "security level 0; a system crypto policy or OPENSSL_CONF may forbid it), e.g. in the "
            "project's container image"
        ),
    )


def _connect(target: TlsTarget, timeout: float) -> socket.socket:
    where = f"{target.host}:{target.port}"
    try:
        return socket.create_connection((target.host, target.port), timeout=timeout)
    except socket.gaierror as exc:
        raise Unreachable("NameResolutionFailed", f"cannot resolve {target.host}: {exc.strerror}",
                          "check the host name in [probes] tls_endpoints and DNS where evidence runs") from exc
    except ConnectionRefusedError as exc:
        raise Unreachable("ConnectionRefused", f"connection to {where} refused",
                          f"check that {where} is the TLS endpoint and that it is up") from exc
    except TimeoutError as exc:
        raise Unreachable("ConnectTimeout", f"no TCP connection to {where} within {timeout:g}s",
                          "allow outbound TCP from where evidence runs to the endpoint, or raise "
                          "[probes] timeout_seconds") from exc
    except OSError as exc:
        raise Unreachable("ConnectFailed", f"cannot connect to {where}: {exc.strerror or exc}",
                          "check the endpoint and the network path from where evidence runs") from exc


def handshake(offer: Offer, target: TlsTarget, timeout: float) -> dict[str, Any]:
    """One handshake pinned to `offer.label`: the server accepted it or refused it.

    Raises `Unreachable` when there is no answer at all, and returns `{"client_error": ...}`
    when OpenSSL turned out unable to offer the version after all."""
    assert offer.context is not None
    sock = _connect(target, timeout)
    sni = None if _is_ip(target.host) else target.host
    try:
        tls = offer.context.wrap_socket(sock, server_hostname=sni)
    except TimeoutError as exc:
        sock.close()
        raise Unreachable(
            "HandshakeTimeout", f"{target.text} accepted TCP but did not answer a TLS ClientHello within "
            f"{timeout:g}s", "check that the endpoint speaks TLS on this port, or raise [probes] timeout_seconds",
        ) from exc
    except ssl.SSLError as exc:
        sock.close()
        reason = exc.reason or type(exc).__name__
        if reason in _CLIENT_SIDE:
            return {"client_error": f"the local OpenSSL could not offer {offer.label}: {reason}"}
        return {"version": offer.label, "accepted": False, "reason": reason, "detail": _clean(str(exc))}
    except OSError as exc:  # a reset or a close instead of an alert: the server would not talk
        sock.close()
        reason = type(exc).__name__
        return {"version": offer.label, "accepted": False, "reason": reason,
                "detail": f"connection closed during the handshake ({exc.strerror or exc})"}
    try:
        cipher = tls.cipher()
        return {"version": offer.label, "accepted": True, "negotiated_version": tls.version(),
                "cipher": cipher[0] if cipher else None}
    finally:
        tls.close()


def fetch_certificate(target: TlsTarget, timeout: float, verify: ssl.SSLContext) -> dict[str, Any]:
    """The served leaf certificate (whatever its strength) and whether it validates."""
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    permissive.check_hostname = False
    permissive.verify_mode = ssl.CERT_NONE
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")  # so an RSA-1024 certificate is still seen
    permissive.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED  # and one served over TLS 1.0
    sni = None if _is_ip(target.host) else target.host
    sock = _connect(target, timeout)
    try:
        with permissive.wrap_socket(sock, server_hostname=sni) as tls:
            der = tls.getpeercert(binary_form=True)
            version = tls.version()
    except TimeoutError as exc:
        raise Unreachable(
            "HandshakeTimeout", f"{target.text} did not complete a TLS handshake within {timeout:g}s",
            "check that the endpoint speaks TLS on this port, or raise [probes] timeout_seconds",
        ) from exc
    except OSError as exc:  # an SSLError, or a reset: the handshake that worked before failed now
        raise Unreachable(
            "HandshakeFailed", f"the TLS handshake to fetch the certificate of {target.text} failed: "
            f"{_clean(str(exc))}", "check that the endpoint speaks TLS on this port, then run again",
        ) from exc
    finally:
        sock.close()
    if not der:
        raise Unreachable("NoCertificate", f"{target.text} presented no certificate",
                          "configure a server certificate on the endpoint")
    try:
        described = describe_certificate(der)
    except ValueError as exc:
        raise Unreachable("CertificateUnreadable", f"the certificate of {target.text} cannot be parsed: {exc}",
                          "check the certificate the endpoint serves") from exc
    described["negotiated_version"] = version
    described["verification"] = verify_certificate(target, timeout, verify)
    return {"endpoint": target.text, "host": target.host, **described}


def verify_certificate(target: TlsTarget, timeout: float, verify: ssl.SSLContext) -> dict[str, Any]:
    """Validate as a default client would: system trust + ca_file, hostname checked."""
    sock = _connect(target, timeout)
    try:
        with verify.wrap_socket(sock, server_hostname=target.host) as tls:
            return {"verified": True, "verify_code": 0, "verify_message": "ok", "version": tls.version()}
    except ssl.SSLCertVerificationError as exc:
        return {"verified": False, "verify_code": exc.verify_code,
                "verify_message": exc.verify_message or _clean(str(exc))}
    except ssl.SSLError as exc:
        return {"verified": False, "verify_code": None,
                "verify_message": f"handshake failed before the certificate was verified: {_clean(str(exc))}"}
    except TimeoutError as exc:
        raise Unreachable("HandshakeTimeout", f"{target.text} stopped answering during verification",
                          "raise [probes] timeout_seconds") from exc
    except OSError as exc:
        return {"verified": False, "verify_code": None,
                "verify_message": f"connection failed before the certificate was verified: {exc.strerror or exc}"}
    finally:
        sock.close()


# --- HTTP ---------------------------------------------------------------------------------


def _http_error(exc: httpx.HTTPError, url: str, timeout: float) -> CollectionError:
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
    return CollectionError(code=type(exc).__name__, message=f"GET {url}: {_clean(str(exc)) or type(exc).__name__}",
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


# --- the collector ------------------------------------------------------------------------


class ProbeCollector(Collector):
    """Live TLS and HTTP evidence from the endpoints listed in `[probes]`."""

    source: ClassVar[str] = SOURCE
    description: ClassVar[str] = (
        "live endpoints: TLS versions accepted, served certificate, security headers, cookie "
        "attributes, security.txt"
    )
    permission_kind: ClassVar[str] = "network access"
    permissions: ClassVar[Mapping[str, tuple[str, ...]]] = PERMISSIONS

    def not_configured(self) -> str | None:
        # like every other source: no section is "not configured" (an error), never "nothing in
        # scope"; an explicitly empty list in the section is a stated scope (see `collect`)
        if self.config.probes is None:
            return "no [probes] section in the configuration (tls_endpoints, urls)"
        return None

    # records ---------------------------------------------------------------
    def _record(self, sink: Sink, key: str, params: dict[str, Any], subject: str, response: Any) -> None:
        service, _, operation = key.partition(".")
        sink.record(EvidenceRecord(
            source=SOURCE, service=service, operation=operation, parameters=params, subject=subject,
            collected_at=iso(utc_now()), response=response,
        ))

    def _fail(self, sink: Sink, key: str, params: dict[str, Any], subject: str, error: CollectionError) -> None:
        service, _, operation = key.partition(".")
        log.warning("probe %s of %s failed: %s: %s", key, subject, error.code, error.message)
        sink.record(EvidenceRecord(
            source=SOURCE, service=service, operation=operation, parameters=params, subject=subject,
            collected_at=iso(utc_now()), error=error,
        ))

    # setup -----------------------------------------------------------------
    def _section(self) -> ProbesConfig:
        cfg = self.config.probes
        if cfg is None:
            raise CollectorFailure("NotConfigured", self.not_configured() or "", "add a [probes] section",
                                   user_error=True)
        return cfg

    def _targets(self, cfg: ProbesConfig) -> tuple[list[TlsTarget], list[str]]:
        try:
            targets = [parse_endpoint(e) for e in cfg.tls_endpoints]
            urls = [u.strip() for u in cfg.urls]
            for u in urls:
                parse_url(u)
        except ProbeTargetError as exc:
            raise CollectorFailure("InvalidProbeTarget", f"[probes] {exc}",
                                   "fix the entry in the configuration", user_error=True) from exc
        return targets, urls

    def _verify_context(self, cfg: ProbesConfig) -> ssl.SSLContext:
        ctx = ssl.create_default_context()  # system trust store, TLS 1.2+, hostname checking
        ca_file = cfg.ca_file
        if ca_file:
            path: Path = self.config.resolve(ca_file)
            try:
                ctx.load_verify_locations(cafile=str(path))
            except (OSError, ssl.SSLError) as exc:
                raise CollectorFailure(
                    "InvalidCaFile", f"[probes] ca_file {path} cannot be loaded: {_clean(str(exc))}",
                    "point ca_file at a PEM file of CA certificates", user_error=True,
                ) from exc
        return ctx

    # collection ------------------------------------------------------------
    def _unstated(self, sink: Sink, key: str, name: str) -> bool:
        """Record the listing `key` as not configured when `[probes]` does not state `name`."""
        cfg = self._section()
        if cfg.stated(name):
            return False
        self._fail(sink, key, {}, "", CollectionError(
            code="NotConfigured",
            message=f"[probes] has no {name}, so what to probe is not stated",
            remedy=f"list them under [probes] {name}, or write {name} = [] to state there are none",
        ))
        return True

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        cfg = self._section()
        targets, urls = self._targets(cfg)
        timeout = cfg.timeout_seconds
        verify = self._verify_context(cfg)
        jobs: list[Callable[[], None]] = []
        # each listing names the configuration key that states it: an empty one is a stated,
        # empty scope, and the checks' not_applicable findings say so
        if wanted & set(TLS_KEYS) and not self._unstated(sink, "tls.ListEndpoints", "tls_endpoints"):
            self._record(sink, "tls.ListEndpoints", {}, "", {
                "endpoints": [t.text for t in targets], "versions": list(TLS_VERSIONS),
                "timeout_seconds": timeout, "ca_file": cfg.ca_file, "scope": "[probes] tls_endpoints",
            })
            offers = [build_offer(label) for label in TLS_VERSIONS] if "tls.Handshake" in wanted else []
            jobs += [partial(self._probe_tls, sink, wanted, t, offers, timeout, verify) for t in targets]
        if wanted & set(HTTP_KEYS) and not self._unstated(sink, "http.ListUrls", "urls"):
            sites = list(dict.fromkeys(security_txt_url(u) for u in urls))
            self._record(sink, "http.ListUrls", {}, "", {"urls": urls, "security_txt": sites,
                                                         "timeout_seconds": timeout, "scope": "[probes] urls"})
            client = httpx.Client(
                verify=verify, timeout=timeout, follow_redirects=False, trust_env=False,
                headers={"User-Agent": f"evidence/{__version__} (SOC 2 evidence probe)"},
            )
            try:
                if "http.Get" in wanted:
                    jobs += [partial(self._probe_http, sink, client, "http.Get", u, http_get, timeout)
                             for u in urls]
                if "http.SecurityTxt" in wanted:
                    jobs += [partial(self._probe_http, sink, client, "http.SecurityTxt", site, http_security_txt,
                                     timeout) for site in sites]
                self._run(jobs)
            finally:
                client.close()
        else:
            self._run(jobs)

    def _run(self, jobs: list[Callable[[], None]]) -> None:
        if not jobs:
            return
        with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(jobs)), thread_name_prefix="probe") as pool:
            for fut in [pool.submit(job) for job in jobs]:
                fut.result()

    def _probe_tls(self, sink: Sink, wanted: frozenset[str], target: TlsTarget, offers: list[Offer],
                   timeout: float, verify: ssl.SSLContext) -> None:
        sink.progress(f"probe: TLS {target.text}")
        subject = target.text
        accepted = 0
        for offer in offers:
            params = {"endpoint": subject, "version": offer.label}
            if offer.context is None:
                self._fail(sink, "tls.Handshake", params, subject,
                           _cannot_offer(offer.label, offer.unavailable or "cannot offer"))
                continue
            try:
                result = handshake(offer, target, timeout)
            except Unreachable as exc:
                self._fail(sink, "tls.Handshake", params, subject, exc.error)
                if exc.error.code == "HandshakeTimeout":
                    continue  # no answer to this version; the next ones may still be answered
                # no TCP connection at all: the other versions and the certificate are not tried
                if "tls.Certificate" in wanted:
                    self._fail(sink, "tls.Certificate", {"endpoint": subject}, subject, exc.error.model_copy(
                        update={"message": exc.error.message + "; the certificate was not fetched"}))
                return
            if "client_error" in result:
                self._fail(sink, "tls.Handshake", params, subject,
                           _cannot_offer(offer.label, str(result["client_error"])))
                continue
            accepted += bool(result["accepted"])
            self._record(sink, "tls.Handshake", params, subject, {"endpoint": subject, **result})
        if "tls.Certificate" not in wanted:
            return
        if offers and not accepted:
            self._fail(sink, "tls.Certificate", {"endpoint": subject}, subject, CollectionError(
                code="NoHandshake",
                message=f"{subject} completed no TLS handshake in any version, so it served no certificate",
                remedy="check that the endpoint speaks TLS on this port (see the tls.Handshake evidence)",
            ))
            return
        try:
            cert = fetch_certificate(target, timeout, verify)
        except Unreachable as exc:
            self._fail(sink, "tls.Certificate", {"endpoint": subject}, subject, exc.error)
            return
        self._record(sink, "tls.Certificate", {"endpoint": subject}, subject, cert)

    def _probe_http(self, sink: Sink, client: httpx.Client, key: str, url: str,
                    fetch: Callable[[httpx.Client, str], dict[str, Any]], timeout: float) -> None:
        sink.progress(f"probe: GET {url}")
        params = {"url": url}
        try:
            response = fetch(client, url)
        except httpx.HTTPError as exc:
            self._fail(sink, key, params, url, _http_error(exc, url, timeout))
            return
        self._record(sink, key, params, url, response)
