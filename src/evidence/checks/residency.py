"""DATA-RESIDENCY: data-bearing resources (S3 buckets, RDS databases, DynamoDB tables, EBS
volumes, EC2 instances) live only in `allowed_regions`, and every enabled region was examined.

A resource outside the allowed regions can only be seen where the collector looked: S3 buckets
are listed account-wide, the regional services only in `aws.regions`. So a residency verdict
also needs proof that every region the account has enabled was examined
(`aws.residency.regions_examined`); with `aws.regions = ["all"]` it is.

Populations: every listed bucket, standalone DB instance (an instance of a DB cluster is judged
as its cluster, which is judged too), table, volume, and EC2 instance of every listed reservation (terminated
ones skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field

from evidence.checks.awsutil import ACCOUNT_TYPE, account_resource, failed_subjects
from evidence.checks.base import CheckContext, check
from evidence.checks.dynamodb import TABLES
from evidence.checks.ec2 import VOLUMES
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.checks.rds import CLUSTERS, INSTANCES, each_database
from evidence.checks.s3 import BUCKETS
from evidence.models import Finding, Status
from evidence.records import Evidence
from evidence.sources.aws import (
    BUCKET_REGION,
    DESCRIBE_DB_CLUSTERS,
    DESCRIBE_DB_INSTANCES,
    DESCRIBE_INSTANCES,
    DESCRIBE_REGIONS,
    DESCRIBE_VOLUMES,
    GET_BUCKET_LOCATION,
    LIST_TABLES,
    LOCATION_CONSTRAINT,
    bucket_region,
)

#: the regional listings residency is judged from
REGIONAL_LISTINGS = (DESCRIBE_INSTANCES, DESCRIBE_VOLUMES, DESCRIBE_DB_INSTANCES, DESCRIBE_DB_CLUSTERS, LIST_TABLES)

#: one GetBucketLocation record per bucket listed without its `BucketRegion`, its subject the bucket ARN
LOCATIONS = Inventory(GET_BUCKET_LOCATION, items=None)
def instance_arn(instance_id: str, ev: Evidence) -> str:
    return f"arn:aws:ec2:{ev.region}:{ev.account}:instance/{instance_id}"


#: the instances of every reservation DescribeInstances lists
INSTANCES_LISTED = Inventory(DESCRIBE_INSTANCES, items="Reservations[].Instances", id="InstanceId",
                             resource_type="AWS::EC2::Instance", resource_id=instance_arn)
#: one DescribeRegions record per account, as the account it is about
ENABLED_REGIONS = Inventory(DESCRIBE_REGIONS, items=None, resource_type=ACCOUNT_TYPE,
                            resource_id=account_resource)

Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")]


class ResidencyParams(Params):
    allowed_regions: list[Region] = Field(
        default_factory=lambda: ["eu-west-2"], min_length=1,
        description="AWS regions data-bearing resources may live in (region names such as eu-west-2).",
    )


def _judge(
    ctx: CheckContext[ResidencyParams], item: Item, *, region: str, kind: str, label: str,
    evidence: list[Evidence | str] | None = None,
    resource_type: str | None = None, finding_region: str | None = None,
) -> Finding:
    allowed = sorted(ctx.params.allowed_regions)
    ok = region in allowed
    return ctx.finding(
        Status.PASS if ok else Status.FAIL, resource_id=item.resource_id, account=item.account,
        region=region if finding_region is None else finding_region,
        evidence=evidence or [item.ev], observed={"region": region}, expected={"region in": allowed},
        resource_type=resource_type,
        message=f"{kind} {label} is in {region}" + ("." if ok else f", outside {', '.join(allowed)}."),
    )


def _location(item: Item) -> str:
    """GetBucketLocation's `LocationConstraint` as a region (`bucket_region`: null is us-east-1,
    `EU` eu-west-1); the field itself must be there, a region name or null."""
    response = item.value
    if not isinstance(response, dict) or LOCATION_CONSTRAINT not in response:
        raise FieldError(LOCATION_CONSTRAINT, "a region name or null", "missing", item.ev.path)
    value = response[LOCATION_CONSTRAINT]
    if value is not None and not isinstance(value, str):
        raise FieldError(LOCATION_CONSTRAINT, "a region name or null", type(value).__name__, item.ev.path)
    return bucket_region(value)


@check(
    id="aws.s3.bucket_residency",
    source="aws",
    description="Every S3 bucket of the account (listed account-wide) is in allowed_regions.",
    inventory=BUCKETS,
    listings=(LOCATIONS,),
    params=ResidencyParams,
)
def bucket_residency(ctx: CheckContext[ResidencyParams]) -> Iterator[Finding]:
    located = {(loc.account, loc.name): loc for loc in ctx.items(LOCATIONS)}
    failed = failed_subjects(ctx, GET_BUCKET_LOCATION)

    def one(bucket: Item) -> list[Finding]:
        # ListBuckets names each bucket's region when asked with a page size; else GetBucketLocation does.
        # Buckets are listed account-wide (in one region), so a finding names no region: its
        # `observed` does.
        region = bucket.need(BUCKET_REGION, str, "")
        evidence: list[Evidence | str] = [bucket.ev]
        if not region:
            loc = located.get((bucket.account, bucket.resource_id))
            if loc is None:
                if (bucket.account, bucket.resource_id) in failed:
                    return []  # the failed GetBucketLocation is the error finding for this bucket
                return [ctx.finding(
                    Status.ERROR, resource_id=bucket.resource_id, account=bucket.account, evidence=evidence,
                    observed="region unknown", expected={"region in": list(ctx.params.allowed_regions)},
                    message=f"The region of bucket {bucket.name} was not collected.",
                )]
            try:
                region = _location(loc)
            except FieldError as exc:
                return [ctx.field_error(exc, bucket)]
            evidence.append(loc.ev)
        return [_judge(ctx, bucket, region=region, kind="Bucket", label=bucket.name, evidence=evidence,
                       finding_region="")]

    yield from ctx.each(BUCKETS, one)


@check(
    id="aws.rds.residency",
    source="aws",
    description="Every RDS DB instance and DB cluster in the examined regions is in allowed_regions.",
    inventory=INSTANCES,
    listings=(CLUSTERS,),
    params=ResidencyParams,
)
def rds_residency(ctx: CheckContext[ResidencyParams]) -> Iterator[Finding]:
    yield from each_database(ctx, lambda db: _judge(ctx, db.item, region=db.region, kind=f"DB {db.kind}",
                                                    label=db.name, resource_type=db.resource_type))


@check(
    id="aws.dynamodb.table_residency",
    source="aws",
    description="Every DynamoDB table in the examined regions is in allowed_regions.",
    inventory=TABLES,
    params=ResidencyParams,
)
def table_residency(ctx: CheckContext[ResidencyParams]) -> Iterator[Finding]:
    yield from ctx.each(TABLES, lambda t: _judge(ctx, t, region=t.region, kind="Table", label=t.name))


@check(
    id="aws.ec2.volume_residency",
    source="aws",
    description="Every EBS volume in the examined regions is in allowed_regions.",
    inventory=VOLUMES,
    params=ResidencyParams,
)
def volume_residency(ctx: CheckContext[ResidencyParams]) -> Iterator[Finding]:
    yield from ctx.each(VOLUMES, lambda v: _judge(ctx, v, region=v.region, kind="Volume", label=v.name))


@check(
    id="aws.ec2.instance_residency",
    source="aws",
    description="Every EC2 instance (not terminated) in the examined regions is in allowed_regions.",
    inventory=INSTANCES_LISTED,
    params=ResidencyParams,
)
def instance_residency(ctx: CheckContext[ResidencyParams]) -> Iterator[Finding]:
    def one(inst: Item) -> Finding:
        if inst.need("State.Name", str) == "terminated":
            return ctx.skip(inst, "terminated instance")
        return _judge(ctx, inst, region=inst.region, kind="Instance", label=inst.name)

    yield from ctx.each(INSTANCES_LISTED, one)


@check(
    id="aws.residency.regions_examined",
    source="aws",
    description="Every region the account has enabled was examined for data-bearing resources (set "
    "aws.regions = [\"all\"]); resources in a region nobody looked at cannot be shown to be absent.",
    inventory=ENABLED_REGIONS,
    requires=REGIONAL_LISTINGS,
)
def regions_examined(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    examined: dict[str, set[str]] = {}
    for key in REGIONAL_LISTINGS:
        per_account: dict[str, set[str]] = {}
        for entry in ctx.index.entries_for(key):
            per_account.setdefault(entry.account, set()).add(entry.region)
        for account, regions in per_account.items():
            examined[account] = examined[account] & regions if account in examined else set(regions)

    def one(page: Item) -> Finding:
        enabled = sorted(r.need("RegionName", str) for r in page.parts("Regions"))
        seen = examined.get(page.account, set())
        missing = [r for r in enabled if r not in seen]
        where: dict[str, Any] = {"resource_id": page.resource_id, "account": page.account, "evidence": [page.ev],
                                 "expected": "every enabled region examined"}
        if missing:
            return ctx.finding(
                Status.ERROR, **where,
                observed={"examined": sorted(seen), "not_examined": missing},
                message=f"{len(missing)} of {len(enabled)} enabled regions were not examined for data-bearing "
                f"resources ({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); set "
                'aws.regions = ["all"] to prove residency.',
            )
        return ctx.finding(
            Status.PASS, **where, observed={"examined": sorted(seen)},
            message=f"All {len(enabled)} enabled regions were examined for data-bearing resources.",
        )

    yield from ctx.each(ENABLED_REGIONS, one)
