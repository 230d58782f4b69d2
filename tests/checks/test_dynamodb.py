"""BACKUP-PITR for DynamoDB tables: point-in-time recovery on moto and on hand-written records."""

from __future__ import annotations

from pathlib import Path

import boto3

from evidence.checks import dynamodb
from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.checks.estate import Estate, by_id, dynamodb_estate
from tests.conftest import RunFn


def test_dynamodb_point_in_time_recovery(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    for name in ("orders", "sessions"):
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    ddb.update_continuous_backups(TableName="orders",
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

    result = run_controls(run_evidence, tmp_path, ["BACKUP-PITR"])
    found = by_resource(result, "aws.dynamodb.point_in_time_recovery")
    orders = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    sessions = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/sessions"
    assert {k: f.status for k, f in found.items()} == {orders: Status.PASS, sessions: Status.FAIL}
    assert found[sessions].observed["PointInTimeRecoveryStatus"] == "DISABLED"


def test_an_empty_listing_is_not_applicable_naming_its_pages(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    page = e.add("dynamodb.ListTables", {"TableNames": []})
    (finding,) = e.judge(dynamodb.point_in_time_recovery)
    assert finding.status is Status.NOT_APPLICABLE
    assert finding.evidence == [page]


def test_parameters_change_the_verdict(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    table, _ = dynamodb_estate(e, changes={
        "DescribeContinuousBackups.ContinuousBackupsDescription.PointInTimeRecoveryDescription.RecoveryPeriodInDays":
        10})
    assert by_id(e.judge(dynamodb.point_in_time_recovery))[table].status is Status.PASS
    found = by_id(e.judge(dynamodb.point_in_time_recovery, min_retention_days=14))[table]
    assert found.status is Status.FAIL and found.expected["RecoveryPeriodInDays"] == ">= 14"
    assert found.observed == {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 10}
