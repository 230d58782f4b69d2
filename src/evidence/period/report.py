"""The period report (report.html, report.pdf of a period bundle): per control a day-by-day
strip across the period, the deviations, and the populations with their default sample size.
Rendered from the period bundle's own files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evidence import __version__
from evidence.catalog import default_templates_dir
from evidence.reports.pdf import timestamp_of, typeset
from evidence.reports.templates import environment
from evidence.sampling import default_size

#: the Typst template of report.pdf, in the templates folder
PDF_TEMPLATE = "period.typ"
LABELS = {"pass": "Pass", "fail": "Fail", "error": "Error", "manual": "Manual", "not_applicable": "N/A",
          "waived": "Waived", "gap": "No run"}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def period_view(files: Mapping[str, str], meta: Mapping[str, Any], *, pdf: bool = False) -> dict[str, Any]:
    coverage = json.loads(files["coverage.json"])
    days: dict[str, list[dict[str, str]]] = {}
    for row in _rows(files["coverage.csv"]):
        days.setdefault(row["control_id"], []).append({"date": row["date"], "verdict": row["verdict"]})
    controls = [{**c, "strip": days.get(c["control_id"], [])} for c in coverage["controls"]]
    populations = []
    for rel, text in sorted(files.items()):
        if rel.startswith("populations/"):
            items = len(_rows(text))
            name = rel.removeprefix("populations/").removesuffix(".csv").replace("-", " ")
            populations.append({"name": name, "file": rel.removeprefix("populations/"), "count": items,
                                "sample": default_size("per-event", items)})
    return {
        "pdf": pdf, "version": __version__, "labels": LABELS, "company": meta.get("company") or "Unnamed company",
        "period": coverage["period"], "range": coverage["range"], "schedule": coverage["schedule"],
        "runs": coverage["runs"], "period_id": meta.get("period_id", ""), "controls": controls,
        "throughout": sum(1 for c in controls if c["operated_throughout"]),
        "deviations": _rows(files["deviations.csv"]), "populations": populations,
    }


def render_period_html(files: Mapping[str, str], meta: Mapping[str, Any]) -> str:
    return environment().get_template("period.html.j2").render(period_view(files, meta))


def render_period_pdf(files: Mapping[str, str], meta: Mapping[str, Any], *, templates: Path | None = None) -> bytes:
    """`report.pdf` of a period bundle: `period.typ` typeset by Typst with the view as JSON, in a
    process of its own (`evidence.reports.pdf.typeset`), dated when the bundle was built so the
    same files give the same bytes. Raises `ReportError` if Typst fails, crashes or times out."""
    view = period_view(files, meta, pdf=True)
    return typeset((templates or default_templates_dir()) / PDF_TEMPLATE, view, timestamp_of(meta, ("built_at",)))
