"""Which accounts the AWS collector reaches: the caller's, assumed roles, an AWS Organization's;
global services once per account, regional ones once per region; an unreachable account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
)
from tests.collectors.awsruns import recorded, recorded_calls, with_sessions
from tests.conftest import RunFn

OTHER = "210987654321"
ROLE = f"arn:aws:iam::{OTHER}:role/EvidenceAudit"
UK, US = "eu-west-2", "us-east-1"


def _session_in(account: str) -> boto3.Session:
    """Credentials for `account` (moto hands out the target account's credentials on AssumeRole)."""
    creds = boto3.client("sts", region_name=UK).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"])


def test_two_accounts_two_regions(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    expected: dict[str, tuple[str, str, Status]] = {}
    for account, session in ((ACCOUNT, boto3.Session()), (OTHER, _session_in(OTHER))):
        for region in (UK, US):
            ec2 = session.client("ec2", region_name=region)
            plain = ec2.create_volume(Size=1, AvailabilityZone=f"{region}a")["VolumeId"]
            sealed = ec2.create_volume(Size=1, AvailabilityZone=f"{region}a", Encrypted=True)["VolumeId"]
            expected[f"arn:aws:ec2:{region}:{account}:volume/{plain}"] = (account, region, Status.FAIL)
            expected[f"arn:aws:ec2:{region}:{account}:volume/{sealed}"] = (account, region, Status.PASS)
        session.client("s3", region_name=UK).create_bucket(
            Bucket=f"bucket-{account}", CreateBucketConfiguration={"LocationConstraint": UK})

    config = {"aws": {"regions": [UK, US], "assume_roles": [ROLE]}}
    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], config)
    volumes = by_resource(result, "aws.ec2.ebs_volumes_encrypted")
    assert {arn: (f.account, f.region, f.status) for arn, f in volumes.items()} == expected
    buckets = by_resource(result, "aws.s3.bucket_default_encryption")
    assert {arn: f.account for arn, f in buckets.items()} == {
        f"arn:aws:s3:::bucket-{ACCOUNT}": ACCOUNT, f"arn:aws:s3:::bucket-{OTHER}": OTHER}
    default = {(f.account, f.region) for f in result.findings if f.check_id == "aws.ec2.ebs_encryption_by_default"}
    assert default == {(a, r) for a in (ACCOUNT, OTHER) for r in (UK, US)}

    calls = recorded_calls(result)
    # global services once per account (in the home region), regional ones once per region
    assert {k: n for k, n in calls.items() if k[:2] == ("s3", "ListBuckets")} == {
        ("s3", "ListBuckets", ACCOUNT, US): 1, ("s3", "ListBuckets", OTHER, US): 1}
    assert {k[2:] for k in calls if k[:2] == ("ec2", "DescribeVolumes")} == {
        (a, r) for a in (ACCOUNT, OTHER) for r in (UK, US)}
    # the role's account is identified, and the assumed credentials never reach the bundle
    assume = [r for r in recorded(result) if r["operation"] == "AssumeRole"]
    assert len(assume) == 1 and assume[0]["account"] == OTHER
    assert "Credentials" not in json.dumps(assume[0]["response"])


def test_organization_accounts_are_reached_through_the_role_name(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    org = boto3.client("organizations", region_name=US)
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="prod", Email="prod@example.com")["CreateAccountStatus"]["AccountId"]
    for session in (boto3.Session(), _session_in(member)):
        session.client("ec2", region_name=UK).create_volume(Size=1, AvailabilityZone=f"{UK}a")

    config = {"aws": {"regions": [UK], "organization": True, "organization_role_name": "Auditor"}}
    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], config)
    volumes = [f for f in result.findings if f.check_id == "aws.ec2.ebs_volumes_encrypted"]
    assert {f.account for f in volumes} == {ACCOUNT, member}
    assume = [r for r in recorded(result) if r["operation"] == "AssumeRole"]
    assert [r["parameters"]["RoleArn"] for r in assume] == [f"arn:aws:iam::{member}:role/Auditor"]


def _denying_assume(role: str) -> Callable[..., boto3.Session]:
    def deny(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if role not in str(params.get("body", "")).replace("%3A", ":").replace("%2F", "/"):
            return None
        body = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"},
                "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://sts.invalid", 403, {}, None), body

    def factory(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        session.events.register("before-call.sts.AssumeRole", deny)
        return session

    return factory


def test_an_unreachable_account_is_an_error_for_that_account_only(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    boto3.client("ec2", region_name=UK).create_volume(Size=1, AvailabilityZone=f"{UK}a", Encrypted=True)
    config = {"aws": {"regions": [UK], "assume_roles": [ROLE]}}
    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], config, collector_factory=with_sessions(
        _denying_assume(ROLE)))
    volumes = [f for f in result.findings if f.check_id == "aws.ec2.ebs_volumes_encrypted"]
    assert {(f.account, f.status) for f in volumes} == {(ACCOUNT, Status.PASS), (OTHER, Status.ERROR)}
    (err,) = [f for f in volumes if f.account == OTHER]
    assert "could not assume" in err.message and ROLE in err.message
