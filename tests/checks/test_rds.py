"""RDS instances and clusters: encryption, backup retention and Multi-AZ, on moto and on
hand-written records."""

from __future__ import annotations

from pathlib import Path

import boto3

from evidence.checks import rds
from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.checks.estate import Estate, by_id, db_cluster, db_instance
from tests.conftest import RunFn


def _rds_instance(name: str, **kwargs: object) -> str:
    rds = boto3.client("rds", region_name=REGION)
    return str(rds.create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="app",
        MasterUserPassword="not-a-real-password", AllocatedStorage=20, **kwargs,
    )["DBInstance"]["DBInstanceArn"])


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


def test_cluster_members_are_skipped_with_their_reason(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    member = db_instance("aurora-0", DBClusterIdentifier="aurora", MultiAZ=False, SecondaryAvailabilityZone=None)
    e.add("rds.DescribeDBInstances", {"DBInstances": [db_instance("solo"), member,
                                                       db_instance("aurora-1", DBClusterIdentifier="aurora",
                                                                   AvailabilityZone=f"{REGION}c")]})
    e.add("rds.DescribeDBClusters", {"DBClusters": [db_cluster("aurora", MultiAZ=False)]})
    for chk in (rds.storage_encrypted, rds.backup_retention, rds.multi_az):
        found = by_id(e.judge(chk))
        skipped = found[member["DBInstanceArn"]]
        assert skipped.status is Status.NOT_APPLICABLE
        assert "member of DB cluster aurora" in skipped.message
        assert found[f"arn:aws:rds:{REGION}:{ACCOUNT}:db:solo"].status is Status.PASS
        assert found[f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:aurora"].status is Status.PASS
    cluster = by_id(e.judge(rds.multi_az))[f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:aurora"]
    assert cluster.observed == {"MultiAZ": False, "member_instance_zones": [f"{REGION}a", f"{REGION}c"]}
    assert cluster.resource_type == "AWS::RDS::DBCluster"
