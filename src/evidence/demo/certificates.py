"""Certificates made on the fly for ``evidence demo`` and the tests: a private
:class:`CertificateAuthority` that issues server certificates (any RSA size or an EC key, any
signature hash, any validity window, any names), and :func:`make_certificate` for self-signed
ones (what the demo imports into ACM)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
LOOPBACK = "127.0.0.1"
_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A fresh RSA key (slow for big sizes: make them once per test module and reuse them)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


@dataclass(frozen=True)
class IssuedCertificate:
    """A server certificate, its key, and the chain a server presents (leaf then CA)."""

    certificate: x509.Certificate
    key: PrivateKey
    chain_pem: bytes

    @property
    def key_pem(self) -> bytes:
        return _pem_key(self.key)

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


class CertificateAuthority:
    """A private CA (RSA-2048, SHA-256) that issues server certificates on the fly."""

    def __init__(self, common_name: str = "evidence test CA", key: rsa.RSAPrivateKey | None = None) -> None:
        self.key = key or rsa_key(2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write(self, path: Path) -> Path:
        """Write the CA certificate (PEM) to `path`, for `[probes] ca_file`."""
        path.write_bytes(self.pem)
        return path

    def issue(
        self,
        names: Sequence[str] = ("localhost", LOOPBACK),
        *,
        key: PrivateKey | None = None,
        key_bits: int = 2048,
        hash_name: str = "sha256",
        days_valid: int = 365,
        not_before_days_ago: int = 1,
    ) -> IssuedCertificate:
        """A server certificate for `names` (DNS names or IP addresses, all put in the SAN)."""
        key = key or rsa_key(key_bits)
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=not_before_days_ago))
            .not_valid_after(now + timedelta(days=days_valid))
            .add_extension(_san(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, _HASHES[hash_name]())
        )
        chain = cert.public_bytes(serialization.Encoding.PEM) + self.pem
        return IssuedCertificate(cert, key, chain)


def make_certificate(
    common_name: str,
    *,
    key_bits: int = 2048,
    hash_name: str = "sha256",
    days_valid: int = 365,
    not_before_days_ago: int = 30,
) -> tuple[bytes, bytes]:
    """A self-signed certificate and its private key, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 = (
        hashes.SHA384() if hash_name == "sha384" else hashes.SHA512() if hash_name == "sha512" else hashes.SHA256()
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=not_before_days_ago))
        .not_valid_after(now + timedelta(days=days_valid))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, algorithm)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
