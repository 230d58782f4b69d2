"""DATA-RESIDENCY: data-bearing resources only in allowed_regions, and proof that every enabled
region was examined. The listings and decisive fields are also exercised on hand-written records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from evidence.checks import residency
from evidence.checks.base import Check
from evidence.collectors.aws import AwsCollector
from evidence.config import Config
from evidence.models import Period, Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.checks.estate import Estate, by_id, shape_errors
from tests.conftest import RunFn

UK, US = "eu-west-2", "us-east-1"


def _estate(region: str, tag: str) -> dict[str, str]:
    """One of each data-bearing kind in `region`; kind -> ARN."""
    s3 = boto3.client("s3", region_name=region)
    bucket = f"data-{tag}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    rds = boto3.client("rds", region_name=region)
    db = rds.create_db_instance(DBInstanceIdentifier=f"db-{tag}", DBInstanceClass="db.t3.micro", Engine="postgres",
                                MasterUsername="app", MasterUserPassword="not-a-real-password",
                                AllocatedStorage=20)["DBInstance"]["DBInstanceArn"]
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=f"table-{tag}", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ec2 = boto3.client("ec2", region_name=region)
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{region}a")["VolumeId"]
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    return {
        "aws.s3.bucket_residency": f"arn:aws:s3:::{bucket}",
        "aws.rds.residency": db,
        "aws.dynamodb.table_residency": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/table-{tag}",
        "aws.ec2.volume_residency": f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{volume}",
        "aws.ec2.instance_residency": f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance}",
    }


def test_resources_outside_the_allowed_regions_fail(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    uk, us = _estate(UK, "uk"), _estate(US, "us")
    result = run_controls(run_evidence, tmp_path, ["DATA-RESIDENCY"], {"aws": {"regions": [UK, US]}})
    for check_id in uk:
        found = by_resource(result, check_id)
        assert found[uk[check_id]].status is Status.PASS, check_id
        assert found[us[check_id]].status is Status.FAIL, check_id
        # buckets are listed account-wide: their finding names no region, `observed` does
        assert found[us[check_id]].region == ("" if check_id == "aws.s3.bucket_residency" else US)
        assert found[us[check_id]].account == ACCOUNT
        assert found[us[check_id]].observed == {"region": US}
        assert found[us[check_id]].expected == {"region in": [UK]}


def test_buckets_are_judged_account_wide_even_outside_the_scanned_regions(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    boto3.client("s3", region_name=US).create_bucket(Bucket="virginia-data")
    result = run_controls(run_evidence, tmp_path, ["DATA-RESIDENCY"], {"aws": {"regions": [UK]}})
    assert statuses(result, "aws.s3.bucket_residency") == {"arn:aws:s3:::virginia-data": Status.FAIL}


def test_allowed_regions_is_a_parameter(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    boto3.client("s3", region_name=US).create_bucket(Bucket="virginia-data")
    config = {"aws": {"regions": [UK]}, "controls": {"DATA-RESIDENCY": {"allowed_regions": [UK, US]}}}
    result = run_controls(run_evidence, tmp_path, ["DATA-RESIDENCY"], config)
    assert statuses(result, "aws.s3.bucket_residency") == {"arn:aws:s3:::virginia-data": Status.PASS}


def test_unexamined_regions_are_an_error_and_all_regions_pass(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    partial = run_controls(run_evidence, tmp_path, ["DATA-RESIDENCY"], {"aws": {"regions": [UK]}})
    (gap,) = by_resource(partial, "aws.residency.regions_examined").values()
    assert gap.status is Status.ERROR and gap.resource_id == f"arn:aws:iam::{ACCOUNT}:root"
    assert gap.observed["examined"] == [UK] and US in gap.observed["not_examined"]
    assert 'aws.regions = ["all"]' in gap.message

    # an account with two regions enabled (moto enables all 38, which is slow to scan)
    everywhere = run_controls(run_evidence, tmp_path, ["DATA-RESIDENCY"], {"aws": {"regions": ["all"]}},
                              collector_factory=collector_with(enabled_regions(UK, US)))
    (covered,) = by_resource(everywhere, "aws.residency.regions_examined").values()
    assert covered.status is Status.PASS and covered.observed == {"examined": [UK, US]}


def enabled_regions(*regions: str) -> Callable[..., boto3.Session]:
    """Sessions whose EC2 DescribeRegions answers only `regions` (the rest is moto)."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {"Regions": [{"RegionName": r, "OptInStatus": "opt-in-not-required"} for r in regions],
                "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse("https://ec2.invalid", 200, {}, None), body

    def factory(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        session.events.register("before-call.ec2.DescribeRegions", answer)
        return session

    return factory


def collector_with(factory: Callable[..., boto3.Session]) -> Callable[[type, Config, Period], AwsCollector]:
    return lambda _cls, cfg, period: AwsCollector(cfg, period, session_factory=factory)


@pytest.mark.parametrize(("chk", "key", "response", "path"), [
    (residency.instance_residency, "ec2.DescribeInstances", {"Reservation": []}, "Reservations[].Instances"),
    (residency.regions_examined, "ec2.DescribeRegions", {"RegionList": []}, "Regions"),
    (residency.bucket_residency, "s3.ListBuckets", {"Bucket": [{"Name": "b"}]}, "Buckets"),
    (residency.table_residency, "dynamodb.ListTables", {"Tables": ["t"]}, "TableNames"),
])
def test_residency_listings_under_an_unexpected_key_are_errors(
    tmp_path: Path, chk: Check, key: str, response: dict[str, Any], path: str
) -> None:
    e = Estate(tmp_path)
    page = e.add(key, response)
    findings = e.judge(chk)
    assert findings and {f.status for f in findings} == {Status.ERROR}, findings
    if key == "ec2.DescribeRegions":  # one record per account: the field, read for the account
        assert f"field '{path}' in {page} is missing" in findings[0].message
    else:
        assert shape_errors(findings, page, path)


def test_a_bucket_location_without_its_field_is_an_error_not_us_east_1(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("s3.ListBuckets", {"Buckets": [{"Name": "data"}, {"Name": "virginia"}]}, region=US)
    e.add("s3.GetBucketLocation", {}, subject="arn:aws:s3:::data", region=US)
    e.add("s3.GetBucketLocation", {"LocationConstraint": None}, subject="arn:aws:s3:::virginia", region=US)
    found = by_id(e.judge(residency.bucket_residency, allowed_regions=[US]))
    assert found["arn:aws:s3:::data"].status is Status.ERROR  # was: pass (absent read as us-east-1)
    assert "LocationConstraint" in found["arn:aws:s3:::data"].message
    assert found["arn:aws:s3:::virginia"].status is Status.PASS  # null is us-east-1, as AWS says


def test_the_instances_of_every_reservation_are_judged_one_by_one(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("ec2.DescribeInstances", {"Reservations": [
        {"ReservationId": "r-1", "Instances": [
            {"InstanceId": "i-live", "State": {"Name": "running"}},
            {"InstanceId": "i-gone", "State": {"Name": "terminated"}},
            {"InstanceId": "i-stateless"}]},
        {"ReservationId": "r-2", "Instances": [{"InstanceId": "i-other", "State": {"Name": "stopped"}}]}]})
    found = by_id(e.judge(residency.instance_residency))
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
    assert {k: f.status for k, f in found.items()} == {
        arn + "i-live": Status.PASS, arn + "i-gone": Status.NOT_APPLICABLE, arn + "i-stateless": Status.ERROR,
        arn + "i-other": Status.PASS}
    assert "Reservations[0].Instances[2].State" in found[arn + "i-stateless"].message
    assert "terminated" in found[arn + "i-gone"].message


def test_a_reservation_without_its_instances_is_an_error_naming_it(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    page = e.add("ec2.DescribeInstances", {"Reservations": [{"ReservationId": "r-1", "Instance": []}]})
    (finding,) = e.judge(residency.instance_residency)
    assert finding.status is Status.ERROR and finding.evidence == [page]
    assert "Reservations[0] has no 'Instances'" in finding.message


def test_rds_cluster_members_are_skipped_with_their_cluster_named(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("rds.DescribeDBInstances", {"DBInstances": [
        {"DBInstanceArn": "arn:db:solo", "DBInstanceIdentifier": "solo"},
        {"DBInstanceArn": "arn:db:member", "DBInstanceIdentifier": "member", "DBClusterIdentifier": "aurora"}]},
        region=US)
    e.add("rds.DescribeDBClusters", {"DBClusters": [{"DBClusterArn": "arn:cluster:aurora",
                                                     "DBClusterIdentifier": "aurora"}]}, region=US)
    found = by_id(e.judge(residency.rds_residency))
    assert {k: f.status for k, f in found.items()} == {
        "arn:db:solo": Status.FAIL, "arn:db:member": Status.NOT_APPLICABLE, "arn:cluster:aurora": Status.FAIL}
    assert "DB cluster aurora" in found["arn:db:member"].message
