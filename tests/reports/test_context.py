"""The template context: how many findings a report lists, and what it counts instead."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from evidence.registry import Registry
from evidence.reports import FORMATS, OUTPUTS, load_bundle
from evidence.reports.context import HTML_ROW_LIMIT, PDF_PASS_LIMIT, build_view
from evidence.reports.pdf import render_pdf
from tests.reports.support import make_bundle


def test_ten_thousand_findings_html_collapsed_pdf_counts_passes(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry, passing=10_000, formats=FORMATS)
    content = load_bundle(bundle)
    assert len(content.findings) > 10_000
    html = (bundle / "report.html").read_text()
    section = html[html.index('id="control-ENC-TRANSIT"'):]
    assert section.index("/bad") < section.index("<details>") < section.index("good-00999")
    # a check lists HTML_ROW_LIMIT findings of one status and counts the rest (findings.csv has all)
    assert "good-01000" not in html and "good-09999" not in html
    assert f"and {10_000 - HTML_ROW_LIMIT:,} more passing and not applicable findings" in section
    assert "good-09999" in (bundle / "findings.csv").read_text(encoding="utf-8-sig")
    assert build_view(content, pdf=True)["list_passing"] is False and 10_000 > PDF_PASS_LIMIT
    pdf = (bundle / OUTPUTS["pdf"][0]).read_bytes()
    assert pdf == render_pdf(content)
    assert len(pdf) < 2_000_000  # passing findings are counted, not listed
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(bundle / "report.pdf"), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "listener/app/web/1/bad" in text.replace("\n", "") and "good-09999" not in text
        assert "Counted per check above" in text


def test_a_check_lists_row_limit_findings_per_status_and_counts_the_rest(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidence.reports.context as context

    monkeypatch.setattr(context, "HTML_ROW_LIMIT", 1)
    bundle = make_bundle(tmp_path / "out", registry, passing=3, formats=("html",))
    html = (bundle / "report.html").read_text()
    start = html.index('id="control-ENC-TRANSIT"')
    section = html[start:html.index('id="control-', start + 1)]
    # one failure and one error: each is the first of its status, both listed
    assert "/bad" in section and "123456789012/eu-west-2" in section
    # three passing: the first listed, two counted, and the failure count is the true total
    assert "good-00000" in section and "good-00001" not in section
    assert "and 2 more passing and not applicable findings" in section
    assert "2 findings</span>" in section
