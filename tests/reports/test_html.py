"""report.html: self-contained, every control and criterion, failures first, hostile text escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from evidence.bundle import load_manifest
from evidence.cli import cli
from evidence.registry import Registry
from evidence.reports import load_bundle, manifest_content_digest
from evidence.reports.html import render_html, write_html
from tests.reports.support import assert_self_contained, make_bundle


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
                 manifest["tool"]["version"], manifest_content_digest(manifest), manifest["signature"]["public_key"]):
        assert str(text) in html, text
    # every source's scope rows, in its collector's words: AWS regions and accounts, the Google
    # tenant, the GitHub organization, the probed endpoints
    details = manifest["scope"]["details"]
    assert set(details) == {"aws", "github", "google_workspace", "people", "probe"}
    assert details["aws"]["accounts"] and details["aws"]["rows"][0][0] == "AWS regions"
    for detail in details.values():
        for label, value in detail["rows"]:
            assert f"{label}</th>" in html and str(value) in html, (label, value)
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


def test_streamed_html_is_the_rendered_html(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry, passing=3, formats=("html",))
    content = load_bundle(bundle)
    write_html(content, tmp_path / "again.html")
    again = (tmp_path / "again.html").read_bytes()
    assert again == render_html(content).encode() == (bundle / "report.html").read_bytes()
