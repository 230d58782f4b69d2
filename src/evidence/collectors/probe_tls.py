"""The TLS probe: which protocol versions an endpoint accepts, and the certificate it serves.

One handshake is tried pinned to each version (TLS 1.0, 1.1, 1.2, 1.3). "Refused by the
server" and "the local OpenSSL could not even offer that version" are kept apart: before any
connection, each pinned client context writes a ClientHello into memory (`build_offer`); a
version it cannot offer (OpenSSL built without it, a system policy forbidding it) is an error
with a remedy (`cannot_offer`), never a refusal, so it can never turn into a pass.

The served leaf certificate is fetched whatever its strength, parsed (key type and size,
signature hash, validity, SANs), and validated as a default modern client would: the system
trust store plus `[probes] ca_file`, with hostname checking.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import ssl
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from evidence.collectors.probe_targets import TlsTarget
from evidence.models import CollectionError, iso

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
_SSL_SUFFIX = re.compile(r"\s*\(_ssl\.c:\d+\)$")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def ssl_message(message: str) -> str:
    """An OpenSSL error message without the `(_ssl.c:NNN)` Python appends."""
    return _SSL_SUFFIX.sub("", message).strip()


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
        return Offer(label, None, f"{where} cannot be pinned to {label}: {ssl_message(str(exc))}")
    hello = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="probe.invalid")
    try:
        hello.do_handshake()
    except ssl.SSLWantReadError:
        return Offer(label, ctx, None)  # the ClientHello was written; it waits for a server
    except ssl.SSLError as exc:
        return Offer(label, None, f"{where} cannot offer {label}: {exc.reason or ssl_message(str(exc))}")
    return Offer(label, None, f"{where} completed a handshake with no server while offering {label}")


def cannot_offer(label: str, why: str) -> CollectionError:
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
        return {"version": offer.label, "accepted": False, "reason": reason, "detail": ssl_message(str(exc))}
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
            f"{ssl_message(str(exc))}", "check that the endpoint speaks TLS on this port, then run again",
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
                "verify_message": exc.verify_message or ssl_message(str(exc))}
    except ssl.SSLError as exc:
        return {"verified": False, "verify_code": None,
                "verify_message": f"handshake failed before the certificate was verified: {ssl_message(str(exc))}"}
    except TimeoutError as exc:
        raise Unreachable("HandshakeTimeout", f"{target.text} stopped answering during verification",
                          "raise [probes] timeout_seconds") from exc
    except OSError as exc:
        return {"verified": False, "verify_code": None,
                "verify_message": f"connection failed before the certificate was verified: {exc.strerror or exc}"}
    finally:
        sock.close()
