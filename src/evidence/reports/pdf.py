"""report.pdf: the content of report.html through WeasyPrint, with a table of contents and
page numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence.reports.content import BundleContent
from evidence.reports.context import build_view
from evidence.reports.templates import environment


def render_pdf(content: BundleContent, *, templates: Path | None = None) -> bytes:
    """`report.pdf` from the print variant of the same template, fetching nothing."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class _NoFetch(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise FatalURLFetchingError(f"the report must load nothing, yet it referenced {url}")

    view = build_view(content, pdf=True)
    html = environment(templates).get_template("report_pdf.html.j2").render(view, v=view)
    pdf: bytes = HTML(string=html, url_fetcher=_NoFetch()).write_pdf()
    return pdf
