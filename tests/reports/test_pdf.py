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
