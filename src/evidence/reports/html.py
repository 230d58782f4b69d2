"""report.html: self-contained (inline CSS, no script, a Content-Security-Policy that forbids
loading anything); failures first, passing resources collapsed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from evidence.reports.content import BundleContent
from evidence.reports.context import build_view
from evidence.reports.templates import environment


def _html_chunks(content: BundleContent, prefix: str, templates: Path | None) -> Iterator[str]:
    view = build_view(content, prefix=prefix)
    return environment(templates).get_template("report.html.j2").generate(view, v=view)


def render_html(content: BundleContent, *, prefix: str = "", templates: Path | None = None) -> str:
    """`report.html`: evidence links are `prefix` + the path inside the bundle."""
    return "".join(_html_chunks(content, prefix, templates))


def write_html(content: BundleContent, path: Path, *, prefix: str = "", templates: Path | None = None) -> None:
    """`report.html` written as the template renders it (the same bytes as `render_html`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(_html_chunks(content, prefix, templates))
