"""An API that answers in an unexpected shape is an error, never "nothing in scope" (issue 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from evidence.collectors.aws_calls import Caller
from evidence.models import Status
from tests.checks.awshelp import REGION, no_default_amis, run_controls  # noqa: F401  (autouse)
from tests.conftest import RunFn


def _renaming(monkeypatch: pytest.MonkeyPatch, service: str, op: str, old: str, new: str) -> None:
    """Record `service.op` pages with their items under `new` instead of `old`, as an API that
    changed shape would send them (the collector records what it saw)."""
    original = Caller._record

    def record(self: Caller, svc: str, operation: str, params: Any, subject: str, response: Any) -> None:
        if (svc, operation) == (service, op) and isinstance(response, dict) and old in response:
            response = {(new if k == old else k): v for k, v in response.items()}
        original(self, svc, operation, params, subject, response)

    monkeypatch.setattr(Caller, "_record", record)


def test_load_balancers_under_an_unexpected_key_are_errors_and_the_run_exits_3(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    boto3.client("elbv2", region_name=REGION).create_load_balancer(Name="web", Subnets=subnets)
    # a compliant trail, so that AUDIT-LOG's only doubt is the load balancers' access logs
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="audit-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    trail = boto3.client("cloudtrail", region_name=REGION)
    trail.create_trail(Name="everywhere", S3BucketName="audit-logs", IsMultiRegionTrail=True,
                       EnableLogFileValidation=True)
    trail.start_logging(Name="everywhere")
    _renaming(monkeypatch, "elbv2", "DescribeLoadBalancers", "LoadBalancers", "LoadBalancerList")

    result = run_controls(run_evidence, tmp_path, ["REDUNDANCY", "ENC-TRANSIT", "AUDIT-LOG", "DDOS"])
    readers = {f.check_id for f in result.findings if "elbv2.DescribeLoadBalancers page" in f.message}
    assert {"aws.elbv2.multi_az", "aws.elbv2.alb_access_logs", "aws.elbv2.listener_tls_min_version",
            "aws.elbv2.http_redirects_to_https"} <= readers
    for f in result.findings:
        if f.check_id in readers and "elbv2.DescribeLoadBalancers page" in f.message:
            assert f.status is Status.ERROR
            assert f.evidence and "/elbv2/DescribeLoadBalancers-" in f.evidence[0]
            assert "(LoadBalancers)" in f.message and f.evidence[0] in f.message
    assert not [f for f in result.findings if f.check_id in readers and f.status is Status.NOT_APPLICABLE]
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts["REDUNDANCY"] is Status.ERROR
    assert result.exit_code == 3


def test_a_security_group_without_its_rules_is_an_error_not_a_pass(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    gid = ec2.create_security_group(GroupName="ssh", Description="ssh")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    original = Caller._record

    def record(self: Caller, svc: str, operation: str, params: Any, subject: str, response: Any) -> None:
        if operation == "DescribeSecurityGroups":
            response = {**response, "SecurityGroups": [
                {k: v for k, v in g.items() if k != "IpPermissions"} | {"IpPermissionz": g["IpPermissions"]}
                for g in response["SecurityGroups"]]}
        original(self, svc, operation, params, subject, response)

    monkeypatch.setattr(Caller, "_record", record)
    result = run_controls(run_evidence, tmp_path, ["FIREWALL"])
    arn_end = f"security-group/{gid}"
    (finding,) = [f for f in result.findings
                  if f.check_id == "aws.ec2.security_group_public_ingress" and f.resource_id.endswith(arn_end)]
    assert finding.status is Status.ERROR
    assert "IpPermissions" in finding.message and "missing" in finding.message and finding.evidence
    assert {v.control_id: v.verdict for v in result.verdicts}["FIREWALL"] is not Status.PASS
