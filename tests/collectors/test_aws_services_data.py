"""The AWS data units: bucket-level calls routed to each bucket's region, the location asked only
of buckets listed without it, rotation status asked only of keys that rotate."""

from __future__ import annotations

from pathlib import Path

import boto3

from tests.checks.awshelp import (
    ACCOUNT,
    StubbedAccount,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.collectors.awsruns import recorded_calls
from tests.conftest import RunFn

UK, US = "eu-west-2", "us-east-1"


def test_per_resource_calls_one_each_routed_to_the_bucket_region(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    for name, region in (("uk-a", UK), ("uk-b", UK), ("us-a", US)):
        s3 = boto3.client("s3", region_name=region)
        if region == US:
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], {"aws": {"regions": [UK]}})
    calls = recorded_calls(result)
    s3 = {k: n for k, n in calls.items() if k[0] == "s3"}
    assert s3 == {
        ("s3", "ListBuckets", ACCOUNT, US): 1,
        # moto's ListBuckets gives no BucketRegion, so each bucket's location is asked once
        ("s3", "GetBucketLocation", ACCOUNT, US): 3,
        ("s3", "GetBucketEncryption", ACCOUNT, UK): 2,
        ("s3", "GetBucketEncryption", ACCOUNT, US): 1,
    }


def test_bucket_region_from_list_buckets_saves_the_location_calls(tmp_path: Path) -> None:
    """AWS returns BucketRegion when ListBuckets is paginated: no GetBucketLocation at all."""
    acct = StubbedAccount(tmp_path)
    acct.stub("s3", US).add_response("list_buckets", {"Buckets": [
        {"Name": "uk-data", "BucketRegion": UK}, {"Name": "us-data", "BucketRegion": US}]}, {"MaxBuckets": 10000})
    acct.stub("s3", UK).add_response("get_bucket_encryption", {"ServerSideEncryptionConfiguration": {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}, {"Bucket": "uk-data"})
    acct.stub("s3", US).add_client_error(
        "get_bucket_encryption", service_error_code="ServerSideEncryptionConfigurationNotFoundError",
        http_status_code=404, expected_params={"Bucket": "us-data"})
    index = acct.run("s3", {"s3.ListBuckets", "s3.GetBucketLocation", "s3.GetBucketEncryption"}, region=US)
    acct.verify()
    assert index.entries_for("s3.GetBucketLocation") == []
    assert sorted((e.region, e.ok) for e in index.entries_for("s3.GetBucketEncryption")) == [(UK, True), (US, True)]


def test_rotation_status_is_asked_only_of_keys_that_can_rotate(tmp_path: Path) -> None:
    arn = f"arn:aws:kms:{UK}:{ACCOUNT}:key"
    customer, managed, asymmetric = f"{arn}/c", f"{arn}/m", f"{arn}/a"
    acct = StubbedAccount(tmp_path)
    kms = acct.stub("kms", UK)
    kms.add_response("list_keys", {"Keys": [{"KeyId": k.rsplit("/", 1)[1], "KeyArn": k}
                                            for k in (customer, managed, asymmetric)]}, {"Limit": 1000})
    for key, manager, spec in ((customer, "CUSTOMER", "SYMMETRIC_DEFAULT"), (managed, "AWS", "SYMMETRIC_DEFAULT"),
                               (asymmetric, "CUSTOMER", "RSA_2048")):
        kms.add_response("describe_key", {"KeyMetadata": {
            "KeyId": key.rsplit("/", 1)[1], "Arn": key, "KeyManager": manager, "KeySpec": spec,
            "Origin": "AWS_KMS", "KeyState": "Enabled"}}, {"KeyId": key})
        if key == customer:
            kms.add_response("get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": key})
    index = acct.run("kms", {"kms.ListKeys", "kms.DescribeKey", "kms.GetKeyRotationStatus"}, region=UK)
    acct.verify()
    assert [e.subject for e in index.entries_for("kms.GetKeyRotationStatus")] == [customer]
    assert len(index.entries_for("kms.DescribeKey")) == 3
