"""AWS calls as recorded: throttling is absorbed by botocore's adaptive retries (same findings as
without), a service that always fails errors only its own checks naming the cause and the IAM
action, and secrets AWS returns in responses never reach the bundle."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from evidence.collectors.aws_calls import REDACTED, jsonable
from evidence.models import Finding, Status
from tests.checks.awshelp import (
    REGION,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.collectors.awsruns import CONTROLS, seed_estate, with_sessions
from tests.conftest import RunFn

SECRET = "origin-shared-secret-7f3a9c"


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _json_error(status: int, code: str, message: str) -> AWSResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    return AWSResponse("https://throttled.invalid", status, {"x-amzn-RequestId": "test"}, _Raw(body))


def injecting(service: str, first: int, code: str, status: int) -> tuple[Callable[..., boto3.Session], list[int]]:
    """Sessions whose first `first` HTTP requests to `service` (a JSON-protocol service) are
    answered with `code`; the rest reach moto. Returns the factory and a counter of injections."""
    lock = threading.Lock()
    injected = [0]

    def before_send(**_: Any) -> AWSResponse | None:
        with lock:
            if injected[0] >= first:
                return None
            injected[0] += 1
        return _json_error(status, code, "injected by the test")

    def factory(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        session.events.register_first(f"before-send.{service}", before_send)
        return session

    return factory, injected


def _judged(findings: list[Finding]) -> set[tuple[str, str, str, str, str]]:
    return {(f.check_id, f.resource_id, f.account, f.region, f.status.value) for f in findings}


def test_throttling_on_the_first_calls_yields_the_same_findings(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    seed_estate()
    baseline = run_controls(run_evidence, tmp_path / "a", CONTROLS)
    factory, injected = injecting("dynamodb", first=2, code="ThrottlingException", status=400)
    throttled = run_controls(run_evidence, tmp_path / "b", CONTROLS, collector_factory=with_sessions(factory))
    assert injected[0] == 2
    assert _judged(throttled.findings) == _judged(baseline.findings)
    assert not [f for f in throttled.findings if f.check_id.startswith("aws.dynamodb") and f.status is Status.ERROR]
    assert {f.status for f in throttled.findings if f.check_id == "aws.dynamodb.point_in_time_recovery"} == {
        Status.PASS, Status.FAIL}
    # retries are not evidence: each call is recorded once, as in the unthrottled run
    assert throttled.api_calls == baseline.api_calls


def test_a_service_that_always_fails_errors_only_its_checks(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    seed_estate()
    baseline = run_controls(run_evidence, tmp_path / "a", CONTROLS)
    factory, _ = injecting("dynamodb", first=10**6, code="AccessDeniedException", status=400)
    denied = run_controls(run_evidence, tmp_path / "b", CONTROLS, collector_factory=with_sessions(factory))

    dynamo = [f for f in denied.findings if f.check_id.startswith("aws.dynamodb")]
    assert dynamo and {f.status for f in dynamo} == {Status.ERROR}
    assert all("AccessDeniedException" in f.message and "dynamodb:ListTables" in f.message for f in dynamo)
    others = [f for f in denied.findings if not f.check_id.startswith("aws.dynamodb")]
    assert _judged(others) == _judged([f for f in baseline.findings if not f.check_id.startswith("aws.dynamodb")])
    assert Status.ERROR not in {f.status for f in others}
    assert {v.control_id: v.verdict for v in denied.verdicts}["BACKUP-PITR"] in {Status.ERROR, Status.FAIL}


def test_throttling_that_outlasts_the_retries_is_an_error_naming_it(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    seed_estate()
    factory, _ = injecting("kms", first=10**6, code="ThrottlingException", status=400)
    config = {"aws": {"regions": [REGION], "max_attempts": 2}}
    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], config, collector_factory=with_sessions(factory))
    kms = [f for f in result.findings if f.check_id == "aws.kms.customer_key_rotation"]
    assert kms and {f.status for f in kms} == {Status.ERROR}
    assert "ThrottlingException" in kms[0].message and "throttling outlasted 2 attempts" in kms[0].message
    assert {f.status for f in result.findings if f.check_id == "aws.ec2.ebs_volumes_encrypted"} == {Status.FAIL}


def test_jsonable_redacts_secret_fields_at_any_depth() -> None:
    value = {"Origins": {"Items": [{"CustomHeaders": {"Items": [{"HeaderName": "X-Origin-Verify",
                                                                   "HeaderValue": SECRET}]}}]},
             "AuthenticateOidcConfig": {"ClientId": "abc", "ClientSecret": SECRET}}
    cleaned = jsonable(value)
    assert SECRET not in repr(cleaned)
    assert cleaned["Origins"]["Items"][0]["CustomHeaders"]["Items"][0] == {
        "HeaderName": "X-Origin-Verify", "HeaderValue": REDACTED}


def test_cloudfront_origin_header_secret_is_not_in_the_bundle(mocked_aws: None, run_evidence: RunFn) -> None:
    cf = boto3.client("cloudfront", region_name="us-east-1")
    cf.create_distribution(DistributionConfig={
        "CallerReference": "x", "Comment": "x", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "o1", "DomainName": "origin.example.com",
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": SECRET}]},
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o1", "ViewerProtocolPolicy": "https-only", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    })
    result = run_evidence({"aws": {"regions": ["eu-west-2"]}}, only={"aws"})
    assert result.bundle is not None
    files = [p for p in result.bundle.rglob("*") if p.is_file()]
    assert any("cloudfront" in p.as_posix() for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
