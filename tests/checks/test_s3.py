"""ENC-REST for S3 buckets: default encryption on moto, and on hand-written records."""

from __future__ import annotations

from pathlib import Path

import boto3

from evidence.checks import s3
from evidence.models import Status
from evidence.sources.aws import NO_BUCKET_ENCRYPTION
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.checks.estate import Estate, by_id
from tests.conftest import RunFn


def test_s3_default_encryption_pass_and_fail(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for name in ("encrypted-bucket", "plain-bucket"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(Bucket="encrypted-bucket", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="virginia-bucket")

    result = run_controls(run_evidence, tmp_path, ["ENC-REST"])
    found = by_resource(result, "aws.s3.bucket_default_encryption")
    assert {k: f.status for k, f in found.items()} == {
        "arn:aws:s3:::encrypted-bucket": Status.PASS,
        "arn:aws:s3:::plain-bucket": Status.FAIL,
        "arn:aws:s3:::virginia-bucket": Status.FAIL,
    }
    assert found["arn:aws:s3:::encrypted-bucket"].observed == {"algorithms": ["aws:kms"]}
    assert found["arn:aws:s3:::plain-bucket"].observed == "no default encryption"
    # bucket-level calls go to the bucket's own region, and the finding says which
    assert found["arn:aws:s3:::virginia-bucket"].region == "us-east-1"
    assert found["arn:aws:s3:::plain-bucket"].region == REGION
    assert all(f.account == ACCOUNT for f in found.values())


def test_a_listed_bucket_without_its_encryption_record_is_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("s3.ListBuckets", {"Buckets": [{"Name": "lost"}, {"Name": "denied"}, {"Name": "plain"}]},
          region="us-east-1")
    e.add("s3.GetBucketLocation", None, subject="arn:aws:s3:::denied", region="us-east-1", error="AccessDenied")
    e.add("s3.GetBucketEncryption", {"Error": {"Code": NO_BUCKET_ENCRYPTION, "Message": "none"}},
          subject="arn:aws:s3:::plain", region="eu-west-1")
    found = by_id(e.judge(s3.bucket_default_encryption))
    assert found["arn:aws:s3:::lost"].status is Status.ERROR
    assert "no s3.GetBucketEncryption record" in found["arn:aws:s3:::lost"].message
    # the failed location call is the bucket's one error (not a second "not collected")
    denied = found["arn:aws:s3:::denied"]
    assert denied.status is Status.ERROR and "AccessDenied" in denied.message
    plain = found["arn:aws:s3:::plain"]
    assert (plain.status, plain.region, plain.observed) == (Status.FAIL, "eu-west-1", "no default encryption")
