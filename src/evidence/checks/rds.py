"""RDS checks: storage encryption (ENC-REST), backup retention (BACKUP-PITR), Multi-AZ (REDUNDANCY).

A database is either a standalone DB instance or a DB cluster; instances that belong to a
cluster are judged through their cluster (its storage, backups and spread of AZs), and each
is recorded as skipped with that reason. The checks judge every item of both listings: DB
instances (their inventory) and DB clusters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.models import Finding, Status
from evidence.records import Evidence

INSTANCE_TYPE = "AWS::RDS::DBInstance"
CLUSTER_TYPE = "AWS::RDS::DBCluster"

INSTANCES = Inventory("rds.DescribeDBInstances", items="DBInstances", id="DBInstanceArn", resource_type=INSTANCE_TYPE)
CLUSTERS = Inventory("rds.DescribeDBClusters", items="DBClusters", id="DBClusterArn", resource_type=CLUSTER_TYPE)


@dataclass(frozen=True)
class Database:
    kind: str  # "instance" or "cluster"
    arn: str
    name: str
    account: str
    region: str
    data: dict[str, Any]
    evidence: Evidence
    #: the listed item, for reading its decisive fields
    item: Item

    @property
    def resource_type(self) -> str:
        return CLUSTER_TYPE if self.kind == "cluster" else INSTANCE_TYPE

    @property
    def label(self) -> str:
        return f"DB {self.kind} {self.name}"


def database(kind: str, item: Item) -> Database:
    """A listed DB instance or DB cluster as a Database."""
    ident = "DBClusterIdentifier" if kind == "cluster" else "DBInstanceIdentifier"
    name = item.need(ident, str, item.name.rsplit(":", 1)[-1])
    return Database(kind, item.resource_id, name, item.account, item.region, item.value, item.ev, item)


def cluster_of(item: Item) -> str:
    """The DB cluster a listed DB instance belongs to ('' for a standalone instance: AWS leaves
    the field out)."""
    return item.need("DBClusterIdentifier", str, "")


def each_database(ctx: CheckContext[Any], judge: Callable[[Database], Finding]) -> Iterator[Finding]:
    """`judge` applied to every standalone DB instance and every DB cluster; each cluster member
    is skipped (judged through its cluster). A decisive field missing is an error for that item."""

    def instance(item: Item) -> Finding:
        cluster = cluster_of(item)
        if cluster:
            return ctx.skip(item, f"member of DB cluster {cluster}, judged through its cluster")
        return judge(database("instance", item))

    yield from ctx.each(INSTANCES, instance)
    yield from ctx.each(CLUSTERS, lambda item: judge(database("cluster", item)))


def _finding(ctx: CheckContext[Any], status: Status, db: Database, message: str, observed: Any, expected: Any,
             evidence: list[Evidence] | None = None) -> Finding:
    return ctx.finding(
        status, resource_id=db.arn, account=db.account, region=db.region, resource_type=db.resource_type,
        evidence=evidence or [db.evidence], observed=observed, expected=expected, message=message,
    )


@check(
    id="aws.rds.storage_encrypted",
    source="aws",
    description="Every RDS DB instance and DB cluster encrypts its storage.",
    inventory=INSTANCES,
    listings=(CLUSTERS,),
)
def storage_encrypted(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def judge(db: Database) -> Finding:
        encrypted = db.item.need("StorageEncrypted", bool)
        observed: dict[str, Any] = {"StorageEncrypted": encrypted}
        key = db.item.need("KmsKeyId", str, "")
        if key:
            observed["KmsKeyId"] = key
        return _finding(
            ctx, Status.PASS if encrypted else Status.FAIL, db,
            f"{db.label} storage is {'encrypted' if encrypted else 'not encrypted'}.",
            observed, {"StorageEncrypted": True},
        )

    yield from each_database(ctx, judge)


class RetentionParams(Params):
    min_retention_days: int = Field(7, ge=1, description="Days of automated (point-in-time) backups to keep.")


@check(
    id="aws.rds.backup_retention",
    source="aws",
    description="Every RDS DB instance and DB cluster keeps automated (point-in-time) backups for at least "
    "min_retention_days.",
    inventory=INSTANCES,
    listings=(CLUSTERS,),
    params=RetentionParams,
)
def backup_retention(ctx: CheckContext[RetentionParams]) -> Iterator[Finding]:
    minimum = ctx.params.min_retention_days

    def judge(db: Database) -> Finding:
        days = db.item.need("BackupRetentionPeriod", int)
        ok = days >= minimum
        return _finding(
            ctx, Status.PASS if ok else Status.FAIL, db,
            (f"{db.label} keeps automated backups for {days} days." if days
             else f"{db.label} has automated backups turned off.")
            + ("" if ok else f" At least {minimum} are required."),
            {"BackupRetentionPeriod": days}, {"BackupRetentionPeriod": f">= {minimum}"},
        )

    yield from each_database(ctx, judge)


class MultiAzParams(Params):
    min_azs: int = Field(2, ge=1, le=6, description="Availability Zones each database must span.")


def _member_zones(ctx: CheckContext[Any]) -> tuple[dict[tuple[str, str, str], set[str]],
                                                    dict[tuple[str, str, str], Evidence]]:
    """(account, region, cluster) -> the zones of its member instances, and the page naming them.
    A member whose fields cannot be read adds no zone (so it can only lower the count), and is
    reported as an error where it is judged itself."""
    members: dict[tuple[str, str, str], set[str]] = {}
    evidence: dict[tuple[str, str, str], Evidence] = {}
    for inst in ctx.items(INSTANCES):
        try:
            cluster, zone = cluster_of(inst), inst.need("AvailabilityZone", str, "")
        except FieldError:
            continue
        if cluster and zone:
            key = (inst.account, inst.region, cluster)
            members.setdefault(key, set()).add(zone)
            evidence[key] = inst.ev
    return members, evidence


@check(
    id="aws.rds.multi_az",
    source="aws",
    description="Every standalone RDS DB instance is Multi-AZ, and every DB cluster spans at least min_azs "
    "Availability Zones.",
    inventory=INSTANCES,
    listings=(CLUSTERS,),
    params=MultiAzParams,
)
def multi_az(ctx: CheckContext[MultiAzParams]) -> Iterator[Finding]:
    minimum = ctx.params.min_azs
    members, member_evidence = _member_zones(ctx)
    expected = f">= {minimum} Availability Zones"

    def judge(db: Database) -> Finding:
        multi = db.item.need("MultiAZ", bool)
        observed: dict[str, Any]
        if db.kind == "instance":
            pair = (db.item.need("AvailabilityZone", str, ""), db.item.need("SecondaryAvailabilityZone", str, ""))
            zones = sorted(z for z in pair if z)
            count = max(2 if multi else 1, len(zones))
            observed = {"MultiAZ": multi, "AvailabilityZones": zones}
            evidence = [db.evidence]
        else:
            key = (db.account, db.region, db.name)
            zones = sorted(members.get(key, set()))
            count = max(2 if multi else 0, len(zones))
            observed = {"MultiAZ": multi, "member_instance_zones": zones}
            evidence = [db.evidence] + ([member_evidence[key]] if key in member_evidence else [])
        ok = count >= minimum
        return _finding(
            ctx, Status.PASS if ok else Status.FAIL, db,
            f"{db.label} runs in {count} Availability Zone{'s' if count != 1 else ''}"
            + ("." if ok else f"; at least {minimum} are required."),
            observed, expected, evidence,
        )

    yield from each_database(ctx, judge)
