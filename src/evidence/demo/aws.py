"""The simulated company's AWS estate, seeded into moto: `moto_server` starts moto's server
in-process on loopback and points the standard AWS environment (`AWS_ENDPOINT_URL`, placeholder
credentials) at it; `seed` creates the estate through boto3, some resources compliant and some
not, so the demo shows every verdict."""

from __future__ import annotations

import os
import secrets
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from evidence.demo.certificates import make_certificate

DEMO_REGIONS = ["eu-west-2", "us-east-1"]
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 with the AWS environment pointed at it; yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto's backends live in the process, not the server: start from an empty estate even when
    # an earlier demo (or test) in this process left one behind
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback, our own server
        answer.read()
    saved = {k: os.environ.get(k) for k in [*_FAKE_CREDENTIALS, "AWS_ENDPOINT_URL", "AWS_PROFILE"]}
    os.environ.update(_FAKE_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = url
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield url
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def _network(ec2: Any) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]
    return vpc, subnets


def seed_transit(session: boto3.Session, region: str) -> None:
    """Load balancers, distributions, API domains and certificates, good and bad."""
    acm = session.client("acm", region_name=region)
    certs: dict[str, str] = {}
    for label, kwargs in {
        "good": {"key_bits": 2048, "hash_name": "sha256"},
        "strong": {"key_bits": 4096, "hash_name": "sha384"},
        "weak": {"key_bits": 1024, "hash_name": "sha256"},
        "expiring": {"key_bits": 2048, "hash_name": "sha256", "days_valid": 10},
    }.items():
        cert, key = make_certificate(f"{label}.{region}.zaptic.example", **kwargs)  # type: ignore[arg-type]
        certs[label] = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]

    ec2 = session.client("ec2", region_name=region)
    elbv2 = session.client("elbv2", region_name=region)
    vpc, subnets = _network(ec2)
    tg = elbv2.create_target_group(Name=f"web-{region}", Protocol="HTTP", Port=80, VpcId=vpc)[
        "TargetGroups"][0]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    redirect = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                         "StatusCode": "HTTP_301"}}]
    app = elbv2.create_load_balancer(Name="app", Subnets=subnets, Scheme="internet-facing", Type="application")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_listener(LoadBalancerArn=app, Protocol="HTTPS", Port=443,
                          SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                          Certificates=[{"CertificateArn": certs["good"]}], DefaultActions=forward)
    elbv2.create_listener(LoadBalancerArn=app, Protocol="HTTP", Port=80, DefaultActions=redirect)
    legacy = elbv2.create_load_balancer(Name="legacy", Subnets=subnets, Scheme="internet-facing",
                                        Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_listener(LoadBalancerArn=legacy, Protocol="HTTPS", Port=443,
                          SslPolicy="ELBSecurityPolicy-2016-08",
                          Certificates=[{"CertificateArn": certs["good"]}], DefaultActions=forward)
    elbv2.create_listener(LoadBalancerArn=legacy, Protocol="HTTP", Port=80, DefaultActions=forward)
    nlb = elbv2.create_load_balancer(Name="api-nlb", Subnets=subnets, Scheme="internet-facing", Type="network")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    tcp_tg = elbv2.create_target_group(Name=f"api-{region}", Protocol="TCP", Port=443, VpcId=vpc)[
        "TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=nlb, Protocol="TLS", Port=443,
                          SslPolicy="ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
                          Certificates=[{"CertificateArn": certs["strong"]}],
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp_tg}])

    elb = session.client("elb", region_name=region)
    elb.create_load_balancer(
        LoadBalancerName="classic-web",
        Listeners=[{"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstanceProtocol": "HTTP",
                    "InstancePort": 80, "SSLCertificateId": certs["good"]}],
        AvailabilityZones=[f"{region}a"],
    )
    elb.create_load_balancer_policy(
        LoadBalancerName="classic-web", PolicyName="legacy-negotiation", PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[{"AttributeName": "Protocol-TLSv1", "AttributeValue": "true"},
                          {"AttributeName": "Protocol-TLSv1.1", "AttributeValue": "true"},
                          {"AttributeName": "Protocol-TLSv1.2", "AttributeValue": "true"}],
    )
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="classic-web", LoadBalancerPort=443,
                                               PolicyNames=["legacy-negotiation"])

    apigw = session.client("apigateway", region_name=region)
    apigw.create_domain_name(domainName=f"api.{region}.zaptic.example", certificateArn=certs["good"],
                             securityPolicy="TLS_1_2")
    apigw.create_domain_name(domainName=f"old-api.{region}.zaptic.example", certificateArn=certs["good"],
                             securityPolicy="TLS_1_0")


def seed_cloudfront(session: boto3.Session) -> None:
    cf = session.client("cloudfront", region_name="us-east-1")
    acm = session.client("acm", region_name="us-east-1")
    cert, key = make_certificate("cdn.zaptic.example")
    arn = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    origin = {"Quantity": 1, "Items": [{"Id": "o1", "DomainName": "origin.zaptic.example",
                                        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                               "OriginProtocolPolicy": "https-only"}}]}

    def dist(ref: str, policy: str, viewer_cert: dict[str, Any]) -> None:
        cf.create_distribution(DistributionConfig={
            "CallerReference": ref, "Comment": ref, "Enabled": True, "Origins": origin,
            "DefaultCacheBehavior": {"TargetOriginId": "o1", "ViewerProtocolPolicy": policy,
                                     "MinTTL": 0, "ForwardedValues": {"QueryString": False,
                                                                      "Cookies": {"Forward": "none"}}},
            "ViewerCertificate": viewer_cert,
        })

    dist("cdn", "redirect-to-https", {"CloudFrontDefaultCertificate": False, "ACMCertificateArn": arn,
                                      "SSLSupportMethod": "sni-only",
                                      "MinimumProtocolVersion": "TLSv1.2_2021"})
    dist("marketing", "allow-all", {"CloudFrontDefaultCertificate": True})


def seed(regions: list[str]) -> None:
    """Seed the simulated company into the moto server the environment points at."""
    session = boto3.Session()
    for region in regions:
        seed_transit(session, region)
    seed_cloudfront(session)
    seed_estate(session, regions)


# --- the rest of the AWS estate: ENC-REST, BACKUP-PITR, REDUNDANCY, DR-TEST, FIREWALL, DDOS, RATE-LIMIT,
# AUDIT-LOG, DATA-RESIDENCY, ACCESS-LIFECYCLE, ROOT-ACCOUNT, KEY-ROTATION --------------------------------

_WAF_VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "demo"}


def _demo_bucket(s3: Any, name: str, region: str) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def _demo_database(session: boto3.Session, region: str, name: str, *, good: bool) -> None:
    session.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword=secrets.token_urlsafe(24),
        StorageEncrypted=good, BackupRetentionPeriod=14 if good else 1, MultiAZ=good,
    )


def _demo_table(session: boto3.Session, region: str, name: str, *, pitr: bool) -> None:
    ddb = session.client("dynamodb", region_name=region)
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    if pitr:
        ddb.update_continuous_backups(TableName=name,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def _demo_web_acl(session: boto3.Session, name: str, *, rate_limited: bool) -> str:
    rules = [{"Name": "per-ip-rate", "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": _WAF_VISIBILITY,
              "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}}}] if rate_limited else []
    waf = session.client("wafv2", region_name="us-east-1")
    return str(waf.create_web_acl(Name=name, Scope="CLOUDFRONT", DefaultAction={"Allow": {}},
                                  VisibilityConfig=_WAF_VISIBILITY, Rules=rules)["Summary"]["ARN"])


def _demo_distribution(session: boto3.Session, ref: str, acl: str, cert: str) -> str:
    cf = session.client("cloudfront", region_name="us-east-1")
    origin = {"Quantity": 1, "Items": [{"Id": "o1", "DomainName": f"{ref}-origin.zaptic.example",
                                        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                               "OriginProtocolPolicy": "https-only"}}]}
    return str(cf.create_distribution(DistributionConfig={
        "CallerReference": ref, "Comment": ref, "Enabled": True, "Origins": origin, "WebACLId": acl,
        "DefaultCacheBehavior": {"TargetOriginId": "o1", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
        "ViewerCertificate": {"CloudFrontDefaultCertificate": False, "ACMCertificateArn": cert,
                              "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
    })["Distribution"]["ARN"])


def seed_estate(session: boto3.Session, regions: list[str]) -> None:
    """Storage, databases, keys, backups, firewalls, edge protection, trails and IAM users for
    the controls beyond TLS: the first region holds the compliant half, the second (or the
    first again) the non-compliant half, and one bucket sits in us-east-1 outside the UK."""
    good = regions[0]
    bad = regions[1] if len(regions) > 1 else regions[0]

    # S3: an encrypted bucket in the home region, an unencrypted one in Virginia
    _demo_bucket(session.client("s3", region_name=good), "zaptic-customer-data", good)
    session.client("s3", region_name=good).put_bucket_encryption(
        Bucket="zaptic-customer-data", ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    _demo_bucket(session.client("s3", region_name="us-east-1"), "zaptic-legacy-exports", "us-east-1")

    # EC2: encryption by default, volumes, instances, security groups, an emptied default group
    ec2_good, ec2_bad = session.client("ec2", region_name=good), session.client("ec2", region_name=bad)
    ec2_good.enable_ebs_encryption_by_default()
    ec2_good.create_volume(Size=8, AvailabilityZone=f"{good}a", Encrypted=True)
    ec2_bad.create_volume(Size=8, AvailabilityZone=f"{bad}a", Encrypted=False)
    vpc, subnets = _network(ec2_good)
    default_sg = ec2_good.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"][0]
    if default_sg.get("IpPermissionsEgress"):
        ec2_good.revoke_security_group_egress(GroupId=default_sg["GroupId"],
                                              IpPermissions=default_sg["IpPermissionsEgress"])
    if default_sg.get("IpPermissions"):
        ec2_good.revoke_security_group_ingress(GroupId=default_sg["GroupId"],
                                               IpPermissions=default_sg["IpPermissions"])
    web = ec2_good.create_security_group(GroupName="web-https", Description="HTTPS from anywhere", VpcId=vpc)
    ec2_good.authorize_security_group_ingress(GroupId=web["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ssh = ec2_bad.create_security_group(GroupName="ssh-anywhere", Description="SSH from anywhere")
    ec2_bad.authorize_security_group_ingress(GroupId=ssh["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    for client in {good: ec2_good, bad: ec2_bad}.values():
        client.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro")

    # databases, tables and keys: good ones at home, bad ones away
    _demo_database(session, good, "orders-db", good=True)
    _demo_database(session, bad, "reporting-db", good=False)
    _demo_table(session, good, "orders", pitr=True)
    _demo_table(session, bad, "sessions", pitr=False)
    kms_good = session.client("kms", region_name=good)
    kms_good.enable_key_rotation(KeyId=kms_good.create_key(Description="customer data")["KeyMetadata"]["KeyId"])
    session.client("kms", region_name=bad).create_key(Description="reporting exports")

    # No AWS Backup plan: moto cannot list a plan's selections (it answers HTTP 500, which botocore
    # retries for half a minute), so the demo shows the plan check failing rather than erroring.

    # an internet-facing ALB in two zones, logging, under Shield Advanced
    elbv2 = session.client("elbv2", region_name=good)
    shop = elbv2.create_load_balancer(Name="shop", Subnets=subnets, Scheme="internet-facing", Type="application")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=shop, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": "zaptic-customer-data"}])
    session.client("shield", region_name="us-east-1").create_protection(Name="shop", ResourceArn=shop)

    # CloudFront behind WAF: one web ACL rate-limits, the other does not
    cert, key = make_certificate("shop.zaptic.example")
    cert_arn = session.client("acm", region_name="us-east-1").import_certificate(
        Certificate=cert, PrivateKey=key)["CertificateArn"]
    _demo_distribution(session, "shop-cdn", _demo_web_acl(session, "edge-rate-limited", rate_limited=True), cert_arn)
    _demo_distribution(session, "static-cdn", _demo_web_acl(session, "static-no-rate", rate_limited=False), cert_arn)

    # a multi-region trail, logging, validating its files
    trail = session.client("cloudtrail", region_name=good)
    trail.create_trail(Name="organization-trail", S3BucketName="zaptic-customer-data", IsMultiRegionTrail=True,
                       EnableLogFileValidation=True)
    trail.start_logging(Name="organization-trail")

    # IAM: one console user with MFA, one without, one robot with an access key
    iam = session.client("iam", region_name="us-east-1")
    for name in ("alice", "bob", "deploy-bot"):
        iam.create_user(UserName=name)
    for name in ("alice", "bob"):
        # a throwaway password nobody learns: the demo never signs in
        iam.create_login_profile(UserName=name, Password=secrets.token_urlsafe(24) + "-Aa1")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    iam.create_access_key(UserName="deploy-bot")
    # a forgotten CI user whose key is 200 days old and unused: idle and overdue for rotation
    iam.create_user(UserName="legacy-ci")
    iam.create_access_key(UserName="legacy-ci")
    account = session.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    _age_moto_user(account, "legacy-ci", days=200)


def _age_moto_user(account: str, name: str, days: int) -> None:
    """Backdate an IAM user and its keys in the in-process moto server (AWS has no API to do
    it, and moto documents setting these fields by hand). No-op when moto is not in-process."""
    try:
        from moto.iam.models import iam_backends
    except ImportError:
        return
    user = iam_backends[account]["aws"].users.get(name)
    if user is None:
        return
    then = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
    user.create_date = then
    for key in user.access_keys:
        key.create_date = then
