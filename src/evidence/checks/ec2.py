"""EC2 checks: EBS encryption (ENC-REST) and security groups (FIREWALL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import ACCOUNT_TYPE, account_arn, items
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status

_WORLD_V4 = "0.0.0.0/0"
_WORLD_V6 = "::/0"
_ALL_PROTOCOLS = {"-1", "all"}
_PORTED = {"tcp": "tcp", "udp": "udp", "6": "tcp", "17": "udp"}


def volume_arn(region: str, account: str, volume_id: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:volume/{volume_id}"


def security_group_arn(group: dict[str, Any], region: str, account: str) -> str:
    return str(group.get("SecurityGroupArn") or f"arn:aws:ec2:{region}:{account}:security-group/{group['GroupId']}")


@check(
    id="aws.ec2.ebs_encryption_by_default",
    source="aws",
    description="EBS encryption by default is enabled in every in-scope region of every account.",
    requires=("ec2.GetEbsEncryptionByDefault",),
    resource_type=ACCOUNT_TYPE,
)
def ebs_encryption_by_default(ctx: CheckContext) -> Iterator[Finding]:
    for ev in ctx.evidence("ec2.GetEbsEncryptionByDefault"):
        enabled = ev.response.get("EbsEncryptionByDefault") is True
        yield ctx.finding(
            Status.PASS if enabled else Status.FAIL,
            resource_id=account_arn(ev.account), account=ev.account, region=ev.region, evidence=[ev],
            observed={"EbsEncryptionByDefault": ev.response.get("EbsEncryptionByDefault")},
            expected={"EbsEncryptionByDefault": True},
            message=(
                f"New EBS volumes in {ev.region} are encrypted by default."
                if enabled
                else f"EBS encryption by default is off in {ev.region}: new volumes may be unencrypted."
            ),
        )


@check(
    id="aws.ec2.ebs_volumes_encrypted",
    source="aws",
    description="Every EBS volume is encrypted.",
    requires=("ec2.DescribeVolumes",),
    resource_type="AWS::EC2::Volume",
)
def ebs_volumes_encrypted(ctx: CheckContext) -> Iterator[Finding]:
    for vol, ev in items(ctx, "ec2.DescribeVolumes", "Volumes"):
        encrypted = vol.get("Encrypted") is True
        observed: dict[str, Any] = {"Encrypted": vol.get("Encrypted")}
        if vol.get("KmsKeyId"):
            observed["KmsKeyId"] = vol["KmsKeyId"]
        yield ctx.finding(
            Status.PASS if encrypted else Status.FAIL,
            resource_id=volume_arn(ev.region, ev.account, vol["VolumeId"]), account=ev.account, region=ev.region,
            evidence=[ev], observed=observed, expected={"Encrypted": True},
            message=f"Volume {vol['VolumeId']} is {'encrypted' if encrypted else 'not encrypted'}.",
        )


def _open_to_world(perm: dict[str, Any]) -> list[str]:
    v4 = [r.get("CidrIp") for r in perm.get("IpRanges", []) or [] if r.get("CidrIp") == _WORLD_V4]
    v6 = [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", []) or [] if r.get("CidrIpv6") == _WORLD_V6]
    return [str(c) for c in v4 + v6]


def public_ingress_violations(group: dict[str, Any], public_ports: set[int]) -> list[str]:
    """Rules that admit the whole internet on anything but `public_ports`, described."""
    bad: list[str] = []
    for perm in group.get("IpPermissions", []) or []:
        sources = _open_to_world(perm)
        if not sources:
            continue
        proto = str(perm.get("IpProtocol", "")).lower()
        where = " and ".join(sources)
        if proto in _ALL_PROTOCOLS:
            bad.append(f"all traffic from {where}")
            continue
        if proto not in _PORTED:
            bad.append(f"{proto} from {where}")
            continue
        low, high = int(perm.get("FromPort", 0)), int(perm.get("ToPort", 65535))
        span = high - low + 1
        if span <= len(public_ports) and all(p in public_ports for p in range(low, high + 1)):
            continue
        ports = str(low) if low == high else f"{low}-{high}"
        bad.append(f"{_PORTED[proto]}/{ports} from {where}")
    return bad


@check(
    id="aws.ec2.security_group_public_ingress",
    source="aws",
    description=(
        "No security group admits ingress from 0.0.0.0/0 or ::/0 except on public_ports "
        "(all traffic, any other port or protocol open to the internet fails)."
    ),
    requires=("ec2.DescribeSecurityGroups",),
    params={"public_ports": [80, 443]},
    resource_type="AWS::EC2::SecurityGroup",
)
def security_group_public_ingress(ctx: CheckContext) -> Iterator[Finding]:
    public_ports = {int(p) for p in ctx.params["public_ports"]}
    expected = f"no ingress from {_WORLD_V4} or {_WORLD_V6} except ports {sorted(public_ports)}"
    for group, ev in items(ctx, "ec2.DescribeSecurityGroups", "SecurityGroups"):
        bad = public_ingress_violations(group, public_ports)
        label = f"{group.get('GroupName', '')} ({group['GroupId']})"
        yield ctx.finding(
            Status.FAIL if bad else Status.PASS,
            resource_id=security_group_arn(group, ev.region, ev.account), account=ev.account, region=ev.region,
            evidence=[ev], observed=bad or "no other ingress from the internet", expected=expected,
            message=(
                f"Security group {label} admits {'; '.join(bad)}."
                if bad
                else f"Security group {label} admits the internet only on ports {sorted(public_ports)}, if at all."
            ),
        )


@check(
    id="aws.ec2.default_security_group_no_rules",
    source="aws",
    description="Default security groups have no inbound and no outbound rules (so nothing uses them by accident).",
    requires=("ec2.DescribeSecurityGroups",),
    resource_type="AWS::EC2::SecurityGroup",
)
def default_security_group_no_rules(ctx: CheckContext) -> Iterator[Finding]:
    for group, ev in items(ctx, "ec2.DescribeSecurityGroups", "SecurityGroups"):
        if group.get("GroupName") != "default":
            continue
        inbound = len(group.get("IpPermissions", []) or [])
        outbound = len(group.get("IpPermissionsEgress", []) or [])
        ok = inbound == 0 and outbound == 0
        yield ctx.finding(
            Status.PASS if ok else Status.FAIL,
            resource_id=security_group_arn(group, ev.region, ev.account), account=ev.account, region=ev.region,
            evidence=[ev], observed={"inbound_rules": inbound, "outbound_rules": outbound},
            expected={"inbound_rules": 0, "outbound_rules": 0},
            message=(
                f"Default security group {group['GroupId']} of {group.get('VpcId', 'EC2-Classic')} has no rules."
                if ok
                else f"Default security group {group['GroupId']} of {group.get('VpcId', 'EC2-Classic')} has "
                f"{inbound} inbound and {outbound} outbound rules."
            ),
        )
