"""The AWS collector's service units: which calls each service needs, and nothing more.

A unit is one service's calls in one (account, region), or once per account for a global
service (`is_global`); its `keys` are the evidence keys it can produce, so a run makes only
the units its checks want. The units themselves are in `aws_services_edge` (what faces the
network), `aws_services_data` (where data lives and how it is kept) and `aws_services_audit`
(who can get in and what is logged).
"""

from __future__ import annotations

from evidence.collectors import aws_services_audit as audit
from evidence.collectors import aws_services_data as data
from evidence.collectors import aws_services_edge as edge
from evidence.collectors.aws_units import Unit
from evidence.sources.aws import (
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
    LIST_PROTECTIONS,
    LIST_TABLES,
)

SERVICE_UNITS: tuple[Unit, ...] = (
    Unit(
        "elbv2",
        frozenset({"elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners", "elbv2.DescribeSSLPolicies",
                   "elbv2.DescribeLoadBalancerAttributes"}),
        edge.elbv2,
    ),
    Unit("elb", frozenset({"elb.DescribeLoadBalancers", "elb.DescribeLoadBalancerPolicies"}), edge.elb),
    Unit("cloudfront", frozenset({"cloudfront.ListDistributions"}), edge.cloudfront, is_global=True),
    Unit("apigateway", frozenset({"apigateway.GetDomainNames"}), edge.apigateway),
    Unit("apigatewayv2", frozenset({"apigatewayv2.GetDomainNames"}), edge.apigatewayv2),
    Unit("acm", frozenset({"acm.ListCertificates", "acm.DescribeCertificate"}), edge.acm, cost=2.0),
    Unit("s3", frozenset({LIST_BUCKETS, GET_BUCKET_LOCATION, GET_BUCKET_ENCRYPTION}), data.s3, is_global=True,
         cost=4.0),
    Unit("ec2-ebs", frozenset({"ec2.GetEbsEncryptionByDefault", DESCRIBE_VOLUMES}), data.ec2_ebs),
    Unit("ec2-security-groups", frozenset({"ec2.DescribeSecurityGroups"}), edge.ec2_security_groups),
    Unit("ec2-instances", frozenset({DESCRIBE_INSTANCES}), data.ec2_instances),
    Unit("rds", frozenset({DESCRIBE_DB_INSTANCES, DESCRIBE_DB_CLUSTERS}), data.rds),
    Unit("dynamodb", frozenset({LIST_TABLES, "dynamodb.DescribeContinuousBackups"}), data.dynamodb, cost=3.0),
    Unit("kms", frozenset({LIST_KEYS, DESCRIBE_KEY, GET_KEY_ROTATION_STATUS}), data.kms, cost=4.0),
    Unit("backup-plans",
         frozenset({"backup.ListBackupPlans", "backup.GetBackupPlan", "backup.ListBackupSelections"}),
         data.backup_plans),
    Unit("backup-restores", frozenset({"backup.ListRestoreJobs"}), data.backup_restores),
    Unit("wafv2", frozenset({"wafv2.ListWebACLs", "wafv2.GetWebACL", "wafv2.ListResourcesForWebACL"}),
         edge.wafv2_regional),
    Unit("wafv2-cloudfront", frozenset({"wafv2.ListWebACLs", "wafv2.GetWebACL"}), edge.wafv2_cloudfront,
         is_global=True),
    Unit("shield", frozenset({LIST_PROTECTIONS}), edge.shield, is_global=True),
    Unit("cloudtrail", frozenset({"cloudtrail.DescribeTrails", "cloudtrail.GetTrailStatus"}), audit.cloudtrail,
         is_global=True),
    Unit("iam", frozenset({"iam.GetAccountSummary", "iam.GenerateCredentialReport", "iam.GetCredentialReport"}),
         audit.iam, is_global=True),
)
