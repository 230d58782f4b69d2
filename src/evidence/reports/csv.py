"""findings.csv (one row per finding) and controls.csv (one row per control), for
spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from evidence.judge import Judging
from evidence.models import ControlVerdict, Finding
from evidence.reports.views import STATUS_ORDER
from evidence.spreadsheet import cell


def _write_csv(fh: TextIO, header: list[str], rows: Iterable[list[Any]]) -> None:
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    buf = io.StringIO()
    _write_csv(buf, header, rows)
    return buf.getvalue()


FINDINGS_CSV_HEADER = ["control_id", "check_id", "status", "source", "resource_id", "resource_type", "account",
                       "region", "observed", "expected", "message", "evidence", "waiver"]


def _finding_rows(findings: Iterable[Finding]) -> Iterator[list[Any]]:
    for f in findings:
        yield [f.control_id, f.check_id, f.status.value, f.source, f.resource_id, f.resource_type, f.account,
               f.region, f.observed, f.expected, f.message, "; ".join(f.evidence), f.waiver or ""]


def findings_csv(findings: Iterable[Finding]) -> str:
    return _csv(FINDINGS_CSV_HEADER, _finding_rows(findings))


def write_findings_csv(findings: Iterable[Finding], path: Path) -> None:
    """`findings.csv` written row by row (UTF-8 with a BOM, so spreadsheets read it as UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        _write_csv(fh, FINDINGS_CSV_HEADER, _finding_rows(findings))


def controls_csv(verdicts: Iterable[ControlVerdict], judging: Judging) -> str:
    header = ["control_id", "title", "verdict", "criteria", *(s.value for s in STATUS_ORDER), "checks",
              "manual_evidence", "section", "statement"]
    catalog = judging.catalog.controls
    return _csv(header, (
        [v.control_id, v.title, v.verdict.value, "; ".join(v.criteria),
         *(v.counts.get(s.value, 0) for s in STATUS_ORDER), "; ".join(v.checks), "; ".join(v.manual),
         catalog[v.control_id].section if v.control_id in catalog else "", v.statement]
        for v in verdicts
    ))
