"""Helpers for the AWS check and collector tests: run a few controls against moto, or run one
collector unit against botocore Stubber clients (for what moto lacks) and judge the result."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from evidence.catalog import default_catalog_dir, load_catalog
from evidence.collectors.aws import UNITS, AwsCollector
from evidence.collectors.aws_calls import Account, Caller
from evidence.collectors.base import Sink
from evidence.config import parse_config
from evidence.judge import Judging, run_check
from evidence.models import Finding, Status
from evidence.records import EvidenceIndex, EvidenceWriter
from evidence.registry import Registry
from evidence.runner import RunResult
from tests.conftest import RunFn

REGION = "eu-west-2"
ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def no_default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto loads ~10,000 public AMIs (and their snapshots) into every EC2 backend it creates:
    seconds per (account, region) that these tests do not need. Import this fixture into a
    test module to apply it there."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


def run_controls(
    run_evidence: RunFn, tmp_path: Path, controls: Iterable[str], config: dict[str, Any] | None = None, **kwargs: Any
) -> RunResult:
    """The real pipeline over a catalog holding only `controls` (so only their calls are made)."""
    catalog = tmp_path / "catalog"
    catalog.mkdir(parents=True, exist_ok=True)
    for control in controls:
        shutil.copy(default_catalog_dir() / f"{control}.toml", catalog / f"{control}.toml")
    return run_evidence(config or {"aws": {"regions": [REGION]}}, only={"aws"}, catalog_dir=catalog, **kwargs)


def by_resource(result: RunResult | list[Finding], check_id: str) -> dict[str, Finding]:
    findings = result.findings if isinstance(result, RunResult) else result
    out: dict[str, Finding] = {}
    for f in findings:
        if f.check_id == check_id:
            assert f.resource_id not in out, f"two findings for {f.resource_id}"
            out[f.resource_id] = f
    return out


def statuses(result: RunResult | list[Finding], check_id: str) -> dict[str, Status]:
    return {rid: f.status for rid, f in by_resource(result, check_id).items()}


class StubbedAccount:
    """An account whose clients are botocore Stubbers (made with the collector's own client
    configuration, so the permissions test sees their calls too)."""

    def __init__(self, tmp_path: Path, account: str = ACCOUNT, config: dict[str, Any] | None = None) -> None:
        self.collector = AwsCollector(parse_config(config or {}))
        self.session = boto3.Session(aws_access_key_id="stub", aws_secret_access_key="stub", region_name=REGION)
        self.account = Account(id=account, identity=f"arn:aws:iam::{account}:role/evidence", session=self.session)
        self.writer = EvidenceWriter(tmp_path / "stubbed")
        self.stubbers: list[Stubber] = []

    def stub(self, service: str, region: str = REGION) -> Stubber:
        """The Stubber of this account's `service` client in `region` (one per pair)."""
        existing = self.account.clients.get((service, region))
        if existing is not None:
            return next(s for s in self.stubbers if s.client is existing)
        client = self.session.client(service, region_name=region, config=self.collector._boto_config)
        self.account.clients[(service, region)] = client
        stubber = Stubber(client)
        stubber.activate()
        self.stubbers.append(stubber)
        return stubber

    def run(self, unit_name: str, wanted: Iterable[str], region: str = REGION) -> EvidenceIndex:
        unit = next(u for u in UNITS if u.name == unit_name)
        unit.run(Caller(self.collector, Sink(self.writer), self.account, region, frozenset(wanted)))
        return self.writer.index()

    def verify(self) -> None:
        """Every stubbed call was made (and, botocore checked, with the expected parameters)."""
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


def judge_check(
    registry: Registry, check_id: str, index: EvidenceIndex, now: datetime, params: dict[str, Any] | None = None
) -> list[Finding]:
    """One check judged exactly as a run judges it (failed records become errors, and so on)."""
    catalog = load_catalog()
    control = next(c for c in catalog.controls.values() if any(r.id == check_id for r in c.checks))
    chk = registry.checks[check_id]
    judging = Judging(
        reference_time=now, catalog=catalog, params={control.id: {check_id: {**chk.params, **(params or {})}}},
        sources={"aws": None},
    )
    return run_check(chk, control.id, judging, index)


def subnets(region: str = REGION, zones: str = "ab") -> tuple[str, list[str]]:
    """A VPC in `region` and one subnet per zone letter of `zones`: (VPC id, subnet ids)."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return vpc, [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]


def alb(name: str, subnets: list[str], scheme: str = "internet-facing") -> str:
    """An application load balancer on `subnets`; its ARN."""
    elbv2 = boto3.client("elbv2", region_name=REGION)
    return str(elbv2.create_load_balancer(Name=name, Subnets=subnets, Scheme=scheme, Type="application")[
        "LoadBalancers"][0]["LoadBalancerArn"])
