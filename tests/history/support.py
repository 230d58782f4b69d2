"""Helpers of the history and drift tests: a moto estate whose TLS policy can be weakened
between runs, synthetic run snapshots, and a notification sender that records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from evidence.config import AlertsConfig
from evidence.demo.certificates import make_certificate
from evidence.history import History, Snapshot, evaluate
from evidence.judge import Attachment, Waiver
from evidence.models import ControlVerdict, Finding, Status, iso
from evidence.notify import Delivery, Message

REGION = "eu-west-2"
STRONG = "ELBSecurityPolicy-TLS13-1-2-2021-06"
WEAK = "ELBSecurityPolicy-2016-08"
TLS_CHECK = "aws.elbv2.listener_tls_min_version"


def seed_estate() -> dict[str, str]:
    """One internet-facing ALB: an HTTPS listener with a TLS 1.2+ policy and an HTTP listener
    redirecting to HTTPS, behind a sound 2048-bit certificate."""
    session = boto3.Session(region_name=REGION)
    cert, key = make_certificate("app.zaptic.example")
    cert_arn = session.client("acm").import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]
    elbv2 = session.client("elbv2")
    tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"]
    lb = elbv2.create_load_balancer(Name="app", Subnets=subnets, Scheme="internet-facing", Type="application")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    https = elbv2.create_listener(
        LoadBalancerArn=lb, Protocol="HTTPS", Port=443, SslPolicy=STRONG,
        Certificates=[{"CertificateArn": cert_arn}], DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    http = elbv2.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                                 "StatusCode": "HTTP_301"}}],
    )["Listeners"][0]["ListenerArn"]
    return {"lb": lb, "https": https, "http": http}


def weaken_tls(listener_arn: str) -> None:
    boto3.client("elbv2", region_name=REGION).modify_listener(ListenerArn=listener_arn, SslPolicy=WEAK)


ONLY = {"aws", "manual"}
CONFIG_AWS = f'[aws]\nregions = ["{REGION}"]\n'
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
STATEMENT = "Our web servers encrypt data in transit."


def make_snapshot(
    run_id: str,
    when: datetime,
    failing: Sequence[str] = (),
    *,
    control: str = "ENC-TRANSIT",
    waivers: Sequence[Waiver] = (),
    attachments: Sequence[Attachment] = (),
    manual: Sequence[str] = (),
    sources: Sequence[str] = ("aws", "manual"),
) -> Snapshot:
    findings = [
        Finding(control_id=control, check_id=TLS_CHECK, status=Status.FAIL, source="aws", resource_id=r,
                account="1", region=REGION, message=f"{r} allows TLSv1", observed="TLSv1", expected=">= 1.2")
        for r in failing
    ] or [Finding(control_id=control, check_id=TLS_CHECK, status=Status.PASS, source="aws", resource_id="ok",
                  message="fine")]
    verdict = ControlVerdict(
        control_id=control, title="Encryption in transit", statement=STATEMENT, criteria=["CC6.7"],
        verdict=Status.FAIL if failing else Status.PASS, counts={}, checks=[TLS_CHECK], manual=list(manual),
    )
    manifest: dict[str, Any] = {
        "run_id": run_id, "reference_time": iso(when), "period": {"name": "2026-Q4"},
        "scope": {"sources": {s: "collected" for s in sources}},
    }
    return Snapshot.from_parts(manifest, [verdict], findings, bundle=f"2026-Q4/{run_id}", exit_code=0,
                               waivers=waivers, attachments=attachments)


class Recorder:
    """A sender that records messages and succeeds (or fails) on demand."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.fail = False

    def __call__(self, messages: Sequence[Message], urls: Sequence[str]) -> list[Delivery]:
        self.sent += messages
        return [Delivery(m.key, u, not self.fail, "refused" if self.fail else "") for m in messages for u in urls]


def step(history: History, snap: Snapshot, sender: Recorder, tmp_path: Path, **alerts: Any) -> list[str]:
    info = history.record(snap)
    config = AlertsConfig(urls=["json://127.0.0.1:9/hook"], **alerts)
    outcome = evaluate(history, info, out=tmp_path, alerts=config, sender=sender)
    return [a.subject() for a in outcome.alerts]
