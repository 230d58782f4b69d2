"""The Jinja environment report.html (and the period report) are rendered with; report.pdf is
typeset by Typst (`evidence.reports.pdf`), which cuts long values with `_truncate_pdf`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from evidence.catalog import default_templates_dir

#: values longer than this are cut in the PDF
PDF_MAX_VALUE_CHARS = 600


def _truncate_pdf(text: str) -> str:
    if len(text) <= PDF_MAX_VALUE_CHARS:
        return text
    return text[:PDF_MAX_VALUE_CHARS] + "… (cut; the whole value is in report.html and findings.json)"


def css_string(value: Any) -> str:
    """Text for the inside of a double-quoted CSS string in a <style> element: every character
    but letters, digits and `.,:;_-/()` and space is a CSS escape, so none needs HTML escaping."""
    return "".join(ch if ch.isalnum() or ch in " .,:;_-/()" else f"\\{ord(ch):x} " for ch in str(value))


def environment(templates: Path | None = None) -> Environment:
    """The report templates (`templates`, else the packaged ones) with the filters they use."""
    env = Environment(
        loader=FileSystemLoader(str(templates or default_templates_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["n"] = lambda v: f"{int(v):,}"
    env.filters["css_string"] = css_string
    env.filters["truncate_pdf"] = _truncate_pdf
    return env
