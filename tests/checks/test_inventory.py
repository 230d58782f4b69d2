"""Declared inventories (`evidence.checks.inventory`) as the ACM, API Gateway, CloudFront, KMS, S3,
DynamoDB and RDS checks declare them, judged exactly as a run judges them (`run_check`) on
hand-written evidence records:

- a listing page whose items sit under an unexpected key is an `error` naming the page and the
  declared path, never `not_applicable` (and the same items under the declared key are judged);
- a decisive field missing (or of the wrong type) is an `error` for that resource, naming the
  field, while the other resources are judged as usual.

The checks' own behaviour is in tests/checks/test_<module>.py; the parameters in test_params.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evidence.checks import acm, apigateway, cloudfront, dynamodb, kms, rds, s3
from evidence.checks.base import Check
from evidence.models import Status
from tests.checks.estate import (
    DROP,
    Builder,
    Estate,
    acm_estate,
    by_id,
    cloudfront_estate,
    dynamodb_estate,
    http_domain_estate,
    kms_estate,
    rds_cluster_estate,
    rds_estate,
    rest_domain_estate,
    s3_estate,
)

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
