"""An error is never a pass: denied APIs become error findings naming the IAM action."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from evidence.bundle import verify
from evidence.catalog import default_catalog_dir
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory
from evidence.checks.params import NoParams
from evidence.collectors.aws import AwsCollector
from evidence.config import Config, parse_config
from evidence.demo.certificates import make_certificate
from evidence.models import Finding, Period, Status
from evidence.registry import Registry
from evidence.runner import Runner
from tests.conftest import RunFn

REGION = "eu-west-2"


def denying(*operations: str) -> Callable[..., boto3.Session]:
    """A session factory whose sessions answer AccessDenied to the given `service.Operation`s
    (service as botocore names it in events, e.g. `acm`)."""

    def deny(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {"Error": {"Code": "AccessDeniedException", "Message": "User is not authorized"},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://denied.invalid", 400, {}, None), body

    def factory(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        for op in operations:
            service, _, name = op.partition(".")
            session.events.register(f"before-call.{service}.{name}", deny)
        return session

    return factory


def collector_with(factory: Callable[..., boto3.Session]) -> Callable[[type, Config, Period], AwsCollector]:
    return lambda _cls, cfg, period: AwsCollector(cfg, period, session_factory=factory)


def transit_catalog(tmp_path: Path) -> Path:
    """Just the two controls of this slice, so other AWS checks (and moto's gaps) stay out of the verdict."""
    folder = tmp_path / "controls"
    folder.mkdir()
    for cid in ("ENC-TRANSIT", "TLS-CERTS"):
        shutil.copy(default_catalog_dir() / f"{cid}.toml", folder)
    return folder


def test_access_denied_errors_exactly_the_checks_that_needed_it(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    cert, key = make_certificate("ok.example.com")
    boto3.client("acm", region_name=REGION).import_certificate(Certificate=cert, PrivateKey=key)
    boto3.client("apigateway", region_name=REGION).create_domain_name(
        domainName="api.example.com", securityPolicy="TLS_1_2")

    result = run_evidence(
        {"aws": {"regions": [REGION]}}, only={"aws"}, catalog_dir=transit_catalog(tmp_path),
        collector_factory=collector_with(denying("acm.ListCertificates")),
    )
    errors = [f for f in result.findings if f.status is Status.ERROR]
    assert {f.check_id for f in errors} == {"aws.acm.certificate_key_strength", "aws.acm.certificate_validity"}
    assert {v.control_id for v in result.verdicts} == {"ENC-TRANSIT", "TLS-CERTS"}
    for f in errors:
        assert "acm:ListCertificates" in f.message
        assert f.observed == "AccessDeniedException"
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts["TLS-CERTS"] is Status.ERROR
    assert verdicts["ENC-TRANSIT"] is Status.PASS
    assert result.exit_code == 3

    bundle = result.bundle
    assert bundle is not None and verify(bundle) == []
    apigw = list((bundle / "evidence" / "aws").rglob("apigateway/GetDomainNames-*.json"))
    assert apigw and json.loads(apigw[0].read_text())["response"]["items"][0]["domainName"] == "api.example.com"
    failed = [json.loads(p.read_text()) for p in (bundle / "evidence").rglob("acm/ListCertificates-*.json")]
    assert failed and failed[0]["error"]["code"] == "AccessDeniedException"
    assert "acm:ListCertificates" in failed[0]["error"]["remedy"]


def test_a_denied_per_resource_call_errors_that_resource_only(mocked_aws: None, run_evidence: RunFn) -> None:
    cert, key = make_certificate("ok.example.com")
    boto3.client("acm", region_name=REGION).import_certificate(Certificate=cert, PrivateKey=key)
    result = run_evidence(
        {"aws": {"regions": [REGION]}}, only={"aws"},
        collector_factory=collector_with(denying("acm.DescribeCertificate")),
    )
    errors = [f for f in result.findings if f.check_id.startswith("aws.acm.")]
    assert errors and all(f.status is Status.ERROR for f in errors)
    assert all(f.resource_id.startswith("arn:aws:acm:") for f in errors)
    assert all("acm:DescribeCertificate" in f.message for f in errors)
    assert not any(f.status is Status.PASS for f in errors)


def test_a_failed_scope_call_errors_every_control_of_that_source(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    """With regions = ["all"], a denied DescribeRegions would silently shrink the scope: it must not pass."""
    cert, key = make_certificate("ok.example.com")
    boto3.client("acm", region_name=REGION).import_certificate(Certificate=cert, PrivateKey=key)
    result = run_evidence(
        {"aws": {"regions": ["all"]}}, only={"aws"}, catalog_dir=transit_catalog(tmp_path),
        collector_factory=collector_with(denying("ec2.DescribeRegions")),
    )
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts == {"ENC-TRANSIT": Status.ERROR, "TLS-CERTS": Status.ERROR}
    scope = [f for f in result.findings if f.check_id == "aws.collection"]
    assert {f.control_id for f in scope} == {"ENC-TRANSIT", "TLS-CERTS"}
    assert all("ec2:DescribeRegions" in f.message and f.evidence for f in scope)
    assert result.exit_code == 3


def test_a_check_reading_evidence_its_collector_never_collects_is_an_error(
    mocked_aws: None, tmp_path: Path
) -> None:
    registry = Registry()
    registry.add_collector(AwsCollector)

    @check(id="aws.acm.imaginary", source="aws", description="Reads something nobody collects.",
           inventory=Inventory("acm.ListCertificates", items="CertificateSummaryList", id="CertificateArn"),
           requires=("acm.GetImaginaryThing",))
    def imaginary(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
        yield from ()

    registry.add_check(imaginary)
    folder = tmp_path / "controls"
    folder.mkdir()
    (folder / "X.toml").write_text('id = "X"\ntitle = "x"\nstatement = "x"\ncriteria = ["CC1.1"]\n'
                                   '[[checks]]\nid = "aws.acm.imaginary"\n')
    result = Runner(config=parse_config({"aws": {"regions": [REGION]}}), registry=registry,
                    period=Period.parse("2026-Q4"), out=tmp_path / "out", only={"aws"}, catalog_dir=folder).run()
    (finding,) = result.findings
    assert finding.status is Status.ERROR
    assert "does not collect acm.GetImaginaryThing" in finding.message
    assert result.exit_code == 3
