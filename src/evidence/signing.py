"""Ed25519 signatures of a bundle's manifest.

`manifest.sig` is the raw 64-byte Ed25519 signature of the exact bytes of `manifest.json`.
That plain form lets an auditor check it without this tool:

    openssl pkeyutl -verify -pubin -inkey company.pub.pem -rawin -in manifest.json -sigfile manifest.sig

Make a key pair with `openssl genpkey -algorithm ed25519 -out signing.pem` and
`openssl pkey -in signing.pem -pubout -out signing.pub.pem`; configure the private key as
`[bundle] signing_key` and hand the public key to the auditor separately from the bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from evidence.config import Config, ConfigError

ALGORITHM = "Ed25519"
SIGNATURE_BYTES = 64

#: `(manifest_bytes, signature_bytes) -> error message or None`, as `bundle.verify` takes it
SignatureCheck = Callable[[bytes, bytes], "str | None"]


class KeyFileError(ValueError):
    """A key file that cannot be used; the message names the file and what is wrong."""


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """`sha256:<hex>` of the raw 32-byte public key: what the cover and `verify` print."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read {what} ({exc.strerror})") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key in PEM (PKCS#8, as `openssl genpkey` writes it)."""
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(f"{path}: the signing key is encrypted; give an unencrypted Ed25519 PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path}: not a PEM private key (make one: openssl genpkey -algorithm ed25519)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: the signing key is {type(key).__name__.removeprefix('_')}, not Ed25519")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key: PEM (`openssl pkey -pubout`) or OpenSSH (`ssh-ed25519 AAAA...`)."""
    data = _read(path, "public key")
    key: Any
    try:
        if data.lstrip().startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path}: not a PEM or OpenSSH public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: the public key is {type(key).__name__.removeprefix('_')}, not Ed25519")
    return key


@dataclass(frozen=True)
class Signer:
    """Signs manifest bytes; `PartialBundle.seal(..., sign=signer)` calls it."""

    key: Ed25519PrivateKey

    def __call__(self, data: bytes) -> bytes:
        return self.key.sign(data)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key.public_key())

    def describe(self) -> dict[str, str]:
        """What the manifest records about its signature (the key itself is never recorded)."""
        return {"algorithm": ALGORITHM, "file": "manifest.sig", "public_key": self.fingerprint}


def signer_for(config: Config) -> Signer | None:
    """The signer `[bundle] signing_key` configures, or None; ConfigError names a bad key."""
    if not config.bundle.signing_key:
        return None
    path = config.resolve(config.bundle.signing_key)
    try:
        return Signer(load_private_key(path))
    except KeyFileError as exc:
        raise ConfigError(f"{config.path or 'configuration'}: [bundle] signing_key: {exc}") from None


def signature_check(public_key: Ed25519PublicKey) -> SignatureCheck:
    """The check `bundle.verify(..., verify_signature=...)` calls with the manifest and signature."""

    def check(manifest: bytes, signature: bytes) -> str | None:
        if len(signature) != SIGNATURE_BYTES:
            return f"not an Ed25519 signature ({len(signature)} bytes, expected {SIGNATURE_BYTES})"
        try:
            public_key.verify(signature, manifest)
        except InvalidSignature:
            return (
                f"signature does not match manifest.json for key {fingerprint(public_key)} "
                "(the manifest or the signature was altered, or another key signed it)"
            )
        return None

    return check
