"""`evidence catalog init` copies the built-in catalog out to edit; an edited statement shows in
report.html and OSCAL and changes the catalog digest in the manifest (issue 18, acceptance 4);
`[bundle] catalog` selects it; `evidence catalog diff` says what changed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from evidence.bundle import load_manifest
from evidence.catalog import default_catalog_dir, load_catalog
from evidence.cli import cli

EDITED = "Acme keeps a signed confidentiality agreement on file for every contractor, before day one."


def _run(out: Path, *extra: str) -> Path:
    ran = CliRunner().invoke(cli, ["run", "--only", "manual", "--out", str(out), *extra])
    assert ran.exit_code == 0, ran.output
    return next(out.glob("*/*/manifest.json")).parent


def test_an_edited_statement_reaches_the_report_oscal_and_the_catalog_digest(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["catalog", "init", str(tmp_path / "controls")])
    assert made.exit_code == 0, made.output
    copied = sorted(p.name for p in (tmp_path / "controls").glob("*.toml"))
    assert copied == sorted(p.name for p in default_catalog_dir().glob("*.toml"))
    assert "[[checks]]" in (tmp_path / "controls" / "README.md").read_text()
    assert runner.invoke(cli, ["catalog", "init", str(tmp_path / "controls")]).exit_code == 2  # not over it
    assert runner.invoke(cli, ["catalog", "validate", str(tmp_path / "controls")]).exit_code == 0

    builtin = _run(tmp_path / "a")
    target = tmp_path / "controls" / "CONFIDENTIALITY.toml"
    original = load_catalog(default_catalog_dir()).controls["CONFIDENTIALITY"].statement
    target.write_text(target.read_text().replace(original, EDITED), encoding="utf-8")
    config = tmp_path / "evidence.toml"
    config.write_text('[bundle]\ncatalog = "controls"\n', encoding="utf-8")
    own = _run(tmp_path / "b", "--config", str(config))

    before, after = load_manifest(builtin), load_manifest(own)
    assert before["catalog_source"] == "built-in" and after["catalog_source"] == str(tmp_path / "controls")
    assert after["catalog_digest"] == load_catalog(tmp_path / "controls").digest != before["catalog_digest"]
    html = (own / "report.html").read_text(encoding="utf-8")
    assert EDITED in html and original not in html and after["catalog_digest"] in html
    oscal = json.loads((own / "oscal" / "assessment-results.json").read_text(encoding="utf-8"))
    assert EDITED in json.dumps(oscal)
    props = {p["name"]: p["value"] for p in oscal["assessment-results"]["results"][0]["props"]}
    assert props["catalog-digest"] == after["catalog_digest"]

    diff = runner.invoke(cli, ["catalog", "diff", str(default_catalog_dir()), str(tmp_path / "controls")])
    assert diff.exit_code == 0
    assert f'~ CONFIDENTIALITY statement: "{original}" → "{EDITED}"' in diff.output
    assert "controls: 0 added, 0 removed, 1 changed" in diff.output


def test_catalog_diff_names_added_removed_and_changed_parameters(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["catalog", "init", str(tmp_path / "b")]).exit_code == 0
    (tmp_path / "b" / "PHYSICAL.toml").unlink()
    enc = tmp_path / "b" / "ENC-TRANSIT.toml"
    enc.write_text(enc.read_text().replace('min_tls = "1.2"', 'min_tls = "1.3"'), encoding="utf-8")
    extra = (tmp_path / "b" / "PENTEST.toml").read_text().replace('id = "PENTEST"', 'id = "PENTEST-2"', 1)
    (tmp_path / "b" / "PENTEST-2.toml").write_text(extra, encoding="utf-8")
    out = runner.invoke(cli, ["catalog", "diff", str(default_catalog_dir()), str(tmp_path / "b")]).output
    assert "- PHYSICAL:" in out and "+ PENTEST-2:" in out
    assert '~ ENC-TRANSIT params probe.tls_protocols.min_tls: "1.2" → "1.3"' in out
    assert "controls: 1 added, 1 removed, 1 changed" in out
