"""AWS, as both sides see it: the evidence keys the collector records and the checks read,
the error codes recorded as answers, the ARNs both build, and the rules both apply.

Pure: no client, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# --- evidence keys both sides name ---------------------------------------------------------

LIST_BUCKETS = "s3.ListBuckets"
GET_BUCKET_LOCATION = "s3.GetBucketLocation"
GET_BUCKET_ENCRYPTION = "s3.GetBucketEncryption"
LIST_KEYS = "kms.ListKeys"
DESCRIBE_KEY = "kms.DescribeKey"
GET_KEY_ROTATION_STATUS = "kms.GetKeyRotationStatus"
LIST_PROTECTIONS = "shield.ListProtections"
DESCRIBE_REGIONS = "ec2.DescribeRegions"
DESCRIBE_INSTANCES = "ec2.DescribeInstances"
DESCRIBE_VOLUMES = "ec2.DescribeVolumes"
DESCRIBE_DB_INSTANCES = "rds.DescribeDBInstances"
DESCRIBE_DB_CLUSTERS = "rds.DescribeDBClusters"
LIST_TABLES = "dynamodb.ListTables"


def split_key(key: str) -> tuple[str, str]:
    """`service.Operation` as (service, operation)."""
    service, _, operation = key.partition(".")
    return service, operation


# --- answers: error codes that are the API's way of saying "none" ----------------------------

#: GetBucketEncryption's answer for a bucket without default encryption
NO_BUCKET_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
#: ListProtections' answer when the account has no Shield Advanced subscription or protection
NO_SHIELD = "ResourceNotFoundException"


def error_answer(code: str, message: str) -> dict[str, Any]:
    """How an error code that answers (see `NO_BUCKET_ENCRYPTION`) is recorded: as a response."""
    return {"Error": {"Code": code, "Message": message}}


def answer_code(response: Any) -> str:
    """The error code a recorded response answered with (see `error_answer`), or ''."""
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return str(response["Error"].get("Code", ""))
    return ""


# --- ARNs ---------------------------------------------------------------------------------------


def account_arn(account: str) -> str:
    """The ARN AWS uses for an account as a whole (and for its root user)."""
    return f"arn:aws:iam::{account}:root"


def role_arn(account: str, role_name: str) -> str:
    return f"arn:aws:iam::{account}:role/{role_name}"


def scope_arn(service: str, account: str, region: str) -> str:
    """What a listing call in one account and region covered, as an ARN with a wildcard (the
    resource id of its failure when it has no subject)."""
    return f"arn:aws:{service}:{region}:{account}:*"


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def table_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def arn_account(arn: str, default: str = "") -> str:
    """The account field of an ARN (`default` when `arn` has too few fields to be one)."""
    return arn.split(":")[4] if arn.count(":") >= 5 else default


# --- regions --------------------------------------------------------------------------------------

#: GetBucketLocation's field naming the bucket's region
LOCATION_CONSTRAINT = "LocationConstraint"
#: the field ListBuckets (asked with a page size) names each bucket's region in
BUCKET_REGION = "BucketRegion"


def bucket_region(location: Any) -> str:
    """GetBucketLocation's `LocationConstraint` as a region name: null (or empty) is us-east-1,
    the legacy `EU` is eu-west-1."""
    if not location:
        return "us-east-1"
    if location == "EU":
        return "eu-west-1"
    return str(location)


# --- KMS ------------------------------------------------------------------------------------------


def rotation_applies(meta: Mapping[str, Any]) -> bool:
    """Automatic rotation exists only for customer-managed symmetric keys with KMS key material
    (enabled or disabled): the collector asks GetKeyRotationStatus of those keys only, and the
    check judges those keys only. An absent `Origin` is AWS_KMS."""
    return (
        meta.get("KeyManager") == "CUSTOMER"
        and meta.get("KeySpec") == "SYMMETRIC_DEFAULT"
        and meta.get("Origin", "AWS_KMS") == "AWS_KMS"
        and meta.get("KeyState") in {"Enabled", "Disabled"}
    )
