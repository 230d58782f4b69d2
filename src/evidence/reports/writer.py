"""`write_reports`: render a bundle's reports into a folder; `regenerate_in_place`: into the
bundle itself, re-sealing it.

    report.html    see `evidence.reports.html`
    report.pdf     see `evidence.reports.pdf`
    findings.csv   one row per finding, controls.csv one row per control (`evidence.reports.csv`)
    oscal/assessment-results.json   see `evidence.reports.oscal`
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from urllib.parse import quote

from evidence.bundle import SIGNATURE, PartialBundle, verify
from evidence.reports.content import FORMATS, BundleContent, BundleTampered, ReportError, load_bundle
from evidence.reports.csv import controls_csv, write_findings_csv
from evidence.reports.html import write_html
from evidence.reports.junit import write_junit
from evidence.reports.oscal import write_assessment_results
from evidence.reports.pdf import render_pdf
from evidence.reports.sarif import write_sarif


def _write(out: Path, rel: str, data: bytes) -> Path:
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def write_reports(
    content: BundleContent, out: Path, formats: Collection[str] = FORMATS, *, templates: Path | None = None
) -> list[Path]:
    """Render `formats` into `out` (the bundle itself, or another folder whose links point back
    into the bundle); returns the files written. CSV is written with a UTF-8 BOM so spreadsheets
    read it as UTF-8."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ReportError(f"unknown report format {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    written: list[Path] = []
    prefix = _prefix(content.root, out)
    if "html" in formats:
        write_html(content, out / "report.html", prefix=prefix, templates=templates)
        written.append(out / "report.html")
    if "pdf" in formats:
        written.append(_write(out, "report.pdf", render_pdf(content, templates=templates)))
    if "csv" in formats:
        write_findings_csv(content.iter_findings(), out / "findings.csv")
        written.append(out / "findings.csv")
        written.append(
            _write(out, "controls.csv", controls_csv(content.verdicts, content.judging).encode("utf-8-sig"))
        )
    if "oscal" in formats:
        # streamed: a large bundle's document is never held in memory
        write_assessment_results(content, out / "oscal/assessment-results.json", _prefix(content.root, out / "oscal"))
        written.append(out / "oscal/assessment-results.json")
    if "sarif" in formats:
        write_sarif(content, out / "evidence.sarif")
        written.append(out / "evidence.sarif")
    if "junit" in formats:
        write_junit(content, out / "junit.xml")
        written.append(out / "junit.xml")
    return written


def _prefix(bundle: Path, out: Path) -> str:
    """How a file in `out` refers to the bundle's files: '' inside it, else a relative path."""
    rel = Path(os.path.relpath(bundle.resolve(), out.resolve())).as_posix()
    return "" if rel == "." else quote(rel) + "/"


def regenerate_in_place(bundle: Path, formats: Collection[str] = FORMATS) -> list[Path]:
    """Re-render reports inside a sealed bundle and re-seal its manifest.

    Only for an intact, unsigned bundle: re-sealing an altered bundle would launder the
    alteration, and re-sealing a signed one would invalidate a signature this tool cannot
    renew. The run metadata is kept as it is; with the same tool version the reports, and so
    the manifest, come out byte-identical.
    """
    problems = verify(bundle)
    if problems:
        raise BundleTampered(f"{bundle}: not re-sealed, the bundle does not verify: " + "; ".join(problems[:5]))
    if (bundle / SIGNATURE).is_file():
        raise ReportError(
            f"{bundle}: the bundle is signed; re-sealing would invalidate {SIGNATURE}. "
            "Write the reports elsewhere with --out DIR"
        )
    content = load_bundle(bundle)
    written = write_reports(content, bundle, formats)
    meta = dict(content.meta)
    # a report the run could not render and that is now rendered is no longer an error
    left = [e for e in meta.pop("report_errors", []) if e.split(":", 1)[0] not in formats]
    if left:
        meta["report_errors"] = left
    PartialBundle(tmp=bundle, final=bundle).seal(meta)
    return written
