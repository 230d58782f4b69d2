"""`evidence demo`: the whole pipeline against a simulated company on loopback.

AWS is a moto server started in-process and reached over HTTP through the standard
`AWS_ENDPOINT_URL`; nothing leaves the machine and no credentials are needed. Some of the
simulated company's resources comply and some do not, so the demo shows every verdict.
"""

from __future__ import annotations

import logging
import os
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

from evidence.config import Config, parse_config
from evidence.models import Period
from evidence.registry import Registry
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


def demo_config(regions: list[str]) -> Config:
    return parse_config({"aws": {"regions": regions}, "bundle": {"company": "Zaptic (simulated)"}})


def run_demo(out: Path | None, period: Period, progress: Callable[[str], None] | None = None) -> RunResult:
    out = out or Path(tempfile.mkdtemp(prefix="evidence-demo-"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with moto_server():
        seed(DEMO_REGIONS)
        runner = Runner(
            config=demo_config(DEMO_REGIONS),
            registry=Registry.load(),
            period=period,
            out=out,
            progress=progress,
        )
        return runner.run()
