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
    assert result.exit_code == 3 and "evidence report" in result.plugin_errors[-1]
