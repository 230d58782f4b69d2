"""Acceptance 2 (held out): another company's overview, with other values, yields those values
as parameters, and a run with that catalog judges against them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from evidence.catalog import Catalog, load_catalog, validate_catalog
from evidence.catalog_text import draft_from_text, write_catalog
from evidence.judge import read_findings
from evidence.models import Status
from evidence.registry import Registry
from tests.catalog_text.support import param_models
from tests.conftest import RunFn
from tests.history.support import REGION, seed_estate

ACME = """Acme Analytics Trust Center

Encryption
All connections to Acme are encrypted in transit with TLS 1.3; older protocols are refused.
Our TLS certificates use 4096-bit RSA keys signed with SHA-384.

Where your data lives
Customer data is stored in the EU, in our Frankfurt region.

Backups
Every production database has point-in-time recovery and 14-day backups.

Change management
Every change is peer reviewed and approved by at least two engineers before it is merged.

Reporting a vulnerability
Please report security issues to secops@acme.example under our vulnerability disclosure policy.

About us
Acme was founded in 2015 by three statisticians.
We rotate the on-call engineer every week.
"""


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Path:
    out = tmp_path_factory.mktemp("acme")
    write_catalog(draft_from_text(ACME, check_params=param_models(registry)).drafts, out, "acme.txt")
    return out


def _params(catalog: Catalog, control: str) -> dict[str, dict[str, Any]]:
    return {ref.id: ref.params for ref in catalog.controls[control].checks}


def test_the_text_values_become_the_parameters(acme: Path, registry: Registry) -> None:
    catalog = load_catalog(acme)
    assert validate_catalog(catalog, param_models(registry)) == []
    transit = _params(catalog, "ENC-TRANSIT")
    tls_checks = ["aws.elbv2.listener_tls_min_version", "aws.elb.listener_tls_min_version",
                  "aws.cloudfront.viewer_min_tls", "aws.apigateway.domain_tls_min_version", "probe.tls_protocols"]
    assert {c: transit[c] for c in tls_checks} == {c: {"min_tls": "1.3"} for c in tls_checks}
    certs = _params(catalog, "TLS-CERTS")
    for check in ("aws.acm.certificate_key_strength", "probe.certificate"):
        assert certs[check]["min_rsa_bits"] == 4096
        assert certs[check]["min_signature_hash_bits"] == 384
    residency = _params(catalog, "DATA-RESIDENCY")
    assert residency["aws.s3.bucket_residency"] == {"allowed_regions": ["eu-central-1"]}  # Frankfurt, not all EU
    assert all(p == {"allowed_regions": ["eu-central-1"]} for c, p in residency.items() if p)
    backups = _params(catalog, "BACKUP-PITR")
    assert backups["aws.rds.backup_retention"] == {"min_retention_days": 14}
    assert backups["aws.dynamodb.point_in_time_recovery"] == {"min_retention_days": 14}
    assert _params(catalog, "CODE-REVIEW")["github.branch_protection_reviews"] == {"min_approvals": 2}
    disclosure = (acme / "DISCLOSURE.toml").read_text(encoding="utf-8")
    assert "secops@acme.example" in catalog.controls["DISCLOSURE"].statement
    assert "# security contact stated: secops@acme.example" in disclosure
    statements = {c.statement for c in catalog.controls.values()}
    assert "Acme was founded in 2015 by three statisticians." not in statements  # no promise
    assert catalog.controls["STMT-01-we-rotate-the-on-call"].statement == "We rotate the on-call engineer every week."


def test_a_value_the_check_refuses_falls_back_to_the_default(registry: Registry) -> None:
    draft = draft_from_text("We keep point-in-time backups for 0 days.", check_params=param_models(registry))
    (backup,) = draft.mapped
    assert {r.id: r.params for r in backup.control.checks}["aws.rds.backup_retention"] == {"min_retention_days": 7}
    assert backup.refused and backup.refused[0][:2] == ("min_retention_days", 0)


def _listener(policy: str, port: int, lb: str, cert: str, tg: str) -> str:
    elbv2 = boto3.client("elbv2", region_name=REGION)
    return str(elbv2.create_listener(
        LoadBalancerArn=lb, Protocol="HTTPS", Port=port, SslPolicy=policy, Certificates=[{"CertificateArn": cert}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"])


@pytest.mark.usefixtures("mocked_aws")
def test_a_run_judges_against_the_text_values(acme: Path, run_evidence: RunFn, tmp_path: Path) -> None:
    """A TLS 1.2-only listener fails Acme's min_tls = "1.3" (and passes Zaptic's "1.2"); a TLS
    1.3-only listener passes; a bucket in London fails Acme's Frankfurt residency."""
    estate = seed_estate()
    elbv2 = boto3.client("elbv2", region_name=REGION)
    https = elbv2.describe_listeners(ListenerArns=[estate["https"]])["Listeners"][0]
    cert, tg = https["Certificates"][0]["CertificateArn"], https["DefaultActions"][0]["TargetGroupArn"]
    elbv2.delete_listener(ListenerArn=estate["https"])
    tls12 = _listener("ELBSecurityPolicy-TLS-1-2-2017-01", 443, estate["lb"], cert, tg)
    tls13 = _listener("ELBSecurityPolicy-TLS13-1-3-2021-06", 8443, estate["lb"], cert, tg)
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="acme-london", CreateBucketConfiguration={"LocationConstraint": REGION})
    folder = tmp_path / "acme-run"
    folder.mkdir()
    for control in ("ENC-TRANSIT", "DATA-RESIDENCY"):
        shutil.copy(acme / f"{control}.toml", folder)

    result = run_evidence({"aws": {"regions": [REGION]}}, only={"aws"}, catalog_dir=folder)
    tls = {f.resource_id: f for f in read_findings(result.findings_file)
           if f.check_id == "aws.elbv2.listener_tls_min_version"}
    assert tls[tls12].status == Status.FAIL
    assert "1.3" in json.dumps(tls[tls12].expected)
    assert tls[tls13].status == Status.PASS
    residency = [f for f in read_findings(result.findings_file) if f.check_id == "aws.s3.bucket_residency"]
    assert [f.status for f in residency] == [Status.FAIL]
    assert REGION in json.dumps(residency[0].observed) and "eu-central-1" in json.dumps(residency[0].expected)
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts["ENC-TRANSIT"] == Status.FAIL

    # the same estate against Zaptic's words (TLS 1.2): the 1.2-only listener passes
    zaptic = tmp_path / "zaptic-run"
    zaptic.mkdir()
    write_catalog([d for d in draft_from_text(
        "Our web servers encrypt data in transit using the industry standard for HTTPS security (TLS 1.2).").mapped],
        zaptic, "zaptic")
    again = run_evidence({"aws": {"regions": [REGION]}}, only={"aws"}, catalog_dir=zaptic)
    tls = {f.resource_id: f for f in read_findings(again.findings_file)
           if f.check_id == "aws.elbv2.listener_tls_min_version"}
    assert tls[tls12].status == Status.PASS
