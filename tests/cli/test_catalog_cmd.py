"""`evidence catalog from-text|validate`: a catalog drafted from an overview, checked by the same
validation as `evidence controls validate`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from evidence.catalog import load_catalog
from evidence.cli.catalog_cmd import catalog_group
from evidence.demo.catalog import demo_overview
from tests.catalog_text.test_held_out import ACME


def _catalog(*args: str) -> Result:
    return CliRunner().invoke(catalog_group, list(args))


def test_from_text_drafts_zaptic_and_validate_accepts_it(tmp_path: Path) -> None:
    out = tmp_path / "zaptic"
    result = _catalog("from-text", str(demo_overview()), "--out", str(out))
    assert result.exit_code == 0, result.output
    catalog = load_catalog(out)
    assert {"ENC-TRANSIT", "TLS-CERTS", "DATA-RESIDENCY", "DISCLOSURE"} <= set(catalog.controls)
    assert f"{len(catalog.controls)} controls drafted in {out}: 28 by rules" in result.output
    checked = _catalog("validate", str(out))
    assert checked.exit_code == 0, checked.output
    assert f"{len(catalog.controls)} controls valid" in checked.output


def test_validate_accepts_the_held_out_catalog(tmp_path: Path) -> None:
    overview = tmp_path / "acme.txt"
    overview.write_text(ACME, encoding="utf-8")
    assert _catalog("from-text", str(overview), "--out", str(tmp_path / "acme")).exit_code == 0
    checked = _catalog("validate", str(tmp_path / "acme"))
    assert checked.exit_code == 0, checked.output


def test_explain_shows_rules_words_and_the_unmapped_last(tmp_path: Path) -> None:
    result = _catalog("from-text", str(demo_overview()), "--out", str(tmp_path / "z"), "--explain")
    assert result.exit_code == 0, result.output
    out = result.output
    assert 'ENC-TRANSIT: Encryption in transit (CC6.7) by rule ENC-TRANSIT' in out
    assert 'min_tls = "1.2": from "TLS 1.2"' in out
    assert 'allowed_regions = ["eu-west-2"]: from "United Kingdom' in out
    assert "note: security contact stated: security@zaptic.com" in out
    unmapped = out.index("Unmapped statements")
    assert out.index("STMT-01-") > unmapped and out.index("DISCLOSURE:") < unmapped


def test_from_text_reads_a_local_html_page(tmp_path: Path) -> None:
    page = tmp_path / "trust.html"
    page.write_text("<html><body><h2>Encryption</h2><p>We encrypt data in transit with <em>TLS 1.3</em>.</p>"
                    "<script>document.write('TLS 1.0')</script></body></html>", encoding="utf-8")
    result = _catalog("from-text", str(page), "--out", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    control = load_catalog(tmp_path / "c").get("ENC-TRANSIT")
    assert control.statement == "We encrypt data in transit with TLS 1.3."
    assert control.section == "Encryption"
    assert {r.params.get("min_tls") for r in control.checks} == {None, "1.3"}


def test_an_existing_catalog_is_replaced_only_with_force(tmp_path: Path) -> None:
    out = tmp_path / "c"
    out.mkdir()
    (out / "OLD.toml").write_text("id = 'OLD'")
    overview = tmp_path / "o.txt"
    overview.write_text("We encrypt data in transit with TLS 1.2.", encoding="utf-8")
    refused = _catalog("from-text", str(overview), "--out", str(out))
    assert refused.exit_code == 2
    assert "already holds 1 controls" in refused.output and (out / "OLD.toml").exists()
    forced = _catalog("from-text", str(overview), "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert sorted(p.name for p in out.iterdir()) == ["ENC-TRANSIT.toml"]


def test_text_that_promises_nothing_is_a_usage_error(tmp_path: Path) -> None:
    overview = tmp_path / "o.txt"
    overview.write_text("Acme was founded in 2015.\n\nIt sells maps.", encoding="utf-8")
    result = _catalog("from-text", str(overview), "--out", str(tmp_path / "c"))
    assert result.exit_code == 2
    assert "no testable promise found in 2 sentences" in result.output
    assert not (tmp_path / "c").exists()


def test_unreadable_text_and_broken_rules_are_usage_errors(tmp_path: Path) -> None:
    binary = tmp_path / "o.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "cannot read as UTF-8" in _catalog("from-text", str(binary), "--out", str(tmp_path / "c")).output
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rules]]\ncontrol = 'X'\n")
    text = tmp_path / "t.txt"
    text.write_text("We encrypt data in transit.", encoding="utf-8")
    result = _catalog("from-text", str(text), "--out", str(tmp_path / "c"), "--rules", str(rules))
    assert result.exit_code == 2
    assert "rules.toml: rule X.match: a list expected" in result.output


def test_validate_rejects_a_drafted_catalog_after_a_bad_edit(tmp_path: Path) -> None:
    overview = tmp_path / "o.txt"
    overview.write_text("We encrypt data in transit with TLS 1.2.", encoding="utf-8")
    _catalog("from-text", str(overview), "--out", str(tmp_path / "c"))
    path = tmp_path / "c" / "ENC-TRANSIT.toml"
    path.write_text(path.read_text().replace('params = { min_tls = "1.2" }', 'params = { min_tls = "2.0" }', 1))
    result = _catalog("validate", str(tmp_path / "c"))
    assert result.exit_code == 2
    assert "ENC-TRANSIT: check 'aws.elbv2.listener_tls_min_version' parameter 'min_tls'" in result.output
