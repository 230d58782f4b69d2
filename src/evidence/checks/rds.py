"""RDS checks: storage encryption (ENC-REST), backup retention (BACKUP-PITR), Multi-AZ (REDUNDANCY).

A database is either a standalone DB instance or a DB cluster; instances that belong to a
cluster are judged through their cluster (its storage, backups and spread of AZs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from evidence.checks.awsutil import items
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status
from evidence.records import Evidence

_REQUIRES = ("rds.DescribeDBInstances", "rds.DescribeDBClusters")


@dataclass(frozen=True)
class Database:
    kind: str  # "instance" or "cluster"
    arn: str
    name: str
    account: str
    region: str
    data: dict[str, Any]
    evidence: Evidence

    @property
    def resource_type(self) -> str:
        return "AWS::RDS::DBCluster" if self.kind == "cluster" else "AWS::RDS::DBInstance"

    @property
    def label(self) -> str:
        return f"DB {self.kind} {self.name}"


def databases(ctx: CheckContext) -> Iterator[Database]:
    """Standalone DB instances, then DB clusters."""
    for inst, ev in items(ctx, "rds.DescribeDBInstances", "DBInstances"):
        if inst.get("DBClusterIdentifier"):
            continue
        arn = inst.get("DBInstanceArn") or (
            f"arn:aws:rds:{ev.region}:{ev.account}:db:{inst['DBInstanceIdentifier']}"
        )
        yield Database("instance", str(arn), str(inst["DBInstanceIdentifier"]), ev.account, ev.region, inst, ev)
    for cluster, ev in items(ctx, "rds.DescribeDBClusters", "DBClusters"):
        arn = cluster.get("DBClusterArn") or (
            f"arn:aws:rds:{ev.region}:{ev.account}:cluster:{cluster['DBClusterIdentifier']}"
        )
        yield Database("cluster", str(arn), str(cluster["DBClusterIdentifier"]), ev.account, ev.region, cluster, ev)


def _finding(ctx: CheckContext, status: Status, db: Database, message: str, observed: Any, expected: Any,
             evidence: list[Evidence] | None = None) -> Finding:
    return ctx.finding(
        status, resource_id=db.arn, account=db.account, region=db.region, resource_type=db.resource_type,
        evidence=evidence or [db.evidence], observed=observed, expected=expected, message=message,
    )


@check(
    id="aws.rds.storage_encrypted",
    source="aws",
    description="Every RDS DB instance and DB cluster encrypts its storage.",
    requires=_REQUIRES,
    resource_type="AWS::RDS::DBInstance",
)
def storage_encrypted(ctx: CheckContext) -> Iterator[Finding]:
    for db in databases(ctx):
        encrypted = db.data.get("StorageEncrypted") is True
        observed: dict[str, Any] = {"StorageEncrypted": db.data.get("StorageEncrypted")}
        if db.data.get("KmsKeyId"):
            observed["KmsKeyId"] = db.data["KmsKeyId"]
        yield _finding(
            ctx, Status.PASS if encrypted else Status.FAIL, db,
            f"{db.label} storage is {'encrypted' if encrypted else 'not encrypted'}.",
            observed, {"StorageEncrypted": True},
        )


@check(
    id="aws.rds.backup_retention",
    source="aws",
    description="Every RDS DB instance and DB cluster keeps automated (point-in-time) backups for at least "
    "min_retention_days.",
    requires=_REQUIRES,
    params={"min_retention_days": 7},
    resource_type="AWS::RDS::DBInstance",
)
def backup_retention(ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.params["min_retention_days"])
    for db in databases(ctx):
        days = int(db.data.get("BackupRetentionPeriod") or 0)
        ok = days >= minimum
        yield _finding(
            ctx, Status.PASS if ok else Status.FAIL, db,
            (f"{db.label} keeps automated backups for {days} days." if days
             else f"{db.label} has automated backups turned off.")
            + ("" if ok else f" At least {minimum} are required."),
            {"BackupRetentionPeriod": days}, {"BackupRetentionPeriod": f">= {minimum}"},
        )


@check(
    id="aws.rds.multi_az",
    source="aws",
    description="Every standalone RDS DB instance is Multi-AZ, and every DB cluster spans at least min_azs "
    "Availability Zones.",
    requires=_REQUIRES,
    params={"min_azs": 2},
    resource_type="AWS::RDS::DBInstance",
)
def multi_az(ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.params["min_azs"])
    members: dict[tuple[str, str, str], set[str]] = {}
    member_evidence: dict[tuple[str, str, str], Evidence] = {}
    for inst, ev in items(ctx, "rds.DescribeDBInstances", "DBInstances"):
        cluster = inst.get("DBClusterIdentifier")
        if cluster and inst.get("AvailabilityZone"):
            key = (ev.account, ev.region, str(cluster))
            members.setdefault(key, set()).add(str(inst["AvailabilityZone"]))
            member_evidence[key] = ev
    expected = f">= {minimum} Availability Zones"
    for db in databases(ctx):
        if db.kind == "instance":
            multi = db.data.get("MultiAZ") is True
            zones = sorted(z for z in (db.data.get("AvailabilityZone"), db.data.get("SecondaryAvailabilityZone")) if z)
            count = max(2 if multi else 1, len(zones))
            observed: dict[str, Any] = {"MultiAZ": db.data.get("MultiAZ"), "AvailabilityZones": zones}
            evidence = [db.evidence]
        else:
            key = (db.account, db.region, db.name)
            zones = sorted(members.get(key, set()))
            multi = db.data.get("MultiAZ") is True
            count = max(2 if multi else 0, len(zones))
            observed = {"MultiAZ": db.data.get("MultiAZ"), "member_instance_zones": zones}
            evidence = [db.evidence] + ([member_evidence[key]] if key in member_evidence else [])
        ok = count >= minimum
        yield _finding(
            ctx, Status.PASS if ok else Status.FAIL, db,
            f"{db.label} runs in {count} Availability Zone{'s' if count != 1 else ''}"
            + ("." if ok else f"; at least {minimum} are required."),
            observed, expected, evidence,
        )
