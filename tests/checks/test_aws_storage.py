"""ENC-REST and BACKUP-PITR on moto: S3, EBS, RDS, DynamoDB and KMS, each with a passing and a
failing resource judged on the value the catalog names."""

from __future__ import annotations

from pathlib import Path

import boto3

from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.conftest import RunFn


def _rds_instance(name: str, **kwargs: object) -> str:
    rds = boto3.client("rds", region_name=REGION)
    return str(rds.create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="app",
        MasterUserPassword="not-a-real-password", AllocatedStorage=20, **kwargs,
    )["DBInstance"]["DBInstanceArn"])


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


def test_ebs_default_encryption_and_volumes(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    plain = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    ec2.enable_ebs_encryption_by_default()
    sealed = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a", Encrypted=True)["VolumeId"]

    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], {"aws": {"regions": [REGION, "us-east-1"]}})
    assert statuses(result, "aws.ec2.ebs_volumes_encrypted") == {
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{plain}": Status.FAIL,
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{sealed}": Status.PASS,
    }
    default = [f for f in result.findings if f.check_id == "aws.ec2.ebs_encryption_by_default"]
    assert {(f.region, f.status) for f in default} == {(REGION, Status.PASS), ("us-east-1", Status.FAIL)}
    assert {f.resource_id for f in default} == {f"arn:aws:iam::{ACCOUNT}:root"}


def test_rds_encryption_retention_and_multi_az(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    good = _rds_instance("good", StorageEncrypted=True, BackupRetentionPeriod=14, MultiAZ=True)
    bad = _rds_instance("bad", StorageEncrypted=False, BackupRetentionPeriod=1, MultiAZ=False)
    rds = boto3.client("rds", region_name=REGION)
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="aurora", Engine="aurora-postgresql", MasterUsername="app",
        MasterUserPassword="not-a-real-password", StorageEncrypted=True, BackupRetentionPeriod=7,
    )["DBCluster"]["DBClusterArn"]
    members = [
        rds.create_db_instance(DBInstanceIdentifier=f"aurora-{i}", DBClusterIdentifier="aurora",
                               DBInstanceClass="db.r6g.large", Engine="aurora-postgresql",
                               AvailabilityZone=f"{REGION}{zone}")["DBInstance"]["DBInstanceArn"]
        for i, zone in enumerate("ab")
    ]
    # the cluster's members are judged through their cluster, and each says so
    skipped = dict.fromkeys(members, Status.NOT_APPLICABLE)

    result = run_controls(run_evidence, tmp_path, ["ENC-REST", "BACKUP-PITR", "REDUNDANCY"])
    assert statuses(result, "aws.rds.storage_encrypted") == {
        good: Status.PASS, bad: Status.FAIL, cluster: Status.PASS, **skipped}
    retention = by_resource(result, "aws.rds.backup_retention")
    assert {k: f.status for k, f in retention.items()} == {
        good: Status.PASS, bad: Status.FAIL, cluster: Status.PASS, **skipped}
    assert retention[bad].observed == {"BackupRetentionPeriod": 1}
    assert retention[good].observed == {"BackupRetentionPeriod": 14}
    assert "member of DB cluster aurora" in retention[members[0]].message
    multi = by_resource(result, "aws.rds.multi_az")
    assert {k: f.status for k, f in multi.items()} == {
        good: Status.PASS, bad: Status.FAIL, cluster: Status.PASS, **skipped}
    assert multi[cluster].observed["member_instance_zones"] == [f"{REGION}a", f"{REGION}b"]
    assert multi[cluster].resource_type == "AWS::RDS::DBCluster"


def test_rds_retention_follows_the_configured_minimum(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    arn = _rds_instance("weekly", BackupRetentionPeriod=7)
    config = {"aws": {"regions": [REGION]}, "controls": {"BACKUP-PITR": {"min_retention_days": 10}}}
    result = run_controls(run_evidence, tmp_path, ["BACKUP-PITR"], config)
    finding = by_resource(result, "aws.rds.backup_retention")[arn]
    assert finding.status is Status.FAIL and finding.expected == {"BackupRetentionPeriod": ">= 10"}


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
