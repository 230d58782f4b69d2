"""REDUNDANCY of the load balancers (ELBv2 and classic, across availability zones) on moto."""

from __future__ import annotations

from pathlib import Path

import boto3

from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.checks.awshelp import alb as _alb
from tests.checks.awshelp import subnets as _subnets
from tests.conftest import RunFn


def test_load_balancers_across_availability_zones(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    _, two = _subnets()
    spread = _alb("spread", two)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    single = str(elbv2.create_load_balancer(Name="single", Subnets=two[:1], Scheme="internal", Type="network")[
        "LoadBalancers"][0]["LoadBalancerArn"])
    elb = boto3.client("elb", region_name=REGION)
    listener = [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}]
    elb.create_load_balancer(LoadBalancerName="classic-two", Listeners=listener,
                             AvailabilityZones=[f"{REGION}a", f"{REGION}b"])
    elb.create_load_balancer(LoadBalancerName="classic-one", Listeners=listener, AvailabilityZones=[f"{REGION}a"])

    result = run_controls(run_evidence, tmp_path, ["REDUNDANCY"])
    assert statuses(result, "aws.elbv2.multi_az") == {spread: Status.PASS, single: Status.FAIL}
    classic = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/classic-"
    assert statuses(result, "aws.elb.multi_az") == {classic + "two": Status.PASS, classic + "one": Status.FAIL}
