"""ACM certificate checks: key size, signature hash, days left; certificates not served are skipped."""

from __future__ import annotations

from pathlib import Path

import boto3

from evidence.checks import acm
from evidence.demo.certificates import make_certificate
from evidence.models import Status
from tests.checks.estate import DROP, Estate, acm_estate, by_id
from tests.conftest import RunFn

REGION = "eu-west-2"


def _import(name: str, **kwargs: object) -> str:
    cert, key = make_certificate(name, **kwargs)  # type: ignore[arg-type]
    acm = boto3.client("acm", region_name=REGION)
    return str(acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"])


def test_certificate_strength_and_validity(mocked_aws: None, run_evidence: RunFn) -> None:
    weak = _import("weak.example.com", key_bits=1024)
    good = _import("good.example.com", key_bits=2048, hash_name="sha256")
    strong = _import("strong.example.com", key_bits=4096, hash_name="sha384")
    expiring = _import("soon.example.com", key_bits=2048, days_valid=10)

    result = run_evidence({"aws": {"regions": [REGION]}}, only={"aws"})
    strength = {f.resource_id: f for f in result.findings if f.check_id == "aws.acm.certificate_key_strength"}
    validity = {f.resource_id: f for f in result.findings if f.check_id == "aws.acm.certificate_validity"}

    assert strength[weak].status is Status.FAIL
    assert strength[weak].observed["key_algorithm"] == "RSA_1024"
    assert strength[good].status is Status.PASS
    assert strength[good].observed == {"key_algorithm": "RSA_2048", "signature_algorithm": "SHA256WITHRSA"}
    assert strength[strong].status is Status.PASS
    assert strength[strong].observed["signature_algorithm"] == "SHA384WITHRSA"
    assert validity[expiring].status is Status.FAIL
    assert "days left" in validity[expiring].observed
    assert validity[good].status is Status.PASS
    verdicts = {v.control_id: v for v in result.verdicts}
    assert verdicts["TLS-CERTS"].verdict is Status.FAIL
    assert verdicts["TLS-CERTS"].counts["fail"] == 2


def test_min_days_valid_is_overridable_per_control(mocked_aws: None, run_evidence: RunFn) -> None:
    arn = _import("soon.example.com", days_valid=10)
    result = run_evidence(
        {"aws": {"regions": [REGION]}, "controls": {"TLS-CERTS": {"min_days_valid": 5}}}, only={"aws"}
    )
    (finding,) = [f for f in result.findings if f.check_id == "aws.acm.certificate_validity"]
    assert finding.resource_id == arn
    assert finding.status is Status.PASS
    assert finding.expected == ">= 5 days before expiry"


def test_certificates_not_served_are_skipped(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    # not served: neither its (missing) key algorithm nor its expiry is in question
    pending, served = acm_estate(e, changes={"DescribeCertificate.Certificate.Status": "PENDING_VALIDATION",
                                             "DescribeCertificate.Certificate.KeyAlgorithm": DROP,
                                             "DescribeCertificate.Certificate.NotAfter": DROP})
    for chk in (acm.certificate_key_strength, acm.certificate_validity):
        found = by_id(e.judge(chk))
        assert found[pending].status is Status.NOT_APPLICABLE
        assert "PENDING_VALIDATION" in found[pending].message
        assert found[served].status is Status.PASS
