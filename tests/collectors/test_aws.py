"""The AWS collector: only the calls the wanted checks need, a crash inside a unit's job errors
that unit only, and its scope as the report's cover shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from evidence.collectors import aws_services_data
from evidence.collectors.aws import AwsCollector
from evidence.collectors.aws_config import AwsConfig
from evidence.models import Status
from tests.checks.awshelp import (
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.collectors.awsruns import CONTROLS, recorded_calls, seed_estate
from tests.conftest import RunFn

UK = "eu-west-2"


def test_only_the_calls_the_wanted_checks_need(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    boto3.client("ec2", region_name=UK).create_security_group(GroupName="web", Description="web")
    result = run_controls(run_evidence, tmp_path, ["FIREWALL"])
    assert {(s, o) for s, o, _, _ in recorded_calls(result)} == {
        ("sts", "GetCallerIdentity"), ("ec2", "DescribeSecurityGroups")}
    assert result.api_calls["aws"] == 2


def test_a_crash_inside_a_forked_job_is_an_error_for_that_unit_only(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-resource work runs as further jobs on the pool; if one raises (a bug), the unit's
    evidence keys become errors in that account and region, and the run still completes."""
    seed_estate()

    def broken(c: Any, tables: list[str]) -> None:
        raise KeyError("TableName")

    monkeypatch.setattr(aws_services_data, "_dynamodb_backups", broken)
    result = run_controls(run_evidence, tmp_path, CONTROLS)
    pitr = [f for f in result.findings if f.check_id == "aws.dynamodb.point_in_time_recovery"]
    assert pitr and {f.status for f in pitr} == {Status.ERROR}
    assert any("KeyError" in f.message and "bug in evidence's AWS collector" in f.message for f in pitr)
    assert {f.status for f in result.findings if f.check_id == "aws.rds.backup_retention"} <= {
        Status.PASS, Status.FAIL, Status.NOT_APPLICABLE}
    assert {f.status for f in result.findings if f.check_id == "aws.kms.customer_key_rotation"} == {
        Status.PASS, Status.FAIL}


def test_scope_names_the_regions_the_organization_and_the_roles() -> None:
    role = "arn:aws:iam::210987654321:role/Audit"
    section = AwsConfig(regions=[UK, "us-east-1"], organization=True, assume_roles=[role])
    assert AwsCollector.scope(section) == [
        ("AWS regions", "eu-west-2, us-east-1"),
        ("AWS organization", "every member account of the organization"),
        ("AWS roles assumed", role),
    ]
    assert AwsCollector.scope(AwsConfig()) == [("AWS regions", "eu-west-2")]
    assert AwsCollector.scope(None) == []
