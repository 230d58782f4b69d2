"""Helpers for the AWS collector tests: what a run recorded, and a collector made with other
sessions (to inject failures below botocore)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3

from evidence.collectors.aws import AwsCollector
from evidence.config import Config
from evidence.models import Period
from evidence.runner import RunResult
from tests.checks.awshelp import REGION

#: the controls the resilience tests run (their calls span DynamoDB, KMS and EC2)
CONTROLS = ["ENC-REST", "BACKUP-PITR", "FIREWALL"]


def recorded(result: RunResult) -> list[dict[str, Any]]:
    assert result.bundle is not None
    return [json.loads(p.read_text()) for p in (result.bundle / "evidence" / "aws").rglob("*.json")]


def recorded_calls(result: RunResult) -> Counter[tuple[str, str, str, str]]:
    """(service, operation, account, region) of every record, counted."""
    return Counter((r["service"], r["operation"], r["account"], r["region"]) for r in recorded(result))


def with_sessions(factory: Callable[..., boto3.Session]) -> Callable[[type, Config, Period], AwsCollector]:
    """A `collector_factory` whose AWS collector makes its sessions with `factory`."""
    return lambda _cls, cfg, period: AwsCollector(cfg, period, session_factory=factory)


def seed_estate() -> None:
    """Two tables (one with point-in-time recovery), two keys (one rotating), one plain volume."""
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
