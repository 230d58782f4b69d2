"""`evidence attach`: mistakes on the command line are usage errors (exit 2) and store nothing."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from evidence.cli import cli


def test_a_bad_date_is_exit_2_and_stores_nothing(tmp_path: Path) -> None:
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["attach", "PENTEST", str(report), "--valid-until", "31/12/2027",
                                      "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "--valid-until" in result.output
    assert not out.exists() or not any(out.rglob("*.pdf"))


def test_an_unknown_control_is_exit_2_naming_it(tmp_path: Path) -> None:
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n")
    result = CliRunner().invoke(cli, ["attach", "NOPE", str(report), "--valid-until", "2027-12-31",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "NOPE" in result.output
