"""`evidence demo`: the whole pipeline against a simulated company on loopback.

AWS is a moto server started in-process and reached over HTTP through the standard
`AWS_ENDPOINT_URL`; Google Workspace is a local fake Admin SDK (token endpoint included)
read by the real Google clients with a generated service-account key; GitHub is a local fake
REST server whose token is put in `EVIDENCE_DEMO_GITHUB_TOKEN` for the demo only; nothing leaves the
machine and no credentials are needed. Some of the
simulated company's resources comply and some do not, so the demo shows every verdict.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from evidence.checks.github import write_merged_pull_requests_csv
from evidence.config import Config, parse_config
from evidence.fakes.endpoints import demo_endpoints
from evidence.fakes.github import (
    BranchProtection,
    BypassActor,
    FakeGitHub,
    RequiredReviews,
    RequiredStatusChecks,
    Rule,
    Ruleset,
)
from evidence.fakes.google_workspace import NEVER_LOGGED_IN, FakeWorkspace, make_user
from evidence.models import Period
from evidence.registry import Registry
from evidence.report import ReportHook
from evidence.runner import Runner, RunResult

DEMO_REGIONS = ["eu-west-2", "us-east-1"]
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
}


def make_certificate(
    common_name: str,
    *,
    key_bits: int = 2048,
    hash_name: str = "sha256",
    days_valid: int = 365,
    not_before_days_ago: int = 30,
) -> tuple[bytes, bytes]:
    """A self-signed certificate and its private key, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 = (
        hashes.SHA384() if hash_name == "sha384" else hashes.SHA512() if hash_name == "sha512" else hashes.SHA256()
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=not_before_days_ago))
        .not_valid_after(now + timedelta(days=days_valid))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, algorithm)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 with the AWS environment pointed at it; yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
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


DEMO_WORKSPACE_ADMIN = "it-admin@zaptic.example"


def workspace_users(now: datetime | None = None) -> list[dict[str, Any]]:
    """The simulated company's Google Workspace: most people comply, some do not."""
    now = now or datetime.now(UTC)

    def ago(days: int) -> str:
        return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def person(name: str, unit: str, **overrides: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True, "orgUnitPath": unit,
                                  "creationTime": ago(600), "lastLoginTime": ago(1), **overrides}
        return make_user(f"{name}@zaptic.example", **fields)

    return [
        person("it-admin", "/IT", isAdmin=True),
        person("ceo", "/Leadership", isAdmin=True),
        person("cto", "/Leadership", isAdmin=True, isEnrolledIn2Sv=False, isEnforcedIn2Sv=False),  # admin, no 2SV
        person("helpdesk", "/IT", isDelegatedAdmin=True),
        person("alice", "/Engineering"),
        person("ben", "/Engineering", lastLoginTime=ago(3)),
        person("chloe", "/Engineering"),
        person("dev-contractor", "/Contractors", isEnforcedIn2Sv=False),  # enrolled, not enforced
        person("sam", "/Sales", isEnrolledIn2Sv=False),  # enforced, never enrolled
        person("olivia", "/Sales", lastLoginTime=ago(200)),  # idle for 200 days
        person("new-joiner", "/Engineering", creationTime=ago(3), lastLoginTime=NEVER_LOGGED_IN),
        person("temp-2023", "/Sales", creationTime=ago(400), lastLoginTime=NEVER_LOGGED_IN),  # never used
        person("leaver", "/Engineering", isEnrolledIn2Sv=False, suspended=True, suspensionReason="ADMIN",
               lastLoginTime=ago(150)),
        person("former-ceo", "/Leadership", archived=True, lastLoginTime=ago(700)),
    ]


@contextmanager
def fake_workspace() -> Iterator[dict[str, str]]:
    """A fake Google Workspace on 127.0.0.1 and its service-account key (in a private temporary
    folder, removed afterwards); yields the `[google_workspace]` section that reaches it."""
    with (
        FakeWorkspace(workspace_users(), customer_id="C01zapt1c", page_size=5) as workspace,
        tempfile.TemporaryDirectory(prefix="evidence-demo-workspace-") as folder,
    ):
        key = Path(folder) / "service-account.json"
        key.write_text(json.dumps(workspace.service_account_info()), encoding="utf-8")
        yield {
            "customer_id": "my_customer",
            "credentials_file": str(key),
            "delegated_admin": DEMO_WORKSPACE_ADMIN,
            "api_endpoint": workspace.api_endpoint,
        }


DEMO_GITHUB_ORG = "zaptic"
DEMO_GITHUB_TOKEN_ENV = "EVIDENCE_DEMO_GITHUB_TOKEN"


def seed_github(gh: FakeGitHub, period: Period, now: datetime | None = None) -> None:
    """The simulated GitHub organisation: some repositories protected (classically or by an
    organisation ruleset), some not; pull requests merged in `period` with and without a peer's
    approval; 2FA not required and one member without it."""
    now = now or datetime.now(UTC)
    start = datetime(period.start.year, period.start.month, period.start.day, 9, tzinfo=UTC)

    def at(days: int, hours: int = 0) -> datetime:
        """`days` into the period, but never in the future (the demo may run on its first day)."""
        return max(start, min(start + timedelta(days=days, hours=hours), now - timedelta(minutes=5)))

    gh.set_org(two_factor_requirement_enabled=False)
    gh.add_member("amelia", role="admin")
    for login in ("ben", "chloe", "dmitri"):
        gh.add_member(login)
    gh.add_member("ext-contractor", two_factor=False)

    gh.add_repo("platform-api", description="Public API")
    gh.set_branch_protection("platform-api", BranchProtection.compliant(contexts=["ci/tests", "ci/lint"]))
    gh.add_repo("web-app", description="Customer web application")  # protected by the org ruleset only
    gh.add_org_ruleset(Ruleset("production-baseline", [
        Rule.pull_request(1), Rule.required_status_checks(["ci/tests"], strict=True),
        Rule.non_fast_forward(), Rule.deletion(),
    ], repository_include=["web-app"]))
    gh.add_repo("docs", default_branch="trunk")
    gh.set_branch_protection("docs", BranchProtection.compliant(contexts=["build"]))
    gh.add_repo("mobile-app")  # admins exempt, status checks not strict
    gh.set_branch_protection("mobile-app", BranchProtection(
        required_pull_request_reviews=RequiredReviews(1, dismiss_stale_reviews=True),
        required_status_checks=RequiredStatusChecks(["build"], strict=False), enforce_admins=False))
    gh.add_repo("infra-terraform")  # a repository ruleset that administrators may bypass, no checks
    gh.add_repo_ruleset("infra-terraform", Ruleset("main", [
        Rule.pull_request(1), Rule.non_fast_forward(), Rule.deletion(),
    ], bypass_actors=[BypassActor("RepositoryRole", 5, "always")]))
    gh.add_repo("data-scripts")  # nothing protects it
    gh.add_repo("legacy-portal", archived=True)

    def merged(repo: str, title: str, author: str, days: int, approvers: tuple[str, ...] = (),
               merged_by: str | None = None) -> None:
        pr = gh.add_pull_request(repo, title=title, user=author, merged_at=at(days), merged_by=merged_by,
                                 created_at=at(days - 1))
        for reviewer in approvers:
            gh.add_review(repo, pr.number, user=reviewer, state="APPROVED")

    gh.add_pull_request("platform-api", title="Last quarter's change", user="ben",
                        merged_at=start - timedelta(days=20))
    merged("platform-api", "Add rate limiting to login", "ben", 3, ("chloe",))
    merged("platform-api", "Hotfix: rotate session signing key", "amelia", 9, ("amelia",))  # own approval
    merged("platform-api", "Upgrade database driver", "chloe", 15, ("amelia", "ben"))
    merged("web-app", "Fix CSRF token refresh", "chloe", 5)  # merged with no review
    late = gh.add_pull_request("web-app", title="New onboarding flow", user="ben", merged_at=at(20),
                               created_at=at(17))
    gh.add_review("web-app", late.number, user="dmitri", state="CHANGES_REQUESTED")
    gh.add_review("web-app", late.number, user="dmitri", state="APPROVED")
    gh.add_pull_request("web-app", title="Abandoned experiment", user="dmitri", closed_at=at(8))
    merged("data-scripts", "Nightly export script", "dmitri", 11, merged_by="dmitri")


@contextmanager
def fake_github(period: Period) -> Iterator[dict[str, str]]:
    """A fake GitHub REST API on 127.0.0.1 seeded with the simulated organisation, its token in
    `EVIDENCE_DEMO_GITHUB_TOKEN` for the demo only; yields the `[github]` section that reaches it."""
    with FakeGitHub(org=DEMO_GITHUB_ORG) as gh:
        seed_github(gh, period)
        saved = os.environ.get(DEMO_GITHUB_TOKEN_ENV)
        os.environ[DEMO_GITHUB_TOKEN_ENV] = gh.token
        try:
            yield {"org": DEMO_GITHUB_ORG, "token_env": DEMO_GITHUB_TOKEN_ENV, "api_url": gh.api_url}
        finally:
            if saved is None:
                os.environ.pop(DEMO_GITHUB_TOKEN_ENV, None)
            else:
                os.environ[DEMO_GITHUB_TOKEN_ENV] = saved

def demo_config(regions: list[str], google_workspace: dict[str, str] | None = None,
                probes: dict[str, Any] | None = None, github: dict[str, str] | None = None) -> Config:
    data: dict[str, Any] = {"aws": {"regions": regions}, "bundle": {"company": "Zaptic (simulated)"}}
    if google_workspace is not None:
        data["google_workspace"] = google_workspace
    if probes is not None:
        data["probes"] = probes
    if github is not None:
        data["github"] = github
    return parse_config(data)


DEMO_SIGNING_KEY = "demo-signing-key.pem"
DEMO_PUBLIC_KEY = "demo-signing-key.pub.pem"


def demo_signing_key(out: Path) -> Path:
    """An Ed25519 key pair for signing demo bundles, kept beside them in `out` (made once, reused
    by later demos there); returns the private key's path. It signs simulated evidence only."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = out / DEMO_SIGNING_KEY, out / DEMO_PUBLIC_KEY
    if not private.is_file():
        out.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return private


def run_demo(
    out: Path | None, period: Period, progress: Callable[[str], None] | None = None, **runner_options: Any
) -> RunResult:
    """`runner_options` go to the `Runner` (e.g. attachments, waivers, files)."""
    out = out or Path(tempfile.mkdtemp(prefix="evidence-demo-"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with (
        moto_server(),
        fake_workspace() as workspace,
        tempfile.TemporaryDirectory(prefix="evidence-demo-ca-") as ca_dir,
        demo_endpoints(Path(ca_dir)) as endpoints,
        fake_github(period) as github,
    ):
        seed(DEMO_REGIONS)
        runner = Runner(
            config=demo_config(DEMO_REGIONS, workspace, probes=endpoints.probes_config(), github=github),
            registry=Registry.load(),
            period=period,
            out=out,
            progress=progress,
            **runner_options,
        )
        runner.config.bundle.signing_key = str(demo_signing_key(out))
        runner.hooks.append(write_merged_pull_requests_csv)  # github/merged-pull-requests.csv
        # last hook: the reports are rendered from, and their cover digest covers, every other file
        runner.hooks.append(ReportHook(runner.registry.checks))
        return runner.run()


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
