"""report.html, report.pdf, findings.csv and controls.csv: content, self-containment, stability."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from evidence.bundle import load_manifest, verify
from evidence.catalog import load_catalog
from evidence.cli import cli
from evidence.registry import Registry
from evidence.report import (
    FORMATS,
    HTML_ROW_LIMIT,
    OUTPUTS,
    PDF_PASS_LIMIT,
    REPORT_FILES,
    ReportError,
    build_view,
    load_bundle,
    manifest_content_digest,
    render_pdf,
    write_reports,
)
from tests.report_support import make_bundle, shared_demo_bundle

#: attributes through which HTML can make a browser load or link something
_URL_ATTRS = {"href", "src", "srcset", "action", "formaction", "poster", "data", "background", "cite", "longdesc",
              "manifest", "ping", "xlink:href", "content"}
_LOADING_TAGS = {"script", "link", "img", "iframe", "frame", "object", "embed", "video", "audio", "source", "track",
                 "form", "base", "svg", "image"}


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_demo_bundle(tmp_path_factory)[0]


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.meta: list[dict[str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "meta":
            self.meta.append(values)
        if tag == "style":
            self._in_style = True
        for name, value in values.items():
            if name in _URL_ATTRS and not (tag == "meta" and name == "content"):
                self.refs.append((tag, name, value))
            if name == "style":
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _parse(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def assert_self_contained(html: Path, bundle: Path) -> int:
    """No loading element, no network reference, every link resolves; returns the number of
    evidence links checked."""
    refs = _parse(html)
    assert not (refs.tags & _LOADING_TAGS), refs.tags & _LOADING_TAGS
    csp = [m for m in refs.meta if m.get("http-equiv", "").lower() == "content-security-policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]
    for css in refs.styles:
        assert "url(" not in css and "@import" not in css
    files = 0
    for tag, attr, value in refs.refs:
        assert tag == "a" and attr == "href", (tag, attr, value)
        parts = urlsplit(value)
        assert not parts.scheme and not parts.netloc, value  # no http:, file:, //host, mailto: ...
        if value.startswith("#"):
            assert value[1:] in refs.ids, f"dangling anchor {value}"
            continue
        target = (html.parent / unquote(parts.path)).resolve()
        assert target.is_file(), f"{value} does not resolve to a file"
        assert target.is_relative_to(bundle.resolve()), f"{value} leaves the bundle"
        files += 1
    return files


# -- the demo's bundle -----------------------------------------------------------------------


def test_demo_bundle_holds_every_report_listed_in_its_manifest(demo_bundle: Path) -> None:
    files = load_manifest(demo_bundle)["files"]
    for name in [*REPORT_FILES, "checks.json"]:
        assert name in files, name
        assert (demo_bundle / name).stat().st_size == files[name]["size"]
    assert verify(demo_bundle) == []


def test_demo_html_loads_nothing_and_every_evidence_link_resolves(demo_bundle: Path) -> None:
    links = assert_self_contained(demo_bundle / "report.html", demo_bundle)
    findings = json.loads((demo_bundle / "findings.json").read_text())
    assert links >= sum(len(f["evidence"]) for f in findings if f["status"] in ("fail", "error"))
    html = (demo_bundle / "report.html").read_text()
    # a URL in the data (a probed site) is shown as text, never as a link or a resource
    for url in re.findall(r"https?://[^\s\"<]+", html):
        assert f'href="{url}' not in html and f'src="{url}' not in html


def test_demo_html_cover_shows_scope_run_and_the_digest_verify_prints(demo_bundle: Path) -> None:
    manifest = load_manifest(demo_bundle)
    html = (demo_bundle / "report.html").read_text()
    for text in (manifest["company"], manifest["period"]["name"], manifest["period"]["start"],
                 manifest["period"]["end"], manifest["run_id"], manifest["started_at"], manifest["finished_at"],
                 manifest["tool"]["version"], manifest_content_digest(manifest), *manifest["scope"]["aws_regions"],
                 manifest["signature"]["public_key"]):
        assert str(text) in html, text
    result = CliRunner().invoke(cli, ["verify", str(demo_bundle)])
    assert f"content digest: {manifest_content_digest(manifest)}" in result.output


def test_demo_html_has_every_control_and_criterion_failures_first(demo_bundle: Path) -> None:
    html = (demo_bundle / "report.html").read_text()
    controls = json.loads((demo_bundle / "controls.json").read_text())
    for c in controls:
        assert f'id="control-{c["control_id"]}"' in html
        for crit in c["criteria"]:
            assert f'<td class="crit">{crit}</td>' in html
    failing = next(c for c in controls if c["verdict"] == "fail")
    section = html[html.index(f'id="control-{failing["control_id"]}"'):]
    section = section[:section.index('<section class="card')]
    if failing["counts"]["pass"]:
        assert section.index('class="row-fail"') < section.index("<details>")


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


def test_reports_regenerated_from_the_bundle_alone_are_byte_identical(demo_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / demo_bundle.name
    shutil.copytree(demo_bundle, copy)
    for name in REPORT_FILES:
        (copy / name).unlink()
    write_reports(load_bundle(copy), copy)
    assert verify(copy) == []


def test_report_command_writes_elsewhere_with_links_back_into_the_bundle(demo_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    before = (demo_bundle / "manifest.json").read_bytes()
    result = CliRunner().invoke(cli, ["report", str(demo_bundle), "--format", "html,csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["controls.csv", "findings.csv", "report.html"]
    assert assert_self_contained(out / "report.html", demo_bundle) > 0
    assert (out / "findings.csv").read_bytes() == (demo_bundle / "findings.csv").read_bytes()
    assert (demo_bundle / "manifest.json").read_bytes() == before


def test_report_command_refuses_to_reseal_a_signed_bundle(demo_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / demo_bundle.name
    shutil.copytree(demo_bundle, copy)
    result = CliRunner().invoke(cli, ["report", str(copy), "--in-place"])
    assert result.exit_code == 2
    assert "signed" in result.output and "--out" in result.output
    assert verify(copy) == []


# -- small bundles with every status -----------------------------------------------------------


@pytest.fixture
def bundle(tmp_path: Path, registry: Registry) -> Path:
    return make_bundle(tmp_path / "out", registry)


def test_every_status_manual_evidence_and_waiver_are_shown(bundle: Path) -> None:
    html = (bundle / "report.html").read_text()
    for label in ("Pass", "Fail", "Error", "Manual", "N/A", "Waived"):
        assert f">{label}</span>" in html, label
    # manual evidence: attached with its validity, expired, and a control nobody evidences yet
    assert 'href="attachments/pentest-2026.pdf"' in html and "2027-06-30" in html
    assert "(expired)" in html and "2026-06-30" in html
    assert "No automated check evidences this control yet." in html
    # the waiver, who approved it and until when
    for text in ("W-LEGACY", "Decommissioned in Q1", "cto@example.com", "2027-03-31"):
        assert text in html
    # the error names its remedy; an evidence path outside the bundle is never a link
    assert "Remedy: grant x:Y" in html
    assert "evidence/aws/not/in/the/bundle.json <span class=\"missing\">(not in the bundle)" in html
    assert 'href="evidence/aws/not' not in html
    # check descriptions come from checks.json, written by the hook
    assert "TLS" in html and (bundle / "checks.json").is_file()


def test_hostile_text_is_escaped(bundle: Path) -> None:
    html = (bundle / "report.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "Example &amp; Co &lt;Ltd&gt;" in html
    assert_self_contained(bundle / "report.html", bundle)


def test_failures_come_first_and_passing_resources_are_collapsed(bundle: Path) -> None:
    html = (bundle / "report.html").read_text()
    section = html[html.index('id="control-ENC-TRANSIT"'):]
    assert section.index("listener/app/web/1/bad") < section.index("<details>") < section.index("good-00000")


def test_csv_one_row_per_finding_and_control_and_formulas_defused(bundle: Path) -> None:
    findings = json.loads((bundle / "findings.json").read_text())
    rows = list(csv.DictReader(io.StringIO((bundle / "findings.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(findings)
    assert [r["resource_id"] for r in rows] == [f["resource_id"] for f in findings]
    bad = next(r for r in rows if r["resource_id"].endswith("/bad"))
    assert bad["status"] == "fail"
    assert bad["evidence"].split("; ") == next(f["evidence"] for f in findings if f["resource_id"].endswith("/bad"))
    assert json.loads(bad["observed"])["note"].startswith("=HYPERLINK")  # JSON cells start with {, kept whole
    controls = list(csv.DictReader(io.StringIO((bundle / "controls.csv").read_text(encoding="utf-8-sig"))))
    assert [c["control_id"] for c in controls] == [c["control_id"] for c in json.loads(
        (bundle / "controls.json").read_text())]
    enc = next(c for c in controls if c["control_id"] == "ENC-TRANSIT")
    assert (enc["verdict"], enc["fail"], enc["error"], enc["waived"]) == ("fail", "1", "1", "1")


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted() -> None:
    from evidence.models import Finding, Status
    from evidence.report import findings_csv

    f = Finding(control_id="C", check_id="k", status=Status.FAIL, source="aws", resource_id="=cmd|' /C calc'!A0",
                message="+1", observed="-2", expected="@SUM(A1)")
    row = next(csv.DictReader(io.StringIO(findings_csv([f]))))
    assert row["resource_id"] == "'=cmd|' /C calc'!A0"
    assert (row["message"], row["observed"], row["expected"]) == ("'+1", "'-2", "'@SUM(A1)")


def test_in_place_regeneration_refuses_an_altered_bundle(bundle: Path) -> None:
    (bundle / "findings.csv").write_text("stale", encoding="utf-8")
    before = (bundle / "manifest.json").read_bytes()
    result = CliRunner().invoke(cli, ["report", str(bundle), "--in-place"])
    assert result.exit_code == 2 and "does not verify" in result.output  # re-sealing would launder it
    assert "findings.csv" in result.output
    assert (bundle / "manifest.json").read_bytes() == before


def test_in_place_regeneration_of_an_intact_bundle_keeps_the_manifest(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry, formats=FORMATS)
    before = (bundle / "manifest.json").read_bytes()
    result = CliRunner().invoke(cli, ["report", str(bundle), "--in-place", "--format", "html,csv,oscal,pdf"])
    assert result.exit_code == 0, result.output
    assert (bundle / "manifest.json").read_bytes() == before
    assert verify(bundle) == []


def test_reports_are_not_rendered_from_an_altered_bundle(bundle: Path, tmp_path: Path) -> None:
    findings = bundle / "findings.json"
    findings.write_text(findings.read_text().replace('"fail"', '"pass"'), encoding="utf-8")
    with pytest.raises(ReportError, match=r"findings\.json"):
        load_bundle(bundle)
    result = CliRunner().invoke(cli, ["report", str(bundle), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "findings.json" in result.output
    assert not (tmp_path / "r").exists()


def test_report_command_rejects_unknown_formats(bundle: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(bundle), "--format", "html,docx"])
    assert result.exit_code == 2 and "docx" in result.output


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


def test_a_report_that_cannot_render_never_costs_the_run_its_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, registry: Registry
) -> None:
    import evidence.report as report

    def broken(*_: object, **__: object) -> bytes:
        raise OSError("no fonts")

    monkeypatch.setattr(report, "render_pdf", broken)
    from evidence.config import parse_config
    from evidence.runner import Runner
    from tests.conftest import PERIOD

    runner = Runner(config=parse_config({}), registry=registry, period=PERIOD, out=tmp_path, only={"manual"},
                    hooks=[report.ReportHook(registry.checks)])
    result = runner.run()
    assert result.bundle is not None and verify(result.bundle) == []
    manifest = load_manifest(result.bundle)
    assert manifest["report_errors"] == ["pdf: OSError: no fonts"]
    assert not (result.bundle / "report.pdf").exists() and (result.bundle / "report.html").is_file()
    assert result.exit_code == 3 and "evidence report" in result.plugin_errors[-1]


def test_in_place_renders_a_report_the_run_could_not(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry, extra_meta={"report_errors": ["pdf: OSError: no fonts"]})
    assert not (bundle / "report.pdf").exists()
    result = CliRunner().invoke(cli, ["report", str(bundle), "--in-place", "--format", "pdf"])
    assert result.exit_code == 0, result.output
    assert (bundle / "report.pdf").is_file() and verify(bundle) == []
    manifest = load_manifest(bundle)
    assert "report_errors" not in manifest and "report.pdf" in manifest["files"]


def test_a_check_lists_row_limit_findings_per_status_and_counts_the_rest(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidence.report as report

    monkeypatch.setattr(report, "HTML_ROW_LIMIT", 1)
    bundle = make_bundle(tmp_path / "out", registry, passing=3, formats=["html"])
    html = (bundle / "report.html").read_text()
    start = html.index('id="control-ENC-TRANSIT"')
    section = html[start:html.index('id="control-', start + 1)]
    # one failure and one error: each is the first of its status, both listed
    assert "/bad" in section and "123456789012/eu-west-2" in section
    # three passing: the first listed, two counted, and the failure count is the true total
    assert "good-00000" in section and "good-00001" not in section
    assert "and 2 more passing and not applicable findings" in section
    assert "2 findings</span>" in section


def test_streamed_html_is_the_rendered_html(tmp_path: Path, registry: Registry) -> None:
    from evidence.report import render_html, write_html

    bundle = make_bundle(tmp_path / "out", registry, passing=3, formats=["html"])
    content = load_bundle(bundle)
    write_html(content, tmp_path / "again.html")
    again = (tmp_path / "again.html").read_bytes()
    assert again == render_html(content).encode() == (bundle / "report.html").read_bytes()
