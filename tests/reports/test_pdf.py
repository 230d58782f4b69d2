"""report.pdf: every control of the catalog, the period, page numbers and a table of contents."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from evidence.bundle import load_manifest
from evidence.catalog import load_catalog
from evidence.registry import Registry
from evidence.reports import load_bundle
from evidence.reports.context import build_view
from tests.reports.support import make_bundle


def test_demo_pdf_text_has_every_control_of_the_catalog_and_the_period(demo_bundle: Path) -> None:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing: CI must install poppler-utils")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(demo_bundle / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    manifest = load_manifest(demo_bundle)
    for control_id in load_catalog().controls:
        assert control_id in text, control_id
    period = manifest["period"]
    assert f"{period['name']}: {period['start']} to {period['end']}" in text
    assert re.search(r"Page 2 of \d+", text)
    assert "Contents" in text


def _pdftotext(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing: CI must install poppler-utils")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_contents_names_every_control_with_its_page_and_lists_failures_first(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidence.reports.context as context

    monkeypatch.setattr(context, "PDF_ROW_LIMIT", 1)
    bundle = make_bundle(tmp_path / "out", registry, passing=3, formats=("pdf",))
    text = _pdftotext(bundle / "report.pdf")
    pages = text.count("\f")
    # every page is numbered "Page N of M", M being the page count
    assert re.search(rf"Page 1 of {pages}\b", text) and re.search(rf"Page {pages} of {pages}\b", text)
    # the contents list every control with its verdict and the page it starts on
    contents = text[text.index("Contents"):text.index("Reading and verifying this report")]
    view = build_view(load_bundle(bundle), pdf=True)
    for c in view["controls"]:
        label = view["labels"][c.verdict.value]
        assert re.search(rf"{re.escape(c.id)}: {re.escape(c.title)} \({re.escape(label)}\)[ .]+\d+\n", contents), c.id
    # in a control's section, its failures and errors come before its passing findings, which are
    # listed up to PDF_ROW_LIMIT per status and counted beyond
    details = text[text.rindex("Controls in detail"):]
    section = details[details.index("ENC-TRANSIT"):]
    section = section[:section.index("TLS-CERTS")]
    assert section.index("Failures and errors") < section.index("/bad") < section.index("Passing and not applicable")
    assert section.index("Passing and not applicable") < section.index("good-00000")
    assert "good-00001" not in section and "and 2 more passing and not applicable findings" in section
