"""S3 checks: default encryption on every bucket (ENC-REST)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from evidence.checks.awsutil import error_answer, failed_subjects
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status

NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def region_of(location: object) -> str:
    """GetBucketLocation's LocationConstraint as a region (null is us-east-1, `EU` eu-west-1)."""
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    #: '' when neither ListBuckets nor GetBucketLocation told
    region: str
    evidence: tuple[str, ...]

    @property
    def arn(self) -> str:
        return bucket_arn(self.name)


def buckets(ctx: CheckContext) -> Iterator[Bucket]:
    """Every listed bucket with its region: ListBuckets' `BucketRegion` when AWS gives it,
    else the bucket's GetBucketLocation record."""
    located: dict[tuple[str, str], tuple[str, str]] = {}
    for ev in ctx.evidence("s3.GetBucketLocation"):
        located[(ev.account, ev.record.subject)] = (region_of(ev.response.get("LocationConstraint")), ev.path)
    for ev in ctx.evidence("s3.ListBuckets"):
        for b in ev.response.get("Buckets", []) or []:
            name = str(b["Name"])
            if b.get("BucketRegion"):
                yield Bucket(name, ev.account, str(b["BucketRegion"]), (ev.path,))
                continue
            region, path = located.get((ev.account, bucket_arn(name)), ("", ""))
            yield Bucket(name, ev.account, region, (ev.path, path) if path else (ev.path,))


@check(
    id="aws.s3.bucket_default_encryption",
    source="aws",
    description="Every S3 bucket has default encryption configured (SSE-S3, SSE-KMS or DSSE-KMS).",
    requires=("s3.ListBuckets", "s3.GetBucketLocation", "s3.GetBucketEncryption"),
    resource_type="AWS::S3::Bucket",
)
def bucket_default_encryption(ctx: CheckContext) -> Iterator[Finding]:
    expected = "default encryption rule (SSE-S3, SSE-KMS or DSSE-KMS)"
    judged: set[tuple[str, str]] = set()
    for ev in ctx.evidence("s3.GetBucketEncryption"):
        arn = ev.record.subject
        judged.add((ev.account, arn))
        where = {"resource_id": arn, "account": ev.account, "region": ev.region, "expected": expected}
        rules = (ev.response.get("ServerSideEncryptionConfiguration") or {}).get("Rules", []) or []
        algorithms = sorted({
            str(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm"))
            for r in rules if r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        })
        if error_answer(ev) == NO_ENCRYPTION or not algorithms:
            yield ctx.finding(
                Status.FAIL, **where, evidence=[ev], observed="no default encryption",
                message=f"Bucket {arn.rsplit(':', 1)[-1]} has no default encryption configured.",
            )
        else:
            yield ctx.finding(
                Status.PASS, **where, evidence=[ev], observed={"algorithms": algorithms},
                message=f"Bucket {arn.rsplit(':', 1)[-1]} encrypts new objects by default with "
                f"{', '.join(algorithms)}.",
            )
    failed = failed_subjects(ctx, "s3.GetBucketEncryption", "s3.GetBucketLocation")
    for bucket in buckets(ctx):
        key = (bucket.account, bucket.arn)
        if key in judged or key in failed:
            continue
        yield ctx.finding(
            Status.ERROR, resource_id=bucket.arn, account=bucket.account, region=bucket.region,
            evidence=list(bucket.evidence), observed="not collected", expected=expected,
            message=f"Bucket {bucket.name} is listed but its encryption configuration was not collected.",
        )
