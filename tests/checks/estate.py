"""Hand-written AWS evidence records, written as the collector writes them and judged exactly as a
run judges them (`run_check`), one check at a time; and estates of two resources of each kind
(`key` names the listing's items, `changes` alter the first resource)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evidence.catalog import load_catalog
from evidence.checks.base import Check
from evidence.judge import Judging, run_check
from evidence.models import CollectionError, EvidenceRecord, Finding, Status
from evidence.records import EvidenceWriter
from tests.checks.awshelp import ACCOUNT, REGION

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


#: a value `apply` deletes the field for
DROP = object()


class Estate:
    """Evidence records written as the collector writes them, judged one check at a time."""

    def __init__(self, tmp_path: Path) -> None:
        self.writer = EvidenceWriter(tmp_path / "bundle")
        self.n = 0
        self.paths: dict[str, str] = {}

    def add(self, key: str, response: Any, *, subject: str = "", region: str = REGION, error: str = "") -> str:
        service, operation = key.split(".")
        self.n += 1
        path = self.writer.write(EvidenceRecord(
            source="aws", service=service, operation=operation, parameters={"call": self.n}, account=ACCOUNT,
            region=region, subject=subject, collected_at="2026-11-30T08:00:00Z",
            response=None if error else response,
            error=CollectionError(code=error, message="denied") if error else None,
        ))
        self.paths.setdefault(key, path)
        return path

    def judge(self, chk: Check, **params: Any) -> list[Finding]:
        catalog = load_catalog()
        control = next(c for c in catalog.controls.values() if any(r.id == chk.id for r in c.checks))
        judging = Judging(reference_time=NOW, catalog=catalog, sources={"aws": None},
                          params={control.id: {chk.id: {**chk.params, **params}}})
        return run_check(chk, control.id, judging, self.writer.index())


def apply(parts: dict[str, Any], changes: dict[str, Any]) -> None:
    """Set (or, for DROP, delete) each dotted path of `changes` in `parts`."""
    for path, value in changes.items():
        *walk, last = path.split(".")
        node = parts
        for step in walk:
            node = node[step]
        if value is DROP:
            del node[last]
        else:
            node[last] = value


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in findings:
        assert f.resource_id not in out, f"two findings for {f.resource_id}: {findings}"
        out[f.resource_id] = f
    return out


US = "us-east-1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def shape_errors(findings: list[Finding], page: str, path: str) -> list[Finding]:
    """The judge's findings for `page` not holding its items at `path`."""
    return [f for f in findings if f.status is Status.ERROR and page in f.message and f"({path})" in f.message]


def ts(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


Builder = Callable[..., list[str]]


def acm_estate(e: Estate, key: str = "CertificateSummaryList", changes: dict[str, Any] | None = None) -> list[str]:
    arns = [f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{n}" for n in ("one", "two")]
    parts = [{
        "summary": {"CertificateArn": arn, "DomainName": f"{n}.example.com"},
        "DescribeCertificate": {"Certificate": {
            "CertificateArn": arn, "DomainName": f"{n}.example.com", "Status": "ISSUED", "KeyAlgorithm": "RSA_2048",
            "SignatureAlgorithm": "SHA256WITHRSA", "NotAfter": "2027-06-01T00:00:00+00:00",
        }},
    } for n, arn in enumerate(arns)]
    apply(parts[0], changes or {})
    e.add("acm.ListCertificates", {key: [p["summary"] for p in parts]})
    if key == "CertificateSummaryList":  # the collector describes only what it found
        for arn, p in zip(arns, parts, strict=True):
            e.add("acm.DescribeCertificate", p["DescribeCertificate"], subject=arn)
    return arns


def rest_domain_estate(e: Estate, key: str = "items", changes: dict[str, Any] | None = None) -> list[str]:
    names = ["api.example.com", "old.example.com"]
    parts = [{"domain": {"domainName": n, "securityPolicy": "TLS_1_2"}} for n in names]
    apply(parts[0], changes or {})
    e.add("apigateway.GetDomainNames", {key: [p["domain"] for p in parts]})
    e.add("apigatewayv2.GetDomainNames", {"Items": []})
    return [f"arn:aws:apigateway:{REGION}::/domainnames/{n}" for n in names]


def http_domain_estate(e: Estate, key: str = "Items", changes: dict[str, Any] | None = None) -> list[str]:
    names = ["ws.example.com", "http.example.com"]
    parts = [{"domain": {"DomainName": n, "DomainNameConfigurations": [{"SecurityPolicy": "TLS_1_2"}]}}
             for n in names]
    apply(parts[0], changes or {})
    e.add("apigateway.GetDomainNames", {"items": []})
    e.add("apigatewayv2.GetDomainNames", {key: [p["domain"] for p in parts]})
    return [f"arn:aws:apigateway:{REGION}::/domainnames/{n}" for n in names]


def distribution(arn: str, behaviors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "ARN": arn, "Id": arn.rsplit("/", 1)[-1], "DomainName": f"{arn.rsplit('/', 1)[-1]}.cloudfront.net",
        "ViewerCertificate": {"CloudFrontDefaultCertificate": False, "ACMCertificateArn": "arn:aws:acm:x",
                              "MinimumProtocolVersion": "TLSv1.2_2021"},
        "DefaultCacheBehavior": {"ViewerProtocolPolicy": "redirect-to-https"},
        "CacheBehaviors": {"Quantity": len(behaviors or []), **({"Items": behaviors} if behaviors else {})},
    }


def cloudfront_estate(e: Estate, key: str = "Items", changes: dict[str, Any] | None = None) -> list[str]:
    arns = [f"arn:aws:cloudfront::{ACCOUNT}:distribution/E{n}" for n in ("ONE", "TWO")]
    parts = [{"dist": distribution(arn)} for arn in arns]
    apply(parts[0], changes or {})
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Quantity": 2, key: [p["dist"] for p in parts]}},
          region="us-east-1")
    return arns


def kms_estate(e: Estate, key: str = "Keys", changes: dict[str, Any] | None = None) -> list[str]:
    ids = ["1111-aaaa", "2222-bbbb"]
    arns = [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{i}" for i in ids]
    parts = [{
        "entry": {"KeyId": i, "KeyArn": arn},
        "DescribeKey": {"KeyMetadata": {"KeyId": i, "Arn": arn, "KeyManager": "CUSTOMER",
                                        "KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS", "KeyState": "Enabled"}},
        "GetKeyRotationStatus": {"KeyRotationEnabled": True},
    } for i, arn in zip(ids, arns, strict=True)]
    apply(parts[0], changes or {})
    e.add("kms.ListKeys", {key: [p["entry"] for p in parts], "Truncated": False})
    if key == "Keys":
        for arn, p in zip(arns, parts, strict=True):
            e.add("kms.DescribeKey", p["DescribeKey"], subject=arn)
            e.add("kms.GetKeyRotationStatus", p["GetKeyRotationStatus"], subject=arn)
    return arns


def s3_estate(e: Estate, key: str = "Buckets", changes: dict[str, Any] | None = None) -> list[str]:
    names = ["first-bucket", "second-bucket"]
    parts = [{
        "bucket": {"Name": n, "BucketRegion": REGION},
        "GetBucketEncryption": {"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}},
    } for n in names]
    apply(parts[0], changes or {})
    e.add("s3.ListBuckets", {key: [p["bucket"] for p in parts]}, region="us-east-1")
    if key == "Buckets":
        for n, p in zip(names, parts, strict=True):
            e.add("s3.GetBucketEncryption", p["GetBucketEncryption"], subject=f"arn:aws:s3:::{n}")
    return [f"arn:aws:s3:::{n}" for n in names]


def dynamodb_estate(e: Estate, key: str = "TableNames", changes: dict[str, Any] | None = None) -> list[str]:
    names = ["orders", "sessions"]
    arns = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{n}" for n in names]
    parts = [{"DescribeContinuousBackups": {"ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35},
    }}} for _ in names]
    apply(parts[0], changes or {})
    e.add("dynamodb.ListTables", {key: names})
    if key == "TableNames":
        for arn, p in zip(arns, parts, strict=True):
            e.add("dynamodb.DescribeContinuousBackups", p["DescribeContinuousBackups"], subject=arn)
    return arns


def db_instance(name: str, **fields: Any) -> dict[str, Any]:
    return {"DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}", "DBInstanceIdentifier": name,
            "StorageEncrypted": True, "BackupRetentionPeriod": 14, "MultiAZ": True,
            "AvailabilityZone": f"{REGION}a", "SecondaryAvailabilityZone": f"{REGION}b", **fields}


def db_cluster(name: str, **fields: Any) -> dict[str, Any]:
    return {"DBClusterArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{name}", "DBClusterIdentifier": name,
            "StorageEncrypted": True, "BackupRetentionPeriod": 14, "MultiAZ": True, **fields}


def rds_estate(e: Estate, key: str = "DBInstances", changes: dict[str, Any] | None = None) -> list[str]:
    parts = [{"db": db_instance(n)} for n in ("alpha", "beta")]
    apply(parts[0], changes or {})
    e.add("rds.DescribeDBInstances", {key: [p["db"] for p in parts]})
    e.add("rds.DescribeDBClusters", {"DBClusters": []})
    return [p["db"]["DBInstanceArn"] for p in parts]


def rds_cluster_estate(e: Estate, key: str = "DBClusters", changes: dict[str, Any] | None = None) -> list[str]:
    parts = [{"db": db_cluster(n)} for n in ("aurora", "second")]
    apply(parts[0], changes or {})
    e.add("rds.DescribeDBInstances", {"DBInstances": []})
    e.add("rds.DescribeDBClusters", {key: [p["db"] for p in parts]})
    return [p["db"]["DBClusterArn"] for p in parts]
