"""The report hook: checks.json and every report in the bundle, and a report that cannot render
never costs the run its bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence.bundle import load_manifest, verify
from evidence.registry import Registry
from evidence.reports import REPORT_FILES


def test_demo_bundle_holds_every_report_listed_in_its_manifest(demo_bundle: Path) -> None:
    files = load_manifest(demo_bundle)["files"]
    for name in [*REPORT_FILES, "checks.json"]:
        assert name in files, name
        assert (demo_bundle / name).stat().st_size == files[name]["size"]
    assert verify(demo_bundle) == []


def test_a_report_that_cannot_render_never_costs_the_run_its_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, registry: Registry
) -> None:
    import evidence.reports.writer as writer
    from evidence.reports import FORMATS

    def broken(*_: object, **__: object) -> bytes:
        raise OSError("no fonts")

    monkeypatch.setattr(writer, "render_pdf", broken)
    from evidence.config import parse_config
    from evidence.runner import Runner
    from tests.conftest import PERIOD

    runner = Runner(config=parse_config({}), registry=registry, period=PERIOD, out=tmp_path, only={"manual"},
                    report_formats=FORMATS)
    result = runner.run()
    assert result.bundle is not None and verify(result.bundle) == []
    manifest = load_manifest(result.bundle)
    assert manifest["report_errors"] == ["pdf: OSError: no fonts"]
    assert not (result.bundle / "report.pdf").exists() and (result.bundle / "report.html").is_file()
    # the verdicts decide the exit code (the manual controls: 0); the failed report is said apart
    assert result.exit_code == 0 and result.report_errors == ["pdf: OSError: no fonts"]


def test_a_typesetter_that_segfaults_costs_the_run_only_its_pdf(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Typst in a process of its own, made to die by SIGSEGV: `evidence run` still prints its
    summary, names the report that failed, exits with its verdict code (the manual controls: 0),
    and seals a bundle that verifies; `evidence report` renders the PDF afterwards."""
    import sys

    from click.testing import CliRunner

    import evidence.reports.pdf as pdf
    from evidence.cli import cli

    crash = "import ctypes; ctypes.string_at(0)"  # a read of address 0: SIGSEGV
    monkeypatch.setattr(pdf, "TYPESETTER", (sys.executable, "-c", crash))
    ran = CliRunner().invoke(cli, ["run", "--only", "manual", "--out", str(tmp_path / "out")])
    assert ran.exit_code == 0, ran.output
    assert "control" in ran.output  # the summary table was printed
    assert "evidence: report pdf: ReportError: Typst crashed (SIGSEGV)" in ran.output
    bundle = next((tmp_path / "out").glob("*/*/manifest.json")).parent
    assert verify(bundle) == [] and not (bundle / "report.pdf").exists()
    assert load_manifest(bundle)["report_errors"] == ["pdf: ReportError: Typst crashed (SIGSEGV)"]
    monkeypatch.undo()
    later = CliRunner().invoke(cli, ["report", str(bundle), "--format", "pdf", "--out", str(tmp_path / "later")])
    assert later.exit_code == 0, later.output
    assert (tmp_path / "later" / "report.pdf").read_bytes().startswith(b"%PDF")
