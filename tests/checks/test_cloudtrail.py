"""AUDIT-LOG: the multi-region trail (and the ALB access logs beside it) on moto, and the trail's
declared inventory and decisive fields on hand-written records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from evidence.checks import cloudtrail
from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.checks.awshelp import alb as _alb
from tests.checks.awshelp import subnets as _subnets
from tests.checks.estate import ROOT, US, Estate, by_id, shape_errors, ts
from tests.conftest import RunFn


def test_cloudtrail_and_alb_access_logs(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="audit-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    trail = boto3.client("cloudtrail", region_name=REGION)
    trail.create_trail(Name="everywhere", S3BucketName="audit-logs", IsMultiRegionTrail=True,
                       EnableLogFileValidation=True)
    trail.start_logging(Name="everywhere")
    _, subnets = _subnets()
    logged, silent = _alb("logged", subnets), _alb("silent", subnets)
    boto3.client("elbv2", region_name=REGION).modify_load_balancer_attributes(LoadBalancerArn=logged, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": "audit-logs"}])

    result = run_controls(run_evidence, tmp_path, ["AUDIT-LOG"])
    assert statuses(result, "aws.elbv2.alb_access_logs") == {logged: Status.PASS, silent: Status.FAIL}
    (ct,) = by_resource(result, "aws.cloudtrail.multi_region_trail").values()
    assert ct.status is Status.PASS and ct.account == ACCOUNT
    assert ct.observed["trails"][0]["trail"] == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/everywhere"

    trail.stop_logging(Name="everywhere")
    trail.create_trail(Name="local-only", S3BucketName="audit-logs", EnableLogFileValidation=True)
    trail.start_logging(Name="local-only")
    (ct,) = by_resource(run_controls(run_evidence, tmp_path, ["AUDIT-LOG"]),
                        "aws.cloudtrail.multi_region_trail").values()
    assert ct.status is Status.FAIL
    assert {t["trail"].rsplit("/", 1)[-1]: t["logging"] for t in ct.observed["trails"]} == {"everywhere": False}


def test_no_trail_at_all_fails(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    (ct,) = by_resource(run_controls(run_evidence, tmp_path, ["AUDIT-LOG"]),
                        "aws.cloudtrail.multi_region_trail").values()
    assert ct.status is Status.FAIL and ct.message == "The account has no trail."


TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/all"


def trails(e: Estate, key: str = "trailList", trail: dict[str, Any] | None = None,
           status: dict[str, Any] | None = None) -> str:
    page = e.add("cloudtrail.DescribeTrails", {key: [trail or {
        "TrailARN": TRAIL, "Name": "all", "IsMultiRegionTrail": True, "LogFileValidationEnabled": True}]},
        region=US)
    e.add("cloudtrail.GetTrailStatus", {"IsLogging": True} if status is None else status, subject=TRAIL)
    return page


def test_trails_under_an_unexpected_key_are_an_error_not_no_trail(tmp_path: Path) -> None:
    good, bad = Estate(tmp_path / "good"), Estate(tmp_path / "bad")
    trails(good)
    assert [f.status for f in good.judge(cloudtrail.multi_region_trail)] == [Status.PASS]
    page = trails(bad, key="Trails")
    findings = bad.judge(cloudtrail.multi_region_trail)
    assert shape_errors(findings, page, "trailList")
    assert by_id(findings)[ROOT].status is Status.ERROR  # was: fail, "The account has no trail."


def test_trail_fields_are_decisive(tmp_path: Path) -> None:
    no_flag = Estate(tmp_path / "flag")
    trails(no_flag, trail={"TrailARN": TRAIL, "Name": "all", "LogFileValidationEnabled": True})
    (finding,) = no_flag.judge(cloudtrail.multi_region_trail)
    assert finding.status is Status.ERROR and "IsMultiRegionTrail" in finding.message  # was: fail

    no_logging = Estate(tmp_path / "logging")
    trails(no_logging, status={"LatestDeliveryTime": ts(0)})
    (finding,) = no_logging.judge(cloudtrail.multi_region_trail)
    assert finding.status is Status.ERROR and "field 'IsLogging'" in finding.message  # was: fail
