"""Bundles are untrusted input, continued: what a resealed bundle may hold inside files that do
verify (a findings.json nested 100,000 deep, a finding naming a record outside the bundle), a
run bundle a period would draw on, a signature `export` must check, and a file-access trace
showing that no command opens anything outside the bundle it was given."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.bundle import MANIFEST, SIGNATURE
from evidence.cli import cli
from evidence.config import parse_config
from evidence.registry import Registry
from evidence.runner import Runner
from evidence.signing import Signer
from tests.conftest import PERIOD
from tests.test_bundle_hostile import _reseal

DEEP = "[" * 100_000 + "]" * 100_000


def _deep_findings(bundle: Path) -> str:
    """The bundle's first finding, its `observed` value nested 100,000 deep."""
    rows = json.loads((bundle / "findings.json").read_text())
    return json.dumps([{**rows[0], "observed": "@DEEP@"}]).replace('"@DEEP@"', DEEP)


def _run(registry: Registry, out: Path, **config: object) -> Path:
    result = Runner(config=parse_config(config), registry=registry, period=PERIOD, out=out, only={"manual"},
                    report_formats=("csv",)).run()
    assert result.bundle is not None
    return result.bundle


def _reseal_file(bundle: Path, rel: str, text: str) -> None:
    """Replace a file and reseal the manifest over it, as someone who altered the bundle would."""
    (bundle / rel).write_text(text, encoding="utf-8")
    manifest = json.loads((bundle / MANIFEST).read_text())
    data = (bundle / rel).read_bytes()
    manifest["files"][rel] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    _reseal(bundle, manifest)


@pytest.fixture
def bundle(tmp_path: Path, registry: Registry) -> Path:
    return _run(registry, tmp_path / "out")


def test_a_findings_json_nested_100000_deep_is_one_line_exit_2_for_report_and_diff(
    bundle: Path, tmp_path: Path
) -> None:
    _reseal_file(bundle, "findings.json", _deep_findings(bundle))
    for args in (["report", str(bundle), "--format", "csv,html", "--out", str(tmp_path / "r")],
                 ["diff", str(bundle), str(bundle)]):
        ran = CliRunner().invoke(cli, args)
        assert ran.exit_code == 2, (args[0], ran.output)
        assert "nested more than 256 levels deep" in ran.output and "Traceback" not in ran.output
        assert ran.output.count("\n") == 1
    # evaluate re-judges from the evidence: the altered findings are not what the evidence says
    ran = CliRunner().invoke(cli, ["evaluate", str(bundle)])
    assert ran.exit_code == 1 and "DIFFER" in ran.output


def test_diff_never_reads_a_record_a_finding_names_outside_its_bundle(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"secret": "root:x:0:0"}')
    a, b = _run(registry, tmp_path / "a"), _run(registry, tmp_path / "b")
    escape = os.path.relpath(outside, b)
    for side, message in ((a, "before"), (b, "after")):
        rows = json.loads((side / "findings.json").read_text())
        rows[0]["evidence"] = [escape, "/" + str(outside).lstrip("/")]
        rows[0]["message"] = message
        _reseal_file(side, "findings.json", json.dumps(rows, indent=2))
    opened: list[str] = []
    real_open = Path.read_text

    def spy(self: Path, *args: object, **kwargs: object) -> str:
        opened.append(str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", spy)
    ran = CliRunner().invoke(cli, ["diff", str(a), str(b)])
    assert ran.exit_code == 0, ran.output
    assert 'message: "before" → "after"' in ran.output
    assert "root:x:0:0" not in ran.output
    assert not [p for p in opened if Path(p).resolve() == outside]


def test_period_refuses_a_run_bundle_that_does_not_verify_exit_1(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = CliRunner().invoke(cli, ["run", "--only", "manual", "--out", str(out)])
    assert ran.exit_code in (0, 1, 3), ran.output
    run = next(out.glob("*/*/manifest.json")).parent
    (tmp_path / "passwd").write_text("root:x:0:0\n")
    (run / "evidence").mkdir(exist_ok=True)
    (run / "evidence" / "link.json").symlink_to(tmp_path / "passwd")
    ran = CliRunner().invoke(cli, ["period", PERIOD.name, "--out", str(out)])
    assert ran.exit_code == 1, ran.output
    assert "does not verify" in ran.output and "symbolic link" in ran.output and "Traceback" not in ran.output
    (run / "evidence" / "link.json").unlink()
    _reseal_file(run, "findings.json", _deep_findings(run))
    ran = CliRunner().invoke(cli, ["period", PERIOD.name, "--out", str(out)])
    assert ran.exit_code == 2 and "nested more than 256 levels deep" in ran.output, ran.output


def test_export_checks_the_signature(registry: Registry, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    keys = {}
    for name in ("ours", "theirs"):
        key = Ed25519PrivateKey.generate()
        keys[name] = key
        (tmp_path / f"{name}.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (tmp_path / f"{name}.pub").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    bundle = _run(registry, tmp_path / "out", bundle={"signing_key": str(tmp_path / "ours.pem")})
    assert (bundle / SIGNATURE).is_file()
    zip_ = tmp_path / "e.zip"
    good = CliRunner().invoke(cli, ["export", str(bundle), "--output", str(zip_), "--public-key",
                                    str(tmp_path / "ours.pub")])
    assert good.exit_code == 0 and zip_.is_file(), good.output
    zip_.unlink()
    # someone re-signs the altered manifest with their own key: hashes verify, the signature does not
    (bundle / SIGNATURE).write_bytes(Signer(keys["theirs"])((bundle / MANIFEST).read_bytes()))
    bad = CliRunner().invoke(cli, ["export", str(bundle), "--output", str(zip_), "--public-key",
                                   str(tmp_path / "ours.pub")])
    assert bad.exit_code == 1 and "signature does not match" in bad.output and not zip_.exists()
    config = tmp_path / "evidence.toml"
    config.write_text(f'[bundle]\nsigning_key = "{tmp_path / "ours.pem"}"\n')
    by_config = CliRunner().invoke(cli, ["export", str(bundle), "--output", str(zip_), "--config", str(config)])
    assert by_config.exit_code == 1 and "signature does not match" in by_config.output
    unchecked = CliRunner().invoke(cli, ["export", str(bundle), "--output", str(zip_)])
    assert unchecked.exit_code == 0 and f"{SIGNATURE} was not checked" in unchecked.output


_TRACER = """
import sys
log = open(sys.argv[1], "w", encoding="utf-8")
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        log.write(str(args[0]) + "\\n")
    elif event in ("os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
        log.write(str(args[0]) + "\\n")
sys.addaudithook(hook)
from evidence.cli import main
sys.argv = ["evidence", *sys.argv[2:]]
main()
"""


def test_a_file_access_trace_shows_nothing_outside_the_bundle_is_opened(bundle: Path, tmp_path: Path) -> None:
    """Every command that reads a bundle, run under an audit hook logging each file it opens,
    on a bundle that points outside itself three ways: a listed symbolic link, a listed `../`
    path, and a finding naming a record outside."""
    secret = tmp_path / "outside" / "secret.json"
    secret.parent.mkdir()
    secret.write_text('{"password": "hunter2"}')
    other = tmp_path / "other"
    other.mkdir()
    (bundle / "evidence").mkdir(exist_ok=True)
    (bundle / "evidence" / "link.json").symlink_to(secret)
    manifest = json.loads((bundle / MANIFEST).read_text())
    digest = {"sha256": hashlib.sha256(secret.read_bytes()).hexdigest(), "size": secret.stat().st_size}
    manifest["files"]["evidence/link.json"] = digest
    manifest["files"][os.path.relpath(secret, bundle)] = digest
    _reseal(bundle, manifest)
    commands = {
        "verify": ["verify", str(bundle)], "evaluate": ["evaluate", str(bundle)],
        "report": ["report", str(bundle), "--format", "csv,html,oscal", "--out", str(other / "r")],
        "export": ["export", str(bundle), "--output", str(other / "e.zip")],
        "diff": ["diff", str(bundle), str(bundle)],
    }
    for name, args in commands.items():
        log = other / f"{name}.log"
        ran = subprocess.run([sys.executable, "-c", _TRACER, str(log), *args], capture_output=True, text=True,
                             timeout=120, check=False, cwd=other)
        assert ran.returncode == 1, (name, ran.stdout, ran.stderr)
        assert "Traceback" not in ran.stderr
        opened = [Path(line) for line in log.read_text().splitlines()]
        assert any(str(p).startswith(str(bundle)) for p in opened), name  # the trace did see the bundle
        reached = [p for p in opened if (p if p.is_absolute() else other / p).resolve().is_relative_to(secret.parent)]
        assert reached == [], (name, reached)
