"""Reading a bundle for the reports: an altered bundle is refused, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.cli import cli
from evidence.reports import ReportError, load_bundle


def test_reports_are_not_rendered_from_an_altered_bundle(bundle: Path, tmp_path: Path) -> None:
    findings = bundle / "findings.json"
    findings.write_text(findings.read_text().replace('"fail"', '"pass"'), encoding="utf-8")
    with pytest.raises(ReportError, match=r"findings\.json"):
        load_bundle(bundle)
    result = CliRunner().invoke(cli, ["report", str(bundle), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "findings.json" in result.output  # tampering, as verify says: exit 1
    assert not (tmp_path / "r").exists()
