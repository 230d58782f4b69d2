"""`evidence demo --period`: a simulated quarter of weekly runs and its period bundle."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from evidence.cli import cli


def test_demo_period_simulates_a_quarter_with_a_degraded_listener_and_a_leaver(tmp_path: Path) -> None:
    ran = CliRunner().invoke(cli, ["demo", "--period", "--out", str(tmp_path)], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    assert "ENC-TRANSIT" in ran.output and "throughout" in ran.output
    bundle = Path(next(line for line in ran.output.splitlines() if line.startswith("verify: "))
                  .removeprefix("verify: evidence verify "))
    assert CliRunner().invoke(cli, ["verify", str(bundle)]).exit_code == 0
    coverage = list(csv.DictReader(io.StringIO((bundle / "coverage.csv").read_text(encoding="utf-8"))))
    assert {r["verdict"] for r in coverage} - {"pass", "fail", "error", "manual", "not_applicable"} == set()
    episodes = [r for r in csv.DictReader(io.StringIO((bundle / "deviations.csv").read_text(encoding="utf-8")))
                if "/app/app/" in r["resource_id"] and r["check_id"] == "aws.elbv2.listener_tls_min_version"]
    assert [(r["days"], r["within_sla"]) for r in episodes] == [("14", "yes")]  # two weeks, then restored
    leavers = (bundle / "populations/workspace-leavers.csv").read_text(encoding="utf-8")
    assert "chloe@zaptic.example" in leavers
    # the period report's PDF, typeset by Typst: the company, each control, a deviation's resource
    assert (bundle / "report.pdf").read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is not None:
        text = subprocess.run(["pdftotext", "-raw", str(bundle / "report.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "Zaptic" in text and "operated throughout" in text
        assert all(r["control_id"] in text for r in coverage)
        assert episodes[0]["resource_id"] in "".join(text.split())
