"""findings.csv and controls.csv: one row per finding and per control, formulas defused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from evidence.reports.csv import findings_csv


def test_csv_one_row_per_finding_and_control_and_formulas_defused(bundle: Path) -> None:
    findings = json.loads((bundle / "findings.json").read_text())
    rows = list(csv.DictReader(io.StringIO((bundle / "findings.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(findings)
    assert [r["resource_id"] for r in rows] == [f["resource_id"] for f in findings]
    bad = next(r for r in rows if r["resource_id"].endswith("/bad"))
    assert bad["status"] == "fail"
    assert bad["evidence"].split("; ") == next(f["evidence"] for f in findings if f["resource_id"].endswith("/bad"))
    assert json.loads(bad["observed"])["note"].startswith("=HYPERLINK")  # JSON cells start with {, kept whole
    controls = list(csv.DictReader(io.StringIO((bundle / "controls.csv").read_text(encoding="utf-8-sig"))))
    assert [c["control_id"] for c in controls] == [c["control_id"] for c in json.loads(
        (bundle / "controls.json").read_text())]
    enc = next(c for c in controls if c["control_id"] == "ENC-TRANSIT")
    assert (enc["verdict"], enc["fail"], enc["error"], enc["waived"]) == ("fail", "1", "1", "1")


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted() -> None:
    from evidence.models import Finding, Status

    f = Finding(control_id="C", check_id="k", status=Status.FAIL, source="aws", resource_id="=cmd|' /C calc'!A0",
                message="+1", observed="-2", expected="@SUM(A1)")
    row = next(csv.DictReader(io.StringIO(findings_csv([f]))))
    assert row["resource_id"] == "'=cmd|' /C calc'!A0"
    assert (row["message"], row["observed"], row["expected"]) == ("'+1", "'-2", "'@SUM(A1)")
