"""The bundle: sealed, verifiable byte for byte, re-judged offline to the same findings."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from evidence.bundle import MANIFEST, PartialBundle, verify
from evidence.cli import cli
from evidence.demo.aws import seed_transit
from evidence.evaluate import evaluate
from evidence.registry import Registry
from tests.conftest import RunFn


@pytest.fixture
def bundle(mocked_aws: None, run_evidence: RunFn) -> Path:
    seed_transit(boto3.Session(), "eu-west-2")
    result = run_evidence({"aws": {"regions": ["eu-west-2"]}}, only={"aws", "manual"})
    assert result.bundle is not None
    return result.bundle


def test_layout_and_no_partial_folder_left(bundle: Path) -> None:
    for name in ("manifest.json", "manifest.sha256", "findings.json", "controls.json", "judging.json"):
        assert (bundle / name).is_file(), name
    assert any((bundle / "evidence" / "aws").rglob("*.json"))
    assert not [p for p in bundle.parent.iterdir() if p.name.startswith(".partial-")]


def test_untouched_bundle_verifies(bundle: Path) -> None:
    assert verify(bundle) == []
    result = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert result.exit_code == 0, result.output


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2
    data[i] = (data[i] + 1) % 256
    path.write_bytes(bytes(data))


def test_changing_one_byte_of_any_file_fails_naming_it(bundle: Path, tmp_path: Path) -> None:
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert len(files) > 10
    for rel in files:
        copy = tmp_path / "copy"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(bundle, copy)
        _flip_one_byte(copy / rel)
        result = CliRunner().invoke(cli, ["verify", str(copy)])
        assert result.exit_code != 0, rel
        named = "manifest.json" if rel == "manifest.sha256" else rel
        assert named in result.output, (rel, result.output)


def test_an_added_or_removed_file_is_named(bundle: Path) -> None:
    (bundle / "evidence" / "extra.json").write_text("{}")
    victim = next((bundle / "evidence" / "aws").rglob("*.json"))
    victim.unlink()
    problems = verify(bundle)
    assert any("evidence/extra.json: not listed" in p for p in problems)
    assert any(victim.relative_to(bundle).as_posix() in p and "missing" in p for p in problems)


def test_evaluate_reproduces_findings_byte_for_byte(bundle: Path, registry: Registry) -> None:
    text, _, _ = evaluate(bundle, registry)
    assert text == (bundle / "findings.json").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["evaluate", str(bundle)])
    assert "match findings.json byte for byte" in result.output
    assert result.exit_code == 1  # the seeded estate fails ENC-TRANSIT on purpose


def test_evaluate_output_is_the_same_bytes_and_leaves_no_scratch_file(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "rejudged.json"
    result = CliRunner().invoke(cli, ["evaluate", str(bundle), "--output", str(out)])
    assert "match findings.json byte for byte" in result.output
    assert out.read_bytes() == (bundle / "findings.json").read_bytes()
    result = CliRunner().invoke(cli, ["evaluate", str(bundle)])
    assert "match findings.json byte for byte" in result.output
    assert not list(scratch.iterdir())  # the re-judged copy compared against is gone
    unwritable = CliRunner().invoke(cli, ["evaluate", str(bundle), "--output", str(tmp_path)])
    assert unwritable.exit_code == 2
    assert unwritable.output.strip().startswith(f"evidence: error: --output {tmp_path}: cannot write")


def test_evaluate_notices_a_changed_judgement(bundle: Path) -> None:
    findings = bundle / "findings.json"
    findings.write_text(findings.read_text().replace('"status": "fail"', '"status": "pass"'))
    result = CliRunner().invoke(cli, ["evaluate", str(bundle)])
    assert result.exit_code == 1
    assert "MISMATCH findings.json" in result.output and "not re-judged" in result.output
    forced = CliRunner().invoke(cli, ["evaluate", "--no-verify", str(bundle)])
    assert forced.exit_code == 1
    assert "DIFFER" in forced.output


def test_a_partial_bundle_hashes_each_file_once_and_again_only_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidence.bundle as bundle_module

    hashed: list[str] = []
    real = bundle_module.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(bundle_module, "file_sha256", counting)
    partial = PartialBundle.create(tmp_path, "2026-Q4", "run-1")
    partial.write_text("a.json", "{}\n")
    partial.write_text("b.json", "[]\n")
    first = partial.digest(partial.tmp / "a.json")  # as the reports' cover digest does
    partial.digest(partial.tmp / "b.json")
    partial.write_text("b.json", "[1, 2]\n")  # rewritten after it was hashed: its size differs
    partial.seal({"run_id": "run-1"})
    files = json.loads((partial.tmp / MANIFEST).read_text())["files"]
    assert files["a.json"]["sha256"] == first == hashlib.sha256(b"{}\n").hexdigest()
    assert files["b.json"]["sha256"] == hashlib.sha256(b"[1, 2]\n").hexdigest()
    assert sorted(hashed) == ["a.json", "b.json", "b.json"]  # a once; b again, as it changed


def test_a_discarded_partial_bundle_leaves_no_empty_period_folder_but_keeps_other_runs(tmp_path: Path) -> None:
    first = PartialBundle.create(tmp_path, "2026-Q4", "run-a")
    first.discard()
    assert not (tmp_path / "2026-Q4").exists()  # a run refused before collecting leaves no trace
    kept = tmp_path / "2026-Q4" / "run-b"
    kept.mkdir(parents=True)
    second = PartialBundle.create(tmp_path, "2026-Q4", "run-c")
    second.discard()
    assert kept.is_dir() and not second.tmp.exists()
