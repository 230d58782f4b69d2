"""The catalog: every stated control of DESIGN.md, quoted verbatim, validated against the registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.catalog import load_catalog, validate_catalog
from evidence.cli import cli
from evidence.demo.catalog import demo_overview
from evidence.registry import Registry

DESIGN_IDS = {
    "ENC-TRANSIT", "TLS-CERTS", "ENC-REST", "BACKUP-PITR", "REDUNDANCY", "DR-TEST", "FIREWALL", "DDOS",
    "RATE-LIMIT", "AUDIT-LOG", "DATA-RESIDENCY", "WORKFORCE-IDENTITY", "ACCESS-LIFECYCLE", "ROOT-ACCOUNT",
    "KEY-ROTATION", "CODE-REVIEW", "CI-GATE", "CODEHOST-MFA", "SECURE-SESSIONS", "DISCLOSURE", "ENDPOINTS",
    "TRAINING", "PENTEST", "INCIDENT-RESPONSE", "POLICIES", "CONFIDENTIALITY", "VENDOR-DILIGENCE", "PHYSICAL",
}
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "security-overview-and-privacy-notice.txt"


def test_every_design_control_is_in_the_catalog(registry: Registry) -> None:
    catalog = load_catalog()
    assert set(catalog.controls) == DESIGN_IDS
    assert validate_catalog(catalog, {c: k.param_model for c, k in registry.checks.items()}) == []
    manual_only = {"ENDPOINTS", "TRAINING", "PENTEST", "INCIDENT-RESPONSE", "POLICIES", "CONFIDENTIALITY",
                   "VENDOR-DILIGENCE", "PHYSICAL"}
    for cid in manual_only | {"DR-TEST", "ACCESS-LIFECYCLE"}:
        assert catalog.controls[cid].manual, cid


def test_statements_are_quoted_verbatim_from_the_seed() -> None:
    """Against the seed beside this checkout (../shared/seed) when there is one, and always
    against the copy the demo ships, which must be the same text."""
    shipped = demo_overview().read_text(encoding="utf-8")
    if SEED.is_file():
        assert SEED.read_text(encoding="utf-8") == shipped
    for control in load_catalog().controls.values():
        assert control.statement in shipped, control.id


@pytest.mark.parametrize(
    ("text", "named", "why"),
    [
        ('[controls.TLS-CERTS]\nmin_rsa_bits = "big"\n', "controls.TLS-CERTS.min_rsa_bits", "valid integer"),
        ("[controls.BACKUP-PITR]\nmin_retention_days = -1\n", "controls.BACKUP-PITR.min_retention_days",
         "greater than or equal to"),
        ('[controls.ENC-TRANSIT]\nmin_tls = "1.9"\n', "controls.ENC-TRANSIT.min_tls", "should match pattern"),
        ("[controls.FIREWALL]\npublic_ports = [443, 70000]\n", "controls.FIREWALL.public_ports", "less than or equal"),
    ],
)
def test_a_parameter_of_the_wrong_type_or_out_of_bounds_is_exit_2_naming_the_key(
    tmp_path: Path, text: str, named: str, why: str
) -> None:
    path = tmp_path / "evidence.toml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["run", "--config", str(path), "--out", str(tmp_path / "out"), "--only", "aws"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0] and why in lines[0] and str(path) in lines[0], result.output
    assert not (tmp_path / "out").exists()


def test_every_check_parameter_is_typed_and_described() -> None:
    for chk in Registry.load().checks.values():
        for name, info in chk.param_model.model_fields.items():
            assert info.description, f"{chk.id}.{name} has no description"
            assert info.annotation is not None
