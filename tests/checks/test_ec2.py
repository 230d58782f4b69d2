"""EC2 checks (FIREWALL security groups, ENC-REST EBS encryption): moto-served evidence through the real
pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from evidence.models import Status
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    by_resource,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.checks.awshelp import subnets as _subnets
from tests.conftest import RunFn


def test_security_groups_judged_on_open_ports(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc, _ = _subnets()

    def group(name: str, rules: list[dict[str, Any]]) -> str:
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        if rules:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        return f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{gid}"

    world = [{"CidrIp": "0.0.0.0/0"}]
    https = group("web", [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": world},
                          {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": world}])
    ssh = group("ssh", [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": world}])
    ssh6 = group("ssh6", [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                           "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    wide = group("wide", [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 443, "IpRanges": world}])
    everything = group("everything", [{"IpProtocol": "-1", "IpRanges": world}])
    internal = group("internal", [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                   "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    result = run_controls(run_evidence, tmp_path, ["FIREWALL"])
    found = by_resource(result, "aws.ec2.security_group_public_ingress")
    expected = {https: Status.PASS, ssh: Status.FAIL, ssh6: Status.FAIL, wide: Status.FAIL,
                everything: Status.FAIL, internal: Status.PASS}
    assert {k: found[k].status for k in expected} == expected
    assert found[ssh].observed == ["tcp/22 from 0.0.0.0/0"]
    assert found[ssh6].observed == ["tcp/22 from ::/0"]
    assert found[wide].observed == ["tcp/80-443 from 0.0.0.0/0"]
    assert found[everything].observed == ["all traffic from 0.0.0.0/0"]
    assert found[ssh].expected == "no ingress from 0.0.0.0/0 or ::/0 except ports [80, 443]"


def test_public_ports_parameter_is_honoured(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    gid = ec2.create_security_group(GroupName="bastion", Description="b")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    config = {"aws": {"regions": [REGION]}, "controls": {"FIREWALL": {"public_ports": [22, 443]}}}
    result = run_controls(run_evidence, tmp_path, ["FIREWALL"], config)
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{gid}"
    assert statuses(result, "aws.ec2.security_group_public_ingress")[arn] is Status.PASS


def test_default_security_groups_must_be_empty(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc, _ = _subnets()
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    emptied = next(g for g in groups if g["VpcId"] == vpc)
    ec2.revoke_security_group_egress(GroupId=emptied["GroupId"], IpPermissions=emptied["IpPermissionsEgress"])
    if emptied["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=emptied["GroupId"], IpPermissions=emptied["IpPermissions"])

    result = run_controls(run_evidence, tmp_path, ["FIREWALL"])
    found = by_resource(result, "aws.ec2.default_security_group_no_rules")
    assert len(found) == len(groups) == 2
    emptied_arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{emptied['GroupId']}"
    assert found.pop(emptied_arn).status is Status.PASS
    (other,) = found.values()
    assert other.status is Status.FAIL and other.observed["outbound_rules"] >= 1


def test_ebs_default_encryption_and_volumes(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    plain = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    ec2.enable_ebs_encryption_by_default()
    sealed = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a", Encrypted=True)["VolumeId"]

    result = run_controls(run_evidence, tmp_path, ["ENC-REST"], {"aws": {"regions": [REGION, "us-east-1"]}})
    assert statuses(result, "aws.ec2.ebs_volumes_encrypted") == {
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{plain}": Status.FAIL,
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{sealed}": Status.PASS,
    }
    default = [f for f in result.findings if f.check_id == "aws.ec2.ebs_encryption_by_default"]
    assert {(f.region, f.status) for f in default} == {(REGION, Status.PASS), ("us-east-1", Status.FAIL)}
    assert {f.resource_id for f in default} == {f"arn:aws:iam::{ACCOUNT}:root"}
