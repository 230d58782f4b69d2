"""Declared inventories of the ACM, API Gateway, CloudFront, KMS, S3, DynamoDB and RDS checks,
judged exactly as a run judges them (`run_check`) on hand-written evidence records:

- a listing page whose items sit under an unexpected key is an `error` naming the page and the
  declared path, never `not_applicable` (and the same items under the declared key are judged);
- a decisive field missing (or of the wrong type) is an `error` for that resource, naming the
  field, while the other resources are judged as usual;
- every listed resource gets a finding: a verdict, an error, or a skip that says why;
- the parameters are typed models that keep the catalog's names and defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog import load_catalog
from evidence.checks import acm, apigateway, cloudfront, dynamodb, kms, rds, s3
from evidence.checks.base import Check
from evidence.checks.params import Params
from evidence.checks.params import problem as param_problem
from evidence.judge import Judging, run_check
from evidence.models import CollectionError, EvidenceRecord, Finding, Status
from evidence.records import EvidenceWriter
from evidence.sources.aws import NO_BUCKET_ENCRYPTION

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)
ACCOUNT = "123456789012"
REGION = "eu-west-2"
#: a value `apply` deletes the field for
DROP = object()

CHECKS: list[Check] = [
    acm.certificate_key_strength, acm.certificate_validity, apigateway.domain_tls_min_version,
    cloudfront.viewer_min_tls, cloudfront.viewer_https_only, kms.customer_key_rotation,
    s3.bucket_default_encryption, dynamodb.point_in_time_recovery, rds.storage_encrypted,
    rds.backup_retention, rds.multi_az,
]


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


# --- estates: two resources of each kind; `key` names the listing's items, `changes` alter the first ---

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


#: (check, estate, the listing it writes, where the check reads that listing's items)
LISTINGS: list[tuple[Check, Builder, str, str]] = [
    (acm.certificate_key_strength, acm_estate, "acm.ListCertificates", "CertificateSummaryList"),
    (acm.certificate_validity, acm_estate, "acm.ListCertificates", "CertificateSummaryList"),
    (apigateway.domain_tls_min_version, rest_domain_estate, "apigateway.GetDomainNames", "items"),
    (apigateway.domain_tls_min_version, http_domain_estate, "apigatewayv2.GetDomainNames", "Items"),
    (cloudfront.viewer_min_tls, cloudfront_estate, "cloudfront.ListDistributions", "DistributionList.Items"),
    (cloudfront.viewer_https_only, cloudfront_estate, "cloudfront.ListDistributions", "DistributionList.Items"),
    (kms.customer_key_rotation, kms_estate, "kms.ListKeys", "Keys"),
    (s3.bucket_default_encryption, s3_estate, "s3.ListBuckets", "Buckets"),
    (dynamodb.point_in_time_recovery, dynamodb_estate, "dynamodb.ListTables", "TableNames"),
    (rds.storage_encrypted, rds_estate, "rds.DescribeDBInstances", "DBInstances"),
    (rds.backup_retention, rds_estate, "rds.DescribeDBInstances", "DBInstances"),
    (rds.multi_az, rds_estate, "rds.DescribeDBInstances", "DBInstances"),
    (rds.storage_encrypted, rds_cluster_estate, "rds.DescribeDBClusters", "DBClusters"),
    (rds.backup_retention, rds_cluster_estate, "rds.DescribeDBClusters", "DBClusters"),
    (rds.multi_az, rds_cluster_estate, "rds.DescribeDBClusters", "DBClusters"),
]


def _listing_id(case: tuple[Check, Builder, str, str]) -> str:
    return f"{case[0].id}-{case[2]}"


@pytest.mark.parametrize("case", LISTINGS, ids=[_listing_id(c) for c in LISTINGS])
def test_items_under_the_declared_key_are_each_judged(case: tuple[Check, Builder, str, str], tmp_path: Path) -> None:
    chk, build, _, _ = case
    e = Estate(tmp_path)
    rids = build(e)
    found = by_id(e.judge(chk))
    assert set(found) == set(rids)
    assert {f.status for f in found.values()} == {Status.PASS}, found


@pytest.mark.parametrize("case", LISTINGS, ids=[_listing_id(c) for c in LISTINGS])
def test_items_under_an_unexpected_key_are_an_error_naming_page_and_path(
    case: tuple[Check, Builder, str, str], tmp_path: Path
) -> None:
    chk, build, key, path = case
    e = Estate(tmp_path)
    build(e, key="Renamed" + path.rsplit(".", 1)[-1])
    findings = e.judge(chk)
    page = e.paths[key]
    assert findings
    assert {f.status for f in findings} == {Status.ERROR}, findings
    naming = [f for f in findings if page in f.message and f"({path})" in f.message]
    assert naming, [f.message for f in findings]
    assert page in naming[0].evidence


#: (check, estate, change to the first resource, the field the error names); each of these was
#: a pass, a fail, or silently out of scope before it was read as a decisive field
DECISIVE: list[tuple[Check, Builder, dict[str, Any], str]] = [
    (acm.certificate_key_strength, acm_estate, {"DescribeCertificate.Certificate.KeyAlgorithm": DROP},
     "Certificate.KeyAlgorithm"),
    (acm.certificate_key_strength, acm_estate, {"DescribeCertificate.Certificate.Status": DROP}, "Certificate.Status"),
    (acm.certificate_validity, acm_estate, {"DescribeCertificate.Certificate": DROP}, "Certificate"),
    (apigateway.domain_tls_min_version, rest_domain_estate, {"domain.securityPolicy": 12}, "items[0].securityPolicy"),
    (apigateway.domain_tls_min_version, http_domain_estate, {"domain.DomainNameConfigurations": "TLS_1_2"},
     "Items[0].DomainNameConfigurations"),
    (cloudfront.viewer_https_only, cloudfront_estate, {"dist.DefaultCacheBehavior.ViewerProtocolPolicy": DROP},
     "DefaultCacheBehavior.ViewerProtocolPolicy"),
    (cloudfront.viewer_https_only, cloudfront_estate, {"dist.CacheBehaviors.Quantity": 1},
     "CacheBehaviors.Items"),
    (cloudfront.viewer_min_tls, cloudfront_estate, {"dist.ViewerCertificate": "default"}, "ViewerCertificate"),
    (kms.customer_key_rotation, kms_estate, {"DescribeKey.KeyMetadata.KeyManager": DROP}, "KeyMetadata.KeyManager"),
    (kms.customer_key_rotation, kms_estate, {"GetKeyRotationStatus.KeyRotationEnabled": DROP}, "KeyRotationEnabled"),
    (kms.customer_key_rotation, kms_estate, {"GetKeyRotationStatus.KeyRotationEnabled": "true"},
     "KeyRotationEnabled"),
    (s3.bucket_default_encryption, s3_estate, {"GetBucketEncryption.ServerSideEncryptionConfiguration.Rules": DROP},
     "ServerSideEncryptionConfiguration.Rules"),
    (dynamodb.point_in_time_recovery, dynamodb_estate,
     {"DescribeContinuousBackups.ContinuousBackupsDescription.PointInTimeRecoveryDescription": DROP},
     "ContinuousBackupsDescription.PointInTimeRecoveryDescription"),
    (rds.storage_encrypted, rds_estate, {"db.StorageEncrypted": DROP}, "StorageEncrypted"),
    (rds.backup_retention, rds_estate, {"db.BackupRetentionPeriod": DROP}, "BackupRetentionPeriod"),
    (rds.backup_retention, rds_cluster_estate, {"db.BackupRetentionPeriod": "14"}, "BackupRetentionPeriod"),
    (rds.multi_az, rds_estate, {"db.MultiAZ": DROP}, "MultiAZ"),
    (rds.multi_az, rds_estate, {"db.DBClusterIdentifier": 7}, "DBClusterIdentifier"),
]


@pytest.mark.parametrize("case", DECISIVE, ids=[f"{c[0].id}-{c[3]}" for c in DECISIVE])
def test_a_decisive_field_missing_is_an_error_for_that_resource(
    case: tuple[Check, Builder, dict[str, Any], str], tmp_path: Path
) -> None:
    chk, build, changes, field = case
    e = Estate(tmp_path)
    broken, intact = build(e, changes=changes)
    found = by_id(e.judge(chk))
    assert set(found) == {broken, intact}
    assert found[broken].status is Status.ERROR, found[broken]
    assert f"field '{field}'" in found[broken].message or f".{field}'" in found[broken].message, found[broken].message
    # the record that lacks it is named, and the other resource is judged as usual
    assert found[broken].evidence
    assert found[intact].status is Status.PASS


# --- every listed resource gets a finding; a skip says why ---


def test_cluster_members_are_skipped_with_their_reason(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    member = db_instance("aurora-0", DBClusterIdentifier="aurora", MultiAZ=False, SecondaryAvailabilityZone=None)
    e.add("rds.DescribeDBInstances", {"DBInstances": [db_instance("solo"), member,
                                                       db_instance("aurora-1", DBClusterIdentifier="aurora",
                                                                   AvailabilityZone=f"{REGION}c")]})
    e.add("rds.DescribeDBClusters", {"DBClusters": [db_cluster("aurora", MultiAZ=False)]})
    for chk in (rds.storage_encrypted, rds.backup_retention, rds.multi_az):
        found = by_id(e.judge(chk))
        skipped = found[member["DBInstanceArn"]]
        assert skipped.status is Status.NOT_APPLICABLE
        assert "member of DB cluster aurora" in skipped.message
        assert found[f"arn:aws:rds:{REGION}:{ACCOUNT}:db:solo"].status is Status.PASS
        assert found[f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:aurora"].status is Status.PASS
    cluster = by_id(e.judge(rds.multi_az))[f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:aurora"]
    assert cluster.observed == {"MultiAZ": False, "member_instance_zones": [f"{REGION}a", f"{REGION}c"]}
    assert cluster.resource_type == "AWS::RDS::DBCluster"


def test_certificates_not_served_are_skipped(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    # not served: neither its (missing) key algorithm nor its expiry is in question
    pending, served = acm_estate(e, changes={"DescribeCertificate.Certificate.Status": "PENDING_VALIDATION",
                                             "DescribeCertificate.Certificate.KeyAlgorithm": DROP,
                                             "DescribeCertificate.Certificate.NotAfter": DROP})
    for chk in (acm.certificate_key_strength, acm.certificate_validity):
        found = by_id(e.judge(chk))
        assert found[pending].status is Status.NOT_APPLICABLE
        assert "PENDING_VALIDATION" in found[pending].message
        assert found[served].status is Status.PASS


def test_keys_rotation_does_not_apply_to_are_skipped_with_why(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    aws_managed, customer = kms_estate(e, changes={"DescribeKey.KeyMetadata.KeyManager": "AWS"})
    found = by_id(e.judge(kms.customer_key_rotation))
    assert found[aws_managed].status is Status.NOT_APPLICABLE
    assert "AWS-managed key" in found[aws_managed].message
    assert found[customer].status is Status.PASS
    e = Estate(tmp_path / "2")
    asymmetric, customer = kms_estate(e, changes={"DescribeKey.KeyMetadata.KeySpec": "RSA_2048",
                                                  "GetKeyRotationStatus": {}})
    found = by_id(e.judge(kms.customer_key_rotation))
    assert found[asymmetric].status is Status.NOT_APPLICABLE
    assert "RSA_2048 key" in found[asymmetric].message
    assert found[customer].status is Status.PASS


def test_a_key_whose_rotation_status_failed_has_one_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
    meta = {"KeyId": "k", "Arn": arn, "KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT", "KeyState": "Enabled"}
    e.add("kms.ListKeys", {"Keys": [{"KeyId": "k", "KeyArn": arn}]})
    e.add("kms.DescribeKey", {"KeyMetadata": meta}, subject=arn)
    e.add("kms.GetKeyRotationStatus", None, subject=arn, error="AccessDeniedException")
    (finding,) = e.judge(kms.customer_key_rotation)
    assert finding.resource_id == arn and finding.status is Status.ERROR
    assert "AccessDeniedException" in finding.message


def test_a_listed_key_not_described_is_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    described, lost = kms_estate(e)
    e.add("kms.ListKeys", {"Keys": [{"KeyId": "3333-cccc", "KeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3333-cccc"}]})
    found = by_id(e.judge(kms.customer_key_rotation))
    missing = found[f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3333-cccc"]
    assert missing.status is Status.ERROR and "no kms.DescribeKey record" in missing.message
    assert found[described].status is Status.PASS and found[lost].status is Status.PASS


def test_a_listed_bucket_without_its_encryption_record_is_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("s3.ListBuckets", {"Buckets": [{"Name": "lost"}, {"Name": "denied"}, {"Name": "plain"}]},
          region="us-east-1")
    e.add("s3.GetBucketLocation", None, subject="arn:aws:s3:::denied", region="us-east-1", error="AccessDenied")
    e.add("s3.GetBucketEncryption", {"Error": {"Code": NO_BUCKET_ENCRYPTION, "Message": "none"}},
          subject="arn:aws:s3:::plain", region="eu-west-1")
    found = by_id(e.judge(s3.bucket_default_encryption))
    assert found["arn:aws:s3:::lost"].status is Status.ERROR
    assert "no s3.GetBucketEncryption record" in found["arn:aws:s3:::lost"].message
    # the failed location call is the bucket's one error (not a second "not collected")
    denied = found["arn:aws:s3:::denied"]
    assert denied.status is Status.ERROR and "AccessDenied" in denied.message
    plain = found["arn:aws:s3:::plain"]
    assert (plain.status, plain.region, plain.observed) == (Status.FAIL, "eu-west-1", "no default encryption")


def test_a_domain_both_apis_list_alike_is_judged_once(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("apigateway.GetDomainNames", {"items": [{"domainName": "api.example.com", "securityPolicy": "TLS_1_0"}]})
    e.add("apigatewayv2.GetDomainNames", {"Items": [
        {"DomainName": "api.example.com", "DomainNameConfigurations": [{"SecurityPolicy": "TLS_1_0"}]},
        {"DomainName": "bare.example.com"},
    ]})
    found = by_id(e.judge(apigateway.domain_tls_min_version))
    assert found[f"arn:aws:apigateway:{REGION}::/domainnames/api.example.com"].status is Status.FAIL
    # no configuration at all: unreadable, an error, as before
    assert found[f"arn:aws:apigateway:{REGION}::/domainnames/bare.example.com"].status is Status.ERROR


def test_behaviors_beyond_the_default_are_judged(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EMIXED"
    dist = distribution(arn, [{"PathPattern": "/static/*", "ViewerProtocolPolicy": "allow-all"}])
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Quantity": 1, "Items": [dist]}}, region="us-east-1")
    (finding,) = e.judge(cloudfront.viewer_https_only)
    assert finding.status is Status.FAIL
    assert finding.observed == {"default": "redirect-to-https", "/static/*": "allow-all"}


def test_an_empty_listing_is_not_applicable_naming_its_pages(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    page = e.add("dynamodb.ListTables", {"TableNames": []})
    (finding,) = e.judge(dynamodb.point_in_time_recovery)
    assert finding.status is Status.NOT_APPLICABLE
    assert finding.evidence == [page]


def test_an_account_without_distributions_is_not_applicable(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                                                "Quantity": 0}}, region="us-east-1")
    (finding,) = e.judge(cloudfront.viewer_https_only)
    assert finding.status is Status.NOT_APPLICABLE


def test_distributions_counted_but_not_listed_are_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    page = e.add("cloudfront.ListDistributions", {"DistributionList": {"Quantity": 2}}, region="us-east-1")
    (finding,) = e.judge(cloudfront.viewer_https_only)
    assert finding.status is Status.ERROR
    assert "DistributionList.Items" in finding.message and finding.evidence == [page]


# --- typed parameters ---


@pytest.mark.parametrize("chk", CHECKS, ids=[c.id for c in CHECKS])
def test_parameters_keep_the_catalog_names_and_defaults(chk: Check) -> None:
    refs = [r for c in load_catalog().controls.values() for r in c.checks if r.id == chk.id]
    assert refs
    for ref in refs:
        assert param_problem(chk.param_model, ref.params) is None
        assert {k: chk.params[k] for k in ref.params} == ref.params


@pytest.mark.parametrize(("model", "values", "name"), [
    (acm.KeyStrengthParams, {"min_rsa_bits": "big"}, "min_rsa_bits"),
    (acm.KeyStrengthParams, {"allow_ec": "false"}, "allow_ec"),
    (acm.ValidityParams, {"min_days_valid": -1}, "min_days_valid"),
    (dynamodb.RetentionParams, {"min_retention_days": -1}, "min_retention_days"),
    (rds.RetentionParams, {"min_retention_days": -1}, "min_retention_days"),
    (rds.MultiAzParams, {"min_azs": 0}, "min_azs"),
    (rds.MultiAzParams, {"min_zones": 2}, "min_zones"),
])
def test_parameters_out_of_type_or_bounds_are_refused(model: type[Params], values: dict[str, Any], name: str) -> None:
    bad = param_problem(model, values)
    assert bad is not None and bad[0] == name


def test_parameters_change_the_verdict(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    table, _ = dynamodb_estate(e, changes={
        "DescribeContinuousBackups.ContinuousBackupsDescription.PointInTimeRecoveryDescription.RecoveryPeriodInDays":
        10})
    assert by_id(e.judge(dynamodb.point_in_time_recovery))[table].status is Status.PASS
    found = by_id(e.judge(dynamodb.point_in_time_recovery, min_retention_days=14))[table]
    assert found.status is Status.FAIL and found.expected["RecoveryPeriodInDays"] == ">= 14"
    assert found.observed == {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 10}
