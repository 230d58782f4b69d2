"""S3 checks: default encryption on every bucket (ENC-REST).

Buckets are listed account-wide (`s3.ListBuckets`, global); each bucket's encryption is read in
the bucket's own region (`s3.GetBucketEncryption`, its `subject` the bucket ARN), so the check
judges those records and the judge requires one for every listed bucket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import error_answer
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import NoParams
from evidence.models import Finding, Status
from evidence.records import Evidence
from evidence.sources import aws
from evidence.sources.aws import GET_BUCKET_ENCRYPTION, GET_BUCKET_LOCATION, LIST_BUCKETS, NO_BUCKET_ENCRYPTION

BUCKET_TYPE = "AWS::S3::Bucket"


def bucket_arn(name: str, ev: Evidence | None = None) -> str:
    return aws.bucket_arn(name)


BUCKETS = Inventory(LIST_BUCKETS, items="Buckets", id="Name", resource_type=BUCKET_TYPE, resource_id=bucket_arn)
#: one GetBucketEncryption record per listed bucket, made in the bucket's region
ENCRYPTION = Inventory(GET_BUCKET_ENCRYPTION, items=None, resource_type=BUCKET_TYPE, parent=BUCKETS)


def default_algorithms(record: Item) -> list[str] | None:
    """The algorithms a GetBucketEncryption record's rules apply by default; None when S3
    answered that the bucket has no encryption configuration."""
    if error_answer(record.ev) == NO_BUCKET_ENCRYPTION:
        return None
    config = record.part(record.need("ServerSideEncryptionConfiguration", dict), "ServerSideEncryptionConfiguration")
    found: set[str] = set()
    for rule in config.parts("Rules"):
        # a rule without a default (only BucketKeyEnabled, say) encrypts nothing by default
        default = rule.need("ApplyServerSideEncryptionByDefault", dict, None)
        if default is not None:
            found.add(rule.part(default, "ApplyServerSideEncryptionByDefault").need("SSEAlgorithm", str))
    return sorted(found)


@check(
    id="aws.s3.bucket_default_encryption",
    source="aws",
    description="Every S3 bucket has default encryption configured (SSE-S3, SSE-KMS or DSSE-KMS).",
    inventory=ENCRYPTION,
    requires=(GET_BUCKET_LOCATION,),
)
def bucket_default_encryption(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    expected = "default encryption rule (SSE-S3, SSE-KMS or DSSE-KMS)"

    def one(record: Item) -> Finding:
        name = record.resource_id.rsplit(":", 1)[-1]
        where: dict[str, Any] = {"resource_id": record.resource_id, "account": record.account,
                                 "region": record.region, "expected": expected, "evidence": [record.ev]}
        algorithms = default_algorithms(record)
        if not algorithms:
            return ctx.finding(Status.FAIL, **where, observed="no default encryption",
                               message=f"Bucket {name} has no default encryption configured.")
        return ctx.finding(
            Status.PASS, **where, observed={"algorithms": algorithms},
            message=f"Bucket {name} encrypts new objects by default with {', '.join(algorithms)}.",
        )

    yield from ctx.each(ENCRYPTION, one)
