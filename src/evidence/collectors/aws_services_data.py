"""AWS units of where data lives and how it is kept: S3 buckets (and their encryption, asked
in each bucket's own region), EBS, EC2 instances, RDS, DynamoDB, KMS keys and AWS Backup.

Each unit asks `c.wants(key)` before a call, so a run that judges only some controls makes
only the calls those checks read; per-resource calls fan out as further jobs (`c.fork_each`).
"""

from __future__ import annotations

from datetime import timedelta

from evidence.collectors.aws_calls import Caller
from evidence.collectors.aws_units import CHUNK, PAGE
from evidence.models import utc_now
from evidence.sources.aws import (
    BUCKET_REGION,
    DESCRIBE_DB_CLUSTERS,
    DESCRIBE_DB_INSTANCES,
    DESCRIBE_INSTANCES,
    DESCRIBE_KEY,
    DESCRIBE_VOLUMES,
    GET_BUCKET_ENCRYPTION,
    GET_BUCKET_LOCATION,
    GET_KEY_ROTATION_STATUS,
    LIST_BUCKETS,
    LIST_KEYS,
    LIST_TABLES,
    LOCATION_CONSTRAINT,
    NO_BUCKET_ENCRYPTION,
    bucket_arn,
    bucket_region,
    rotation_applies,
    split_key,
    table_arn,
)

#: restore jobs older than this are not collected (DR-TEST looks back 365 days from judging)
RESTORE_LOOKBACK_DAYS = 400


def s3(c: Caller) -> None:
    """Global: ListBuckets once per account; bucket-level calls go to each bucket's region.

    With a page size, ListBuckets returns each bucket's `BucketRegion`, so GetBucketLocation
    is called only for buckets that come without it.
    """
    per_bucket = c.wants(GET_BUCKET_LOCATION) or c.wants(GET_BUCKET_ENCRYPTION)
    for page in c.pages(*split_key(LIST_BUCKETS), page_size=PAGE[LIST_BUCKETS]):
        if per_bucket:
            buckets = [(b["Name"], b.get(BUCKET_REGION) or "") for b in page.get("Buckets", [])]
            c.fork_each(buckets, _s3_buckets, CHUNK)


def _s3_buckets(c: Caller, buckets: list[tuple[str, str]]) -> None:
    for name, region in buckets:
        arn = bucket_arn(name)
        if not region:
            loc = c.call(*split_key(GET_BUCKET_LOCATION), subject=arn, Bucket=name)
            if loc is None:
                # the failure is recorded; the bucket's other calls cannot be routed
                continue
            region = bucket_region(loc.get(LOCATION_CONSTRAINT))
        if c.wants(GET_BUCKET_ENCRYPTION):
            c.at(region).call(
                *split_key(GET_BUCKET_ENCRYPTION), subject=arn, Bucket=name,
                answers=frozenset({NO_BUCKET_ENCRYPTION}),
            )


def ec2_ebs(c: Caller) -> None:
    if c.wants("ec2.GetEbsEncryptionByDefault"):
        c.call("ec2", "GetEbsEncryptionByDefault")
    if c.wants(DESCRIBE_VOLUMES):
        for _ in c.pages(*split_key(DESCRIBE_VOLUMES), page_size=PAGE[DESCRIBE_VOLUMES]):
            pass


def ec2_instances(c: Caller) -> None:
    for _ in c.pages(*split_key(DESCRIBE_INSTANCES), page_size=PAGE[DESCRIBE_INSTANCES]):
        pass


def rds(c: Caller) -> None:
    if c.wants(DESCRIBE_DB_INSTANCES):
        for _ in c.pages(*split_key(DESCRIBE_DB_INSTANCES), page_size=PAGE[DESCRIBE_DB_INSTANCES]):
            pass
    if c.wants(DESCRIBE_DB_CLUSTERS):
        for _ in c.pages(*split_key(DESCRIBE_DB_CLUSTERS), page_size=PAGE[DESCRIBE_DB_CLUSTERS]):
            pass


def dynamodb(c: Caller) -> None:
    for page in c.pages(*split_key(LIST_TABLES), page_size=PAGE[LIST_TABLES]):
        if c.wants("dynamodb.DescribeContinuousBackups"):
            c.fork_each(list(page.get("TableNames", [])), _dynamodb_backups, CHUNK)


def _dynamodb_backups(c: Caller, tables: list[str]) -> None:
    for name in tables:
        arn = table_arn(c.region, c.account.id, name)
        c.call("dynamodb", "DescribeContinuousBackups", subject=arn, TableName=name)


def kms(c: Caller) -> None:
    for page in c.pages(*split_key(LIST_KEYS), page_size=PAGE[LIST_KEYS]):
        if c.wants(DESCRIBE_KEY):
            keys = [k.get("KeyArn") or k["KeyId"] for k in page.get("Keys", [])]
            c.fork_each(keys, _kms_keys, CHUNK)


def _kms_keys(c: Caller, keys: list[str]) -> None:
    for key in keys:
        resp = c.call(*split_key(DESCRIBE_KEY), subject=key, KeyId=key)
        if resp is None or not c.wants(GET_KEY_ROTATION_STATUS):
            continue
        meta = resp.get("KeyMetadata", {})
        if rotation_applies(meta):
            arn = meta.get("Arn", key)
            c.call(*split_key(GET_KEY_ROTATION_STATUS), subject=arn, KeyId=arn)


def backup_plans(c: Caller) -> None:
    for page in c.pages("backup", "ListBackupPlans", page_size=PAGE["backup.ListBackupPlans"]):
        for plan in page.get("BackupPlansList", []):
            plan_id, arn = plan["BackupPlanId"], plan.get("BackupPlanArn", plan["BackupPlanId"])
            if c.wants("backup.GetBackupPlan"):
                c.call("backup", "GetBackupPlan", subject=arn, BackupPlanId=plan_id)
            if c.wants("backup.ListBackupSelections"):
                for _ in c.pages("backup", "ListBackupSelections", subject=arn, BackupPlanId=plan_id,
                                 page_size=PAGE["backup.ListBackupSelections"]):
                    pass


def backup_restores(c: Caller) -> None:
    since = utc_now() - timedelta(days=RESTORE_LOOKBACK_DAYS)
    for _ in c.pages("backup", "ListRestoreJobs", ByStatus="COMPLETED", ByCompleteAfter=since,
                     page_size=PAGE["backup.ListRestoreJobs"]):
        pass
