"""Ed25519 signatures: keys, the runner's signed manifest, and `evidence verify` catching tampering."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence.bundle import verify
from evidence.cli import cli
from evidence.config import ConfigError, parse_config
from evidence.signing import (
    KeyFileError,
    Signer,
    fingerprint,
    load_private_key,
    load_public_key,
    signature_check,
    signer_for,
)
from tests.conftest import RunFn
from tests.reports.support import shared_demo_bundle


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return shared_demo_bundle(tmp_path_factory)


@pytest.fixture
def signed(demo: tuple[Path, Path], tmp_path: Path) -> Path:
    """A copy of the demo's signed bundle, free to alter."""
    copy = tmp_path / demo[0].name
    shutil.copytree(demo[0], copy)
    return copy


def write_key(path: Path, key: Ed25519PrivateKey | rsa.RSAPrivateKey, password: bytes | None = None) -> Path:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    return path


def write_public(path: Path, key: Ed25519PrivateKey, ssh: bool = False) -> Path:
    pub = key.public_key()
    data = (pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) if ssh else
            pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    path.write_bytes(data)
    return path


def verify_cli(bundle: Path, key: Path | None) -> tuple[int, str]:
    args = ["verify", str(bundle)] + (["--public-key", str(key)] if key else [])
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


# -- keys ------------------------------------------------------------------------------------


def test_keys_load_and_sign_round_trip(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    signer = Signer(load_private_key(write_key(tmp_path / "k.pem", key)))
    for public in (write_public(tmp_path / "k.pub", key), write_public(tmp_path / "k.ssh", key, ssh=True)):
        check = signature_check(load_public_key(public))
        assert check(b"manifest", signer(b"manifest")) is None
        assert "does not match" in (check(b"manifest!", signer(b"manifest")) or "")
    assert signer.fingerprint == fingerprint(key.public_key()) and signer.fingerprint.startswith("sha256:")
    assert signer.describe() == {"algorithm": "Ed25519", "file": "manifest.sig", "public_key": signer.fingerprint}
    assert "64" in (signature_check(key.public_key())(b"m", b"short") or "")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "not found"),
        (lambda p: (p.write_text("not a key"), p)[1], "not a PEM private key"),
        (lambda p: write_key(p, rsa.generate_private_key(public_exponent=65537, key_size=2048)), "not Ed25519"),
        (lambda p: write_key(p, Ed25519PrivateKey.generate(), b"secret"), "encrypted"),
    ],
)
def test_unusable_private_keys_are_named(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "key.pem")
    with pytest.raises(KeyFileError, match=message) as exc:
        load_private_key(path)
    assert str(path) in str(exc.value)


def test_signing_key_in_config_is_checked_before_a_run(tmp_path: Path) -> None:
    assert signer_for(parse_config({})) is None
    (tmp_path / "bad.pem").write_text("nope")
    cfg = parse_config({"bundle": {"signing_key": "bad.pem"}}, tmp_path / "evidence.toml")
    with pytest.raises(ConfigError, match=r"signing_key.*bad.pem"):
        signer_for(cfg)


def test_runner_signs_the_manifest_and_records_the_key(tmp_path: Path, run_evidence: RunFn) -> None:
    key = Ed25519PrivateKey.generate()
    path = write_key(tmp_path / "signing.pem", key)
    result = run_evidence({"bundle": {"signing_key": str(path)}}, only={"manual"})
    assert result.bundle is not None
    manifest = json.loads((result.bundle / "manifest.json").read_text())
    assert manifest["signature"]["public_key"] == fingerprint(key.public_key())
    assert verify(result.bundle, signature_check(key.public_key())) == []
    other = Ed25519PrivateKey.generate().public_key()
    assert any(p.startswith("manifest.sig: signature does not match") for p in verify(result.bundle,
                                                                                        signature_check(other)))


def test_a_bad_signing_key_stops_the_run_before_any_bundle(tmp_path: Path, run_evidence: RunFn) -> None:
    with pytest.raises(ConfigError, match="signing_key"):
        run_evidence({"bundle": {"signing_key": str(tmp_path / "missing.pem")}}, only={"manual"})
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("manifest.json"))


def test_evidence_run_signs_and_reports_and_openssl_agrees(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    write_key(tmp_path / "signing.pem", key)
    public = write_public(tmp_path / "signing.pub.pem", key)
    (tmp_path / "evidence.toml").write_text('[bundle]\nsigning_key = "signing.pem"\ncompany = "Test Co"\n')
    result = CliRunner().invoke(cli, ["run", "--config", str(tmp_path / "evidence.toml"), "--only", "manual",
                                      "--period", "2026-Q4", "--out", str(tmp_path / "out")])
    assert result.exit_code in (0, 3), result.output
    bundle = next((tmp_path / "out" / "2026-Q4").iterdir())
    assert (bundle / "manifest.sig").is_file() and (bundle / "report.html").is_file()
    code, output = verify_cli(bundle, public)
    assert code == 0 and "signature: valid" in output, output
    if shutil.which("openssl"):
        proc = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin",
                               "-in", str(bundle / "manifest.json"), "-sigfile", str(bundle / "manifest.sig")],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


# -- tampering (acceptance: each names what is wrong; an untouched bundle passes) --------------


def test_untouched_bundle_passes(signed: Path, demo: tuple[Path, Path]) -> None:
    code, output = verify_cli(signed, demo[1])
    assert code == 0, output
    assert "every file matches the manifest" in output and "signature: valid, Ed25519 key sha256:" in output


def test_without_a_key_the_signature_is_reported_unchecked(signed: Path) -> None:
    code, output = verify_cli(signed, None)
    assert code == 0 and "manifest.sig present but not checked" in output


@pytest.mark.parametrize("target", ["report.html", "report.pdf", "findings.csv", "oscal/assessment-results.json",
                                    "findings.json", "evidence"])
def test_altered_file_is_named(signed: Path, demo: tuple[Path, Path], target: str) -> None:
    path = next(p for p in sorted((signed / "evidence").rglob("*.json"))) if target == "evidence" else signed / target
    path.write_bytes(path.read_bytes().replace(b"a", b"b", 1))
    code, output = verify_cli(signed, demo[1])
    rel = path.relative_to(signed).as_posix()
    assert code == 1
    assert f"MISMATCH {rel}: sha256 mismatch" in output, output
    assert "manifest.sig" not in output  # the signature still matches the manifest


def test_added_and_removed_files_are_named(signed: Path, demo: tuple[Path, Path]) -> None:
    (signed / "evidence" / "extra.json").write_text("{}")
    (signed / "controls.csv").unlink()
    code, output = verify_cli(signed, demo[1])
    assert code == 1
    assert "evidence/extra.json: not listed in the manifest" in output
    assert "controls.csv: listed in the manifest but missing" in output


def test_altered_manifest_is_named(signed: Path, demo: tuple[Path, Path]) -> None:
    manifest = signed / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"Zaptic (simulated)"', '"Someone else"'))
    code, output = verify_cli(signed, demo[1])
    assert code == 1
    assert "manifest.json: sha256 does not match manifest.sha256" in output
    assert "manifest.sig: signature does not match manifest.json" in output


def test_manifest_rewritten_with_a_matching_digest_is_caught_by_the_signature(
    signed: Path, demo: tuple[Path, Path]
) -> None:
    import hashlib

    report = signed / "report.html"
    report.write_text(report.read_text().replace("Zaptic", "Acme"))
    manifest = json.loads((signed / "manifest.json").read_text())
    manifest["files"]["report.html"] = {"sha256": hashlib.sha256(report.read_bytes()).hexdigest(),
                                        "size": report.stat().st_size}
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (signed / "manifest.json").write_bytes(data)
    (signed / "manifest.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  manifest.json\n")
    assert verify(signed) == []  # hashes alone cannot tell
    code, output = verify_cli(signed, demo[1])
    assert code == 1 and output.count("MISMATCH") == 1
    assert "MISMATCH manifest.sig: signature does not match manifest.json" in output


def test_altered_or_missing_signature_is_named(signed: Path, demo: tuple[Path, Path]) -> None:
    sig = signed / "manifest.sig"
    data = bytearray(sig.read_bytes())
    data[0] ^= 0xFF
    sig.write_bytes(bytes(data))
    code, output = verify_cli(signed, demo[1])
    assert code == 1 and "MISMATCH manifest.sig: signature does not match" in output
    sig.write_bytes(b"garbage")
    assert "not an Ed25519 signature (7 bytes" in verify_cli(signed, demo[1])[1]
    sig.unlink()
    code, output = verify_cli(signed, demo[1])
    assert code == 1 and "MISMATCH manifest.sig: missing" in output


def test_another_key_is_refused(signed: Path, tmp_path: Path) -> None:
    other = write_public(tmp_path / "other.pub", Ed25519PrivateKey.generate())
    code, output = verify_cli(signed, other)
    assert code == 1 and "manifest.sig: signature does not match manifest.json for key sha256:" in output


def test_unusable_public_key_is_a_usage_error(signed: Path, tmp_path: Path) -> None:
    (tmp_path / "pub.pem").write_text("nope")
    code, output = verify_cli(signed, tmp_path / "pub.pem")
    assert code == 2 and "--public-key" in output and "pub.pem" in output
