"""The rules the AWS collector and checks share: a bucket's region, which KMS keys rotate,
answers recorded as responses, ARNs."""

from __future__ import annotations

from typing import Any

import pytest

from evidence.sources.aws import (
    account_arn,
    answer_code,
    arn_account,
    bucket_arn,
    bucket_region,
    error_answer,
    role_arn,
    rotation_applies,
    split_key,
    table_arn,
)


@pytest.mark.parametrize(("location", "region"), [
    (None, "us-east-1"),
    ("", "us-east-1"),
    ("EU", "eu-west-1"),
    ("eu-west-2", "eu-west-2"),
    ("us-west-1", "us-west-1"),
])
def test_bucket_region_from_location_constraint(location: str | None, region: str) -> None:
    assert bucket_region(location) == region


CUSTOMER_KEY = {"KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS", "KeyState": "Enabled"}


@pytest.mark.parametrize(("change", "applies"), [
    ({}, True),
    ({"KeyState": "Disabled"}, True),
    ({"Origin": None}, True),  # absent: KMS key material
    ({"KeyManager": "AWS"}, False),
    ({"KeySpec": "RSA_2048"}, False),
    ({"KeySpec": "HMAC_256"}, False),
    ({"Origin": "EXTERNAL"}, False),
    ({"Origin": "AWS_CLOUDHSM"}, False),
    ({"KeyState": "PendingDeletion"}, False),
    ({"KeyState": "PendingImport"}, False),
])
def test_rotation_applies_to_enabled_or_disabled_customer_symmetric_kms_keys(
    change: dict[str, Any], applies: bool
) -> None:
    meta = {k: v for k, v in {**CUSTOMER_KEY, **change}.items() if v is not None}
    assert rotation_applies(meta) is applies


def test_an_error_answer_is_a_response_naming_its_code() -> None:
    answer = error_answer("ServerSideEncryptionConfigurationNotFoundError", "none")
    assert answer == {"Error": {"Code": "ServerSideEncryptionConfigurationNotFoundError", "Message": "none"}}
    assert answer_code(answer) == "ServerSideEncryptionConfigurationNotFoundError"
    assert answer_code({"ServerSideEncryptionConfiguration": {}}) == ""
    assert answer_code({"Error": "not an object"}) == ""
    assert answer_code(None) == ""


def test_arns() -> None:
    assert account_arn("123456789012") == "arn:aws:iam::123456789012:root"
    assert role_arn("123456789012", "EvidenceAudit") == "arn:aws:iam::123456789012:role/EvidenceAudit"
    assert bucket_arn("logs") == "arn:aws:s3:::logs"
    assert table_arn("eu-west-2", "123456789012", "orders") == "arn:aws:dynamodb:eu-west-2:123456789012:table/orders"
    assert arn_account("arn:aws:iam::210987654321:role/Audit") == "210987654321"
    assert arn_account("Audit") == "" and arn_account("Audit", default="Audit") == "Audit"
    assert split_key("s3.GetBucketLocation") == ("s3", "GetBucketLocation")
