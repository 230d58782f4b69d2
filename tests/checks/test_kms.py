"""KMS customer key rotation on moto and on hand-written records."""

from __future__ import annotations

from pathlib import Path

import boto3

from evidence.checks import kms
from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.checks.estate import Estate, by_id, kms_estate
from tests.conftest import RunFn


def test_kms_customer_keys_rotate(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    kms = boto3.client("kms", region_name=REGION)
    rotating = kms.create_key(Description="rotating")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=rotating)
    stale = kms.create_key(Description="stale")["KeyMetadata"]["Arn"]
    # asymmetric keys cannot rotate automatically: skipped with that reason, and not asked about
    asymmetric = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]

    result = run_controls(run_evidence, tmp_path, ["ENC-REST"])
    found = by_resource(result, "aws.kms.customer_key_rotation")
    assert {k: f.status for k, f in found.items()} == {
        rotating: Status.PASS, stale: Status.FAIL, asymmetric: Status.NOT_APPLICABLE}
    assert "RSA_2048 key" in found[asymmetric].message
    assert result.index is not None
    assert not [e for e in result.index.entries_for("kms.GetKeyRotationStatus") if e.subject == asymmetric]


def test_keys_rotation_does_not_apply_to_are_skipped_with_why(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    aws_managed, customer = kms_estate(e, changes={"DescribeKey.KeyMetadata.KeyManager": "AWS"})
    found = by_id(e.judge(kms.customer_key_rotation))
    assert found[aws_managed].status is Status.NOT_APPLICABLE
    assert "AWS-managed key" in found[aws_managed].message
    assert found[customer].status is Status.PASS
    e = Estate(tmp_path / "2")
    asymmetric, customer = kms_estate(e, changes={"DescribeKey.KeyMetadata.KeySpec": "RSA_2048",
                                                  "GetKeyRotationStatus": {}})
    found = by_id(e.judge(kms.customer_key_rotation))
    assert found[asymmetric].status is Status.NOT_APPLICABLE
    assert "RSA_2048 key" in found[asymmetric].message
    assert found[customer].status is Status.PASS


def test_a_key_whose_rotation_status_failed_has_one_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
    meta = {"KeyId": "k", "Arn": arn, "KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT", "KeyState": "Enabled"}
    e.add("kms.ListKeys", {"Keys": [{"KeyId": "k", "KeyArn": arn}]})
    e.add("kms.DescribeKey", {"KeyMetadata": meta}, subject=arn)
    e.add("kms.GetKeyRotationStatus", None, subject=arn, error="AccessDeniedException")
    (finding,) = e.judge(kms.customer_key_rotation)
    assert finding.resource_id == arn and finding.status is Status.ERROR
    assert "AccessDeniedException" in finding.message


def test_a_listed_key_not_described_is_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    described, lost = kms_estate(e)
    e.add("kms.ListKeys", {"Keys": [{"KeyId": "3333-cccc", "KeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3333-cccc"}]})
    found = by_id(e.judge(kms.customer_key_rotation))
    missing = found[f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3333-cccc"]
    assert missing.status is Status.ERROR and "no kms.DescribeKey record" in missing.message
    assert found[described].status is Status.PASS and found[lost].status is Status.PASS
