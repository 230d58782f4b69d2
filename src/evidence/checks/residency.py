"""DATA-RESIDENCY: data-bearing resources (S3 buckets, RDS databases, DynamoDB tables, EBS
volumes, EC2 instances) live only in `allowed_regions`, and every enabled region was examined.

A resource outside the allowed regions can only be seen where the collector looked: S3 buckets
are listed account-wide, the regional services only in `aws.regions`. So a residency verdict
also needs proof that every region the account has enabled was examined
(`aws.residency.regions_examined`); with `aws.regions = ["all"]` it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import ACCOUNT_TYPE, account_arn, failed_subjects, items
from evidence.checks.base import CheckContext, check
from evidence.checks.dynamodb import table_arn
from evidence.checks.ec2 import volume_arn
from evidence.checks.rds import databases
from evidence.checks.s3 import buckets
from evidence.models import Finding, Status
from evidence.records import Evidence

_PARAMS = {"allowed_regions": ["eu-west-2"]}
#: the regional listings residency is judged from
REGIONAL_LISTINGS = (
    "ec2.DescribeInstances", "ec2.DescribeVolumes", "rds.DescribeDBInstances", "rds.DescribeDBClusters",
    "dynamodb.ListTables",
)


def _judge(
    ctx: CheckContext, *, resource_id: str, account: str, region: str, kind: str, label: str,
    evidence: list[Evidence | str], resource_type: str | None = None,
) -> Finding:
    allowed = sorted(str(r) for r in ctx.params["allowed_regions"])
    ok = region in allowed
    return ctx.finding(
        Status.PASS if ok else Status.FAIL, resource_id=resource_id, account=account, region=region,
        evidence=evidence, observed={"region": region}, expected={"region in": allowed},
        resource_type=resource_type,
        message=f"{kind} {label} is in {region}" + ("." if ok else f", outside {', '.join(allowed)}."),
    )


@check(
    id="aws.s3.bucket_residency",
    source="aws",
    description="Every S3 bucket of the account (listed account-wide) is in allowed_regions.",
    requires=("s3.ListBuckets", "s3.GetBucketLocation"),
    params=_PARAMS,
    resource_type="AWS::S3::Bucket",
)
def bucket_residency(ctx: CheckContext) -> Iterator[Finding]:
    failed = failed_subjects(ctx, "s3.GetBucketLocation")
    for bucket in buckets(ctx):
        if not bucket.region:
            if (bucket.account, bucket.arn) not in failed:
                yield ctx.finding(
                    Status.ERROR, resource_id=bucket.arn, account=bucket.account, evidence=list(bucket.evidence),
                    observed="region unknown", expected={"region in": list(ctx.params["allowed_regions"])},
                    message=f"The region of bucket {bucket.name} was not collected.",
                )
            continue
        yield _judge(ctx, resource_id=bucket.arn, account=bucket.account, region=bucket.region, kind="Bucket",
                     label=bucket.name, evidence=list(bucket.evidence))


@check(
    id="aws.rds.residency",
    source="aws",
    description="Every RDS DB instance and DB cluster in the examined regions is in allowed_regions.",
    requires=("rds.DescribeDBInstances", "rds.DescribeDBClusters"),
    params=_PARAMS,
    resource_type="AWS::RDS::DBInstance",
)
def rds_residency(ctx: CheckContext) -> Iterator[Finding]:
    for db in databases(ctx):
        yield _judge(ctx, resource_id=db.arn, account=db.account, region=db.region, kind=f"DB {db.kind}",
                     label=db.name, evidence=[db.evidence], resource_type=db.resource_type)


@check(
    id="aws.dynamodb.table_residency",
    source="aws",
    description="Every DynamoDB table in the examined regions is in allowed_regions.",
    requires=("dynamodb.ListTables",),
    params=_PARAMS,
    resource_type="AWS::DynamoDB::Table",
)
def table_residency(ctx: CheckContext) -> Iterator[Finding]:
    for ev in ctx.evidence("dynamodb.ListTables"):
        for name in ev.response.get("TableNames", []) or []:
            yield _judge(ctx, resource_id=table_arn(ev.region, ev.account, str(name)), account=ev.account,
                         region=ev.region, kind="Table", label=str(name), evidence=[ev])


@check(
    id="aws.ec2.volume_residency",
    source="aws",
    description="Every EBS volume in the examined regions is in allowed_regions.",
    requires=("ec2.DescribeVolumes",),
    params=_PARAMS,
    resource_type="AWS::EC2::Volume",
)
def volume_residency(ctx: CheckContext) -> Iterator[Finding]:
    for vol, ev in items(ctx, "ec2.DescribeVolumes", "Volumes"):
        yield _judge(ctx, resource_id=volume_arn(ev.region, ev.account, str(vol["VolumeId"])), account=ev.account,
                     region=ev.region, kind="Volume", label=str(vol["VolumeId"]), evidence=[ev])


@check(
    id="aws.ec2.instance_residency",
    source="aws",
    description="Every EC2 instance (not terminated) in the examined regions is in allowed_regions.",
    requires=("ec2.DescribeInstances",),
    params=_PARAMS,
    resource_type="AWS::EC2::Instance",
)
def instance_residency(ctx: CheckContext) -> Iterator[Finding]:
    for reservation, ev in items(ctx, "ec2.DescribeInstances", "Reservations"):
        for inst in reservation.get("Instances", []) or []:
            if (inst.get("State") or {}).get("Name") == "terminated":
                continue
            iid = str(inst["InstanceId"])
            yield _judge(ctx, resource_id=f"arn:aws:ec2:{ev.region}:{ev.account}:instance/{iid}",
                         account=ev.account, region=ev.region, kind="Instance", label=iid, evidence=[ev])


@check(
    id="aws.residency.regions_examined",
    source="aws",
    description="Every region the account has enabled was examined for data-bearing resources (set "
    "aws.regions = [\"all\"]); resources in a region nobody looked at cannot be shown to be absent.",
    requires=("ec2.DescribeRegions", *REGIONAL_LISTINGS),
    resource_type=ACCOUNT_TYPE,
)
def regions_examined(ctx: CheckContext) -> Iterator[Finding]:
    examined: dict[str, set[str]] = {}
    for key in REGIONAL_LISTINGS:
        per_account: dict[str, set[str]] = {}
        for entry in ctx.index.entries_for(key):
            per_account.setdefault(entry.account, set()).add(entry.region)
        for account, regions in per_account.items():
            examined[account] = examined[account] & regions if account in examined else set(regions)
    for ev in ctx.evidence("ec2.DescribeRegions"):
        enabled = sorted(str(r["RegionName"]) for r in ev.response.get("Regions", []) or [])
        seen = examined.get(ev.account, set())
        missing = [r for r in enabled if r not in seen]
        where: dict[str, Any] = {"resource_id": account_arn(ev.account), "account": ev.account, "evidence": [ev],
                                 "expected": "every enabled region examined"}
        if missing:
            yield ctx.finding(
                Status.ERROR, **where,
                observed={"examined": sorted(seen), "not_examined": missing},
                message=f"{len(missing)} of {len(enabled)} enabled regions were not examined for data-bearing "
                f"resources ({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); set "
                'aws.regions = ["all"] to prove residency.',
            )
        else:
            yield ctx.finding(
                Status.PASS, **where, observed={"examined": sorted(seen)},
                message=f"All {len(enabled)} enabled regions were examined for data-bearing resources.",
            )
