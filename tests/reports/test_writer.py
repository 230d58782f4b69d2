"""Writing reports: from the bundle alone, byte-identical, elsewhere or in place (re-sealed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from evidence.bundle import load_manifest, verify
from evidence.cli import cli
from evidence.registry import Registry
from evidence.reports import FORMATS, REPORT_FILES, load_bundle, write_reports
from tests.reports.support import assert_self_contained, make_bundle


def test_reports_regenerated_from_the_bundle_alone_are_byte_identical(demo_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / demo_bundle.name
    shutil.copytree(demo_bundle, copy)
    for name in REPORT_FILES:
        (copy / name).unlink()
    write_reports(load_bundle(copy), copy)
    assert verify(copy) == []


def test_report_command_writes_elsewhere_with_links_back_into_the_bundle(demo_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    before = (demo_bundle / "manifest.json").read_bytes()
    result = CliRunner().invoke(cli, ["report", str(demo_bundle), "--format", "html,csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["controls.csv", "findings.csv", "report.html"]
    assert assert_self_contained(out / "report.html", demo_bundle) > 0
    assert (out / "findings.csv").read_bytes() == (demo_bundle / "findings.csv").read_bytes()
    assert (demo_bundle / "manifest.json").read_bytes() == before


def test_report_command_refuses_to_reseal_a_signed_bundle(demo_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / demo_bundle.name
    shutil.copytree(demo_bundle, copy)
    result = CliRunner().invoke(cli, ["report", str(copy), "--in-place"])
    assert result.exit_code == 2
    assert "signed" in result.output and "--out" in result.output
    assert verify(copy) == []


def test_in_place_regeneration_refuses_an_altered_bundle(bundle: Path) -> None:
    (bundle / "findings.csv").write_text("stale", encoding="utf-8")
    before = (bundle / "manifest.json").read_bytes()
    result = CliRunner().invoke(cli, ["report", str(bundle), "--in-place"])
    assert result.exit_code == 1 and "does not verify" in result.output  # re-sealing would launder it
    assert "findings.csv" in result.output
    assert (bundle / "manifest.json").read_bytes() == before


def test_in_place_regeneration_of_an_intact_bundle_keeps_the_manifest(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry, formats=FORMATS)
    before = (bundle / "manifest.json").read_bytes()
    result = CliRunner().invoke(cli, ["report", str(bundle), "--in-place", "--format", "html,csv,oscal,pdf"])
    assert result.exit_code == 0, result.output
    assert (bundle / "manifest.json").read_bytes() == before
    assert verify(bundle) == []


def test_report_command_rejects_unknown_formats(bundle: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(bundle), "--format", "html,docx"])
    assert result.exit_code == 2 and "docx" in result.output


def test_in_place_renders_a_report_the_run_could_not(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry, extra_meta={"report_errors": ["pdf: OSError: no fonts"]})
    assert not (bundle / "report.pdf").exists()
    result = CliRunner().invoke(cli, ["report", str(bundle), "--in-place", "--format", "pdf"])
    assert result.exit_code == 0, result.output
    assert (bundle / "report.pdf").is_file() and verify(bundle) == []
    manifest = load_manifest(bundle)
    assert "report_errors" not in manifest and "report.pdf" in manifest["files"]
