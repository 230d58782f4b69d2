"""Throttling is absorbed by botocore's adaptive retries (same findings as without), and a
service that always fails errors only its own checks, naming the cause and the IAM action."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from evidence.collectors import aws_services
from evidence.collectors.aws import AwsCollector
from evidence.config import Config
from evidence.models import Finding, Period, Status
from tests.checks.awshelp import (
    REGION,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.conftest import RunFn

CONTROLS = ["ENC-REST", "BACKUP-PITR", "FIREWALL"]


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


def _collector(factory: Callable[..., boto3.Session]) -> Callable[[type, Config, Period], AwsCollector]:
    return lambda _cls, cfg, period: AwsCollector(cfg, period, session_factory=factory)


def _estate() -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    for name in ("orders", "sessions"):
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    ddb.update_continuous_backups(TableName="orders",
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    kms = boto3.client("kms", region_name=REGION)
    kms.enable_key_rotation(KeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    kms.create_key()
    boto3.client("ec2", region_name=REGION).create_volume(Size=1, AvailabilityZone=f"{REGION}a")


def _judged(findings: list[Finding]) -> set[tuple[str, str, str, str, str]]:
    return {(f.check_id, f.resource_id, f.account, f.region, f.status.value) for f in findings}


def test_throttling_on_the_first_calls_yields_the_same_findings(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    _estate()
    baseline = run_controls(run_evidence, tmp_path / "a", CONTROLS)
    factory, injected = injecting("dynamodb", first=2, code="ThrottlingException", status=400)
    throttled = run_controls(run_evidence, tmp_path / "b", CONTROLS, collector_factory=_collector(factory))
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
    _estate()
    baseline = run_controls(run_evidence, tmp_path / "a", CONTROLS)
    factory, _ = injecting("dynamodb", first=10**6, code="AccessDeniedException", status=400)
    denied = run_controls(run_evidence, tmp_path / "b", CONTROLS, collector_factory=_collector(factory))

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
    _estate()
    factory, _ = injecting("kms", first=10**6, code="ThrottlingException", status=400)
    config = {"aws": {"regions": [REGION], "max_attempts": 2}}
    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], config, collector_factory=_collector(factory))
    kms = [f for f in result.findings if f.check_id == "aws.kms.customer_key_rotation"]
    assert kms and {f.status for f in kms} == {Status.ERROR}
    assert "ThrottlingException" in kms[0].message and "throttling outlasted 2 attempts" in kms[0].message
    assert {f.status for f in result.findings if f.check_id == "aws.ec2.ebs_volumes_encrypted"} == {Status.FAIL}


def test_a_crash_inside_a_forked_job_is_an_error_for_that_unit_only(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-resource work runs as further jobs on the pool; if one raises (a bug), the unit's
    evidence keys become errors in that account and region, and the run still completes."""
    _estate()

    def broken(c: Any, tables: list[str]) -> None:
        raise KeyError("TableName")

    monkeypatch.setattr(aws_services, "_dynamodb_backups", broken)
    result = run_controls(run_evidence, tmp_path, CONTROLS)
    pitr = [f for f in result.findings if f.check_id == "aws.dynamodb.point_in_time_recovery"]
    assert pitr and {f.status for f in pitr} == {Status.ERROR}
    assert any("KeyError" in f.message and "bug in evidence's AWS collector" in f.message for f in pitr)
    assert {f.status for f in result.findings if f.check_id == "aws.rds.backup_retention"} <= {
        Status.PASS, Status.FAIL, Status.NOT_APPLICABLE}
    assert {f.status for f in result.findings if f.check_id == "aws.kms.customer_key_rotation"} == {
        Status.PASS, Status.FAIL}
