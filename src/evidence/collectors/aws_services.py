"""The AWS collector's service units: which calls each service needs, and nothing more.

A unit is one service's calls in one (account, region), or once per account for a global
service. Each unit asks `c.wants(key)` before a call, so a run that judges only some
controls makes only the calls those checks read. Listings use the API's largest page;
per-resource calls are made only where AWS offers no wider call, and fan out as further
jobs on the pool (`c.fork_each`), so a big account does not serialise behind one thread.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from evidence.models import CollectionError, utc_now

if TYPE_CHECKING:
    from evidence.collectors.aws import Caller

T = TypeVar("T")

_ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]

#: the largest page each listing allows (fewest calls)
PAGE = {
    "s3.ListBuckets": 10000,
    "ec2.DescribeVolumes": 500,
    "ec2.DescribeSecurityGroups": 1000,
    "ec2.DescribeInstances": 1000,
    "rds.DescribeDBInstances": 100,
    "rds.DescribeDBClusters": 100,
    "dynamodb.ListTables": 100,
    "kms.ListKeys": 1000,
    "backup.ListBackupPlans": 1000,
    "backup.ListBackupSelections": 1000,
    "backup.ListRestoreJobs": 1000,
    "elbv2.DescribeLoadBalancers": 400,
    "elbv2.DescribeListeners": 400,
    "elb.DescribeLoadBalancers": 400,
    "shield.ListProtections": 10000,
    "wafv2.ListWebACLs": 100,
    "acm.ListCertificates": 1000,
    "apigateway.GetDomainNames": 500,
}

#: per-resource calls per pool job
CHUNK = 25
#: how long to wait for IAM to generate a credential report
CREDENTIAL_REPORT_TIMEOUT = 120.0
#: restore jobs older than this are not collected (DR-TEST looks back 365 days from judging)
RESTORE_LOOKBACK_DAYS = 400


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(frozen=True)
class Unit:
    """A slice of collection: one service's calls in one (account, region)."""

    name: str
    keys: frozenset[str]
    run: Callable[[Caller], None]
    is_global: bool = False


# --- load balancing, CDN, API domains, certificates -----------------------------------------


class Join:
    """Runs `then` once, after the job that made it and every job it `add`ed are `done`:
    a join that never blocks a pool thread (the last one to finish does the work)."""

    def __init__(self, then: Callable[[Caller], None]) -> None:
        self._then = then
        self._pending = 1
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self._pending += 1

    def done(self, c: Caller) -> None:
        with self._lock:
            self._pending -= 1
            last = self._pending == 0
        if last:
            self._then(c)


def _elbv2(c: Caller) -> None:
    policies: set[str] = set()
    lock = threading.Lock()

    def describe_policies(last: Caller) -> None:
        # only the policies in use, in one call: their protocols decide, not their names
        if policies and last.wants("elbv2.DescribeSSLPolicies"):
            for _ in last.pages("elbv2", "DescribeSSLPolicies", Names=sorted(policies)):
                pass

    def listeners(lc: Caller, arns: list[str]) -> None:
        try:
            for arn in arns:
                for lpage in lc.pages("elbv2", "DescribeListeners", subject=arn, LoadBalancerArn=arn,
                                      page_size=PAGE["elbv2.DescribeListeners"]):
                    found = {li["SslPolicy"] for li in lpage.get("Listeners", []) if li.get("SslPolicy")}
                    with lock:
                        policies.update(found)
        finally:
            join.done(lc)

    join = Join(describe_policies)
    try:
        for page in c.pages("elbv2", "DescribeLoadBalancers", page_size=PAGE["elbv2.DescribeLoadBalancers"]):
            lbs = page.get("LoadBalancers", [])
            if c.wants("elbv2.DescribeListeners"):
                for chunk in chunks([lb["LoadBalancerArn"] for lb in lbs], CHUNK):
                    join.add()
                    c.fork(functools.partial(listeners, arns=chunk))
            if c.wants("elbv2.DescribeLoadBalancerAttributes"):
                albs = [lb["LoadBalancerArn"] for lb in lbs if lb.get("Type") == "application"]
                c.fork_each(albs, _elbv2_attributes, CHUNK)
    finally:
        join.done(c)


def _elbv2_attributes(c: Caller, arns: list[str]) -> None:
    for arn in arns:
        c.call("elbv2", "DescribeLoadBalancerAttributes", subject=arn, LoadBalancerArn=arn)


def _elb(c: Caller) -> None:
    for page in c.pages("elb", "DescribeLoadBalancers", page_size=PAGE["elb.DescribeLoadBalancers"]):
        if not c.wants("elb.DescribeLoadBalancerPolicies"):
            continue
        secure = [
            lb["LoadBalancerName"] for lb in page.get("LoadBalancerDescriptions", [])
            if any(d.get("Listener", {}).get("Protocol", "").upper() in {"HTTPS", "SSL"}
                   for d in lb.get("ListenerDescriptions", []))
        ]
        c.fork_each(secure, _elb_policies, CHUNK)


def _elb_policies(c: Caller, names: list[str]) -> None:
    for name in names:
        c.call("elb", "DescribeLoadBalancerPolicies", subject=name, LoadBalancerName=name)


def _cloudfront(c: Caller) -> None:
    for _ in c.pages("cloudfront", "ListDistributions"):
        pass


def _apigateway(c: Caller) -> None:
    for _ in c.pages("apigateway", "GetDomainNames", page_size=PAGE["apigateway.GetDomainNames"]):
        pass


def _apigatewayv2(c: Caller) -> None:
    for _ in c.pages("apigatewayv2", "GetDomainNames"):
        pass


def _acm(c: Caller) -> None:
    for page in c.pages("acm", "ListCertificates", Includes={"keyTypes": _ALL_KEY_TYPES},
                        page_size=PAGE["acm.ListCertificates"]):
        if not c.wants("acm.DescribeCertificate"):
            continue
        arns = [s["CertificateArn"] for s in page.get("CertificateSummaryList", [])]
        c.fork_each(arns, _acm_describe, CHUNK)


def _acm_describe(c: Caller, arns: list[str]) -> None:
    for arn in arns:
        c.call("acm", "DescribeCertificate", subject=arn, CertificateArn=arn)


# --- storage and databases -------------------------------------------------------------------


def bucket_region(location: Any) -> str:
    """GetBucketLocation's answer as a region name (null means us-east-1, `EU` eu-west-1)."""
    if not location:
        return "us-east-1"
    if location == "EU":
        return "eu-west-1"
    return str(location)


def _s3(c: Caller) -> None:
    """Global: ListBuckets once per account; bucket-level calls go to each bucket's region.

    With a page size, ListBuckets returns each bucket's `BucketRegion`, so GetBucketLocation
    is called only for buckets that come without it.
    """
    per_bucket = c.wants("s3.GetBucketLocation") or c.wants("s3.GetBucketEncryption")
    for page in c.pages("s3", "ListBuckets", page_size=PAGE["s3.ListBuckets"]):
        if per_bucket:
            buckets = [(b["Name"], b.get("BucketRegion") or "") for b in page.get("Buckets", [])]
            c.fork_each(buckets, _s3_buckets, CHUNK)


def _s3_buckets(c: Caller, buckets: list[tuple[str, str]]) -> None:
    for name, region in buckets:
        arn = f"arn:aws:s3:::{name}"
        if not region:
            loc = c.call("s3", "GetBucketLocation", subject=arn, Bucket=name)
            if loc is None:
                # the failure is recorded; the bucket's other calls cannot be routed
                continue
            region = bucket_region(loc.get("LocationConstraint"))
        if c.wants("s3.GetBucketEncryption"):
            c.at(region).call(
                "s3", "GetBucketEncryption", subject=arn, Bucket=name,
                answers=frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
            )


def _ec2_ebs(c: Caller) -> None:
    if c.wants("ec2.GetEbsEncryptionByDefault"):
        c.call("ec2", "GetEbsEncryptionByDefault")
    if c.wants("ec2.DescribeVolumes"):
        for _ in c.pages("ec2", "DescribeVolumes", page_size=PAGE["ec2.DescribeVolumes"]):
            pass


def _ec2_security_groups(c: Caller) -> None:
    for _ in c.pages("ec2", "DescribeSecurityGroups", page_size=PAGE["ec2.DescribeSecurityGroups"]):
        pass


def _ec2_instances(c: Caller) -> None:
    for _ in c.pages("ec2", "DescribeInstances", page_size=PAGE["ec2.DescribeInstances"]):
        pass


def _rds(c: Caller) -> None:
    if c.wants("rds.DescribeDBInstances"):
        for _ in c.pages("rds", "DescribeDBInstances", page_size=PAGE["rds.DescribeDBInstances"]):
            pass
    if c.wants("rds.DescribeDBClusters"):
        for _ in c.pages("rds", "DescribeDBClusters", page_size=PAGE["rds.DescribeDBClusters"]):
            pass


def _dynamodb(c: Caller) -> None:
    for page in c.pages("dynamodb", "ListTables", page_size=PAGE["dynamodb.ListTables"]):
        if c.wants("dynamodb.DescribeContinuousBackups"):
            c.fork_each(list(page.get("TableNames", [])), _dynamodb_backups, CHUNK)


def _dynamodb_backups(c: Caller, tables: list[str]) -> None:
    for name in tables:
        arn = f"arn:aws:dynamodb:{c.region}:{c.account.id}:table/{name}"
        c.call("dynamodb", "DescribeContinuousBackups", subject=arn, TableName=name)


def _kms(c: Caller) -> None:
    for page in c.pages("kms", "ListKeys", page_size=PAGE["kms.ListKeys"]):
        if c.wants("kms.DescribeKey"):
            keys = [k.get("KeyArn") or k["KeyId"] for k in page.get("Keys", [])]
            c.fork_each(keys, _kms_keys, CHUNK)


def rotation_applies(meta: dict[str, Any]) -> bool:
    """Automatic rotation exists only for customer-managed symmetric keys with KMS key material."""
    return (
        meta.get("KeyManager") == "CUSTOMER"
        and meta.get("KeySpec") == "SYMMETRIC_DEFAULT"
        and meta.get("Origin", "AWS_KMS") == "AWS_KMS"
        and meta.get("KeyState") in {"Enabled", "Disabled"}
    )


def _kms_keys(c: Caller, keys: list[str]) -> None:
    for key in keys:
        resp = c.call("kms", "DescribeKey", subject=key, KeyId=key)
        if resp is None or not c.wants("kms.GetKeyRotationStatus"):
            continue
        meta = resp.get("KeyMetadata", {})
        if rotation_applies(meta):
            arn = meta.get("Arn", key)
            c.call("kms", "GetKeyRotationStatus", subject=arn, KeyId=arn)


def _backup_plans(c: Caller) -> None:
    for page in c.pages("backup", "ListBackupPlans", page_size=PAGE["backup.ListBackupPlans"]):
        for plan in page.get("BackupPlansList", []):
            plan_id, arn = plan["BackupPlanId"], plan.get("BackupPlanArn", plan["BackupPlanId"])
            if c.wants("backup.GetBackupPlan"):
                c.call("backup", "GetBackupPlan", subject=arn, BackupPlanId=plan_id)
            if c.wants("backup.ListBackupSelections"):
                for _ in c.pages("backup", "ListBackupSelections", subject=arn, BackupPlanId=plan_id,
                                 page_size=PAGE["backup.ListBackupSelections"]):
                    pass


def _backup_restores(c: Caller) -> None:
    since = utc_now() - timedelta(days=RESTORE_LOOKBACK_DAYS)
    for _ in c.pages("backup", "ListRestoreJobs", ByStatus="COMPLETED", ByCompleteAfter=since,
                     page_size=PAGE["backup.ListRestoreJobs"]):
        pass


# --- edge protection -----------------------------------------------------------------------


def _wafv2(c: Caller, scope: str) -> None:
    for page in c.marker_pages("wafv2", "ListWebACLs", marker_in="NextMarker", marker_out="NextMarker",
                               Scope=scope, Limit=PAGE["wafv2.ListWebACLs"]):
        acls = [(a["Name"], a["Id"], a["ARN"]) for a in page.get("WebACLs", [])]
        for name, acl_id, arn in acls:
            if c.wants("wafv2.GetWebACL"):
                c.call("wafv2", "GetWebACL", subject=arn, Name=name, Id=acl_id, Scope=scope)
            if scope == "REGIONAL" and c.wants("wafv2.ListResourcesForWebACL"):
                # CloudFront ACLs are found from the other side: each distribution names its ACL
                c.call("wafv2", "ListResourcesForWebACL", subject=arn, WebACLArn=arn,
                       ResourceType="APPLICATION_LOAD_BALANCER")


def _wafv2_regional(c: Caller) -> None:
    _wafv2(c, "REGIONAL")


def _wafv2_cloudfront(c: Caller) -> None:
    _wafv2(c, "CLOUDFRONT")


def _shield(c: Caller) -> None:
    # without a Shield Advanced subscription (or with no protection) AWS answers
    # ResourceNotFoundException: that is "no protections", not a failure to look
    for _ in c.pages("shield", "ListProtections", page_size=PAGE["shield.ListProtections"],
                     answers=frozenset({"ResourceNotFoundException"})):
        pass


# --- logging ---------------------------------------------------------------------------------


def _cloudtrail(c: Caller) -> None:
    """Global: DescribeTrails once per account (multi-region trails show in every region),
    then the status of each multi-region trail, asked in its home region."""
    resp = c.call("cloudtrail", "DescribeTrails", includeShadowTrails=True)
    if resp is None or not c.wants("cloudtrail.GetTrailStatus"):
        return
    for trail in resp.get("trailList", []):
        if not trail.get("IsMultiRegionTrail"):
            continue
        arn = trail.get("TrailARN", trail.get("Name", ""))
        home = trail.get("HomeRegion") or c.region
        c.at(home).call("cloudtrail", "GetTrailStatus", subject=arn, Name=arn)


# --- identity ---------------------------------------------------------------------------------


def decode_credential_report(response: dict[str, Any]) -> dict[str, Any]:
    """GetCredentialReport's base64 CSV as rows (a list of dicts): JSON, and free of secrets
    (the report holds names, ARNs, dates and flags, never a password or a key)."""
    content = response.get("Content", b"")
    if isinstance(content, str):
        content = base64.b64decode(content)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    return {
        "GeneratedTime": response.get("GeneratedTime"),
        "ReportFormat": response.get("ReportFormat"),
        "Rows": rows,
    }


def _iam(c: Caller) -> None:
    if c.wants("iam.GetAccountSummary"):
        c.call("iam", "GetAccountSummary")
    if c.wants("iam.GetCredentialReport"):
        _credential_report(c)


def _credential_report(c: Caller) -> None:
    deadline = time.monotonic() + CREDENTIAL_REPORT_TIMEOUT
    delay = 0.25  # the report is usually ready within a second; back off up to 10 s
    while True:
        state = c.call("iam", "GenerateCredentialReport")
        if state is None:
            return
        if state.get("State") == "COMPLETE":
            break
        if time.monotonic() + delay > deadline:
            c.fail("iam", "GetCredentialReport", {}, "", CollectionError(
                code="ReportNotReady",
                message=f"IAM did not finish the credential report within {CREDENTIAL_REPORT_TIMEOUT:.0f}s",
                remedy="run again in a few minutes",
            ))
            return
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
    c.call("iam", "GetCredentialReport", transform=decode_credential_report)


SERVICE_UNITS: tuple[Unit, ...] = (
    Unit(
        "elbv2",
        frozenset({"elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners", "elbv2.DescribeSSLPolicies",
                   "elbv2.DescribeLoadBalancerAttributes"}),
        _elbv2,
    ),
    Unit("elb", frozenset({"elb.DescribeLoadBalancers", "elb.DescribeLoadBalancerPolicies"}), _elb),
    Unit("cloudfront", frozenset({"cloudfront.ListDistributions"}), _cloudfront, is_global=True),
    Unit("apigateway", frozenset({"apigateway.GetDomainNames"}), _apigateway),
    Unit("apigatewayv2", frozenset({"apigatewayv2.GetDomainNames"}), _apigatewayv2),
    Unit("acm", frozenset({"acm.ListCertificates", "acm.DescribeCertificate"}), _acm),
    Unit("s3", frozenset({"s3.ListBuckets", "s3.GetBucketLocation", "s3.GetBucketEncryption"}), _s3,
         is_global=True),
    Unit("ec2-ebs", frozenset({"ec2.GetEbsEncryptionByDefault", "ec2.DescribeVolumes"}), _ec2_ebs),
    Unit("ec2-security-groups", frozenset({"ec2.DescribeSecurityGroups"}), _ec2_security_groups),
    Unit("ec2-instances", frozenset({"ec2.DescribeInstances"}), _ec2_instances),
    Unit("rds", frozenset({"rds.DescribeDBInstances", "rds.DescribeDBClusters"}), _rds),
    Unit("dynamodb", frozenset({"dynamodb.ListTables", "dynamodb.DescribeContinuousBackups"}), _dynamodb),
    Unit("kms", frozenset({"kms.ListKeys", "kms.DescribeKey", "kms.GetKeyRotationStatus"}), _kms),
    Unit("backup-plans",
         frozenset({"backup.ListBackupPlans", "backup.GetBackupPlan", "backup.ListBackupSelections"}),
         _backup_plans),
    Unit("backup-restores", frozenset({"backup.ListRestoreJobs"}), _backup_restores),
    Unit("wafv2", frozenset({"wafv2.ListWebACLs", "wafv2.GetWebACL", "wafv2.ListResourcesForWebACL"}),
         _wafv2_regional),
    Unit("wafv2-cloudfront", frozenset({"wafv2.ListWebACLs", "wafv2.GetWebACL"}), _wafv2_cloudfront,
         is_global=True),
    Unit("shield", frozenset({"shield.ListProtections"}), _shield, is_global=True),
    Unit("cloudtrail", frozenset({"cloudtrail.DescribeTrails", "cloudtrail.GetTrailStatus"}), _cloudtrail,
         is_global=True),
    Unit("iam", frozenset({"iam.GetAccountSummary", "iam.GenerateCredentialReport", "iam.GetCredentialReport"}),
         _iam, is_global=True),
)

__all__ = ["CHUNK", "PAGE", "SERVICE_UNITS", "Join", "Unit", "bucket_region", "chunks",
           "decode_credential_report", "rotation_applies"]
