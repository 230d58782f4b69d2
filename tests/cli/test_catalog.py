"""`evidence controls list|show|validate`: the catalog as the command line shows and validates it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from evidence.catalog import default_catalog_dir, load_catalog
from evidence.cli import cli
from evidence.registry import Registry
from tests.test_catalog import DESIGN_IDS


def _copy_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(default_catalog_dir(), target)
    return target


def test_validate_accepts_the_shipped_catalog() -> None:
    result = CliRunner().invoke(cli, ["controls", "validate"])
    assert result.exit_code == 0, result.output
    assert "28 controls valid" in result.output


def test_validate_rejects_an_unknown_check(tmp_path: Path) -> None:
    folder = _copy_catalog(tmp_path)
    path = folder / "FIREWALL.toml"
    path.write_text(path.read_text() + '\n[[checks]]\nid = "aws.ec2.no_such_check"\n')
    result = CliRunner().invoke(cli, ["controls", "validate", str(folder)])
    assert result.exit_code == 2
    assert "FIREWALL: unknown check 'aws.ec2.no_such_check'" in result.output


def test_validate_rejects_a_control_without_statement(tmp_path: Path) -> None:
    folder = _copy_catalog(tmp_path)
    path = folder / "PENTEST.toml"
    path.write_text("\n".join(line for line in path.read_text().splitlines() if not line.startswith("statement")))
    result = CliRunner().invoke(cli, ["controls", "validate", str(folder)])
    assert result.exit_code == 2
    assert "PENTEST.toml" in result.output and "statement" in result.output
    assert "Traceback" not in result.output


def test_validate_rejects_an_unknown_parameter(tmp_path: Path) -> None:
    folder = _copy_catalog(tmp_path)
    path = folder / "TLS-CERTS.toml"
    path.write_text(path.read_text().replace("min_days_valid", "min_days_vaild"))
    result = CliRunner().invoke(cli, ["controls", "validate", str(folder)])
    assert result.exit_code == 2
    assert "has no parameter 'min_days_vaild'" in result.output


def test_controls_show_and_list() -> None:
    shown = CliRunner().invoke(cli, ["controls", "show", "TLS-CERTS"])
    assert shown.exit_code == 0 and "2048 bit RSA" in shown.output
    unknown = CliRunner().invoke(cli, ["controls", "show", "NOPE"])
    assert unknown.exit_code == 2 and "unknown control 'NOPE'" in unknown.output
    listed = CliRunner().invoke(cli, ["controls", "list"])
    assert listed.exit_code == 0 and all(cid in listed.output for cid in DESIGN_IDS)


def test_controls_show_prints_every_parameter_with_type_bounds_default_and_description() -> None:
    shown = CliRunner().invoke(cli, ["controls", "show", "TLS-CERTS"])
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "min_rsa_bits: int, >= " in text and "default 2048" in text
    assert "min_days_valid: int" in text and "allow_ec: bool" in text
    registry = Registry.load()
    for chk in (registry.checks[r.id] for r in load_catalog().get("TLS-CERTS").checks):
        for name, info in chk.param_model.model_fields.items():
            assert f"{name}: " in text
            assert info.description and info.description in text, (chk.id, name)
    assert "judges: acm.ListCertificates" in text
    as_json = CliRunner().invoke(cli, ["controls", "show", "TLS-CERTS", "--json"])
    assert json.loads(as_json.output)["id"] == "TLS-CERTS"
