"""The reports an auditor reads, rendered from a bundle alone.

    report.html    self-contained (inline CSS, no script, a Content-Security-Policy that forbids
                   loading anything); failures first, passing resources collapsed   (`html`)
    report.pdf     the same content typeset by Typst (templates/report.typ), with a table of contents
                   and page numbers
                   (`pdf`)
    findings.csv   one row per finding, controls.csv one row per control, for spreadsheets (`csv`)
    oscal/assessment-results.json   an OSCAL assessment-results document (`oscal`)

Every renderer reads a `BundleContent` (`content`); `writer` writes the formats asked for,
`phase` renders them into a bundle as the runner's last phase, before it is sealed, and `export`
zips a verified bundle for the auditor.
"""

from evidence.reports.content import (
    CHECKS_FILE,
    FORMATS,
    OUTPUTS,
    REPORT_FILES,
    BundleContent,
    BundleTampered,
    ReportError,
    load_bundle,
    manifest_content_digest,
)
from evidence.reports.export import ExportError, export_bundle
from evidence.reports.oscal import write_assessment_results
from evidence.reports.phase import render_into_bundle
from evidence.reports.writer import regenerate_in_place, write_reports

__all__ = [
    "CHECKS_FILE",
    "FORMATS",
    "OUTPUTS",
    "REPORT_FILES",
    "BundleContent",
    "BundleTampered",
    "ExportError",
    "ReportError",
    "export_bundle",
    "load_bundle",
    "manifest_content_digest",
    "regenerate_in_place",
    "render_into_bundle",
    "write_assessment_results",
    "write_reports",
]
