"""EC2 checks: EBS encryption (ENC-REST) and security groups (FIREWALL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from pydantic import Field

from evidence.checks.awsutil import ACCOUNT_TYPE, account_arn
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.models import Finding, Status
from evidence.records import Evidence

_WORLD_V4 = "0.0.0.0/0"
_WORLD_V6 = "::/0"
_ALL_PROTOCOLS = {"-1", "all"}
_PORTED = {"tcp": "tcp", "udp": "udp", "6": "tcp", "17": "udp"}


def volume_arn(region: str, account: str, volume_id: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:volume/{volume_id}"


def _volume_arn(volume_id: str, ev: Evidence) -> str:
    return volume_arn(ev.region, ev.account, volume_id)


def _group_arn(group_id: str, ev: Evidence) -> str:
    return f"arn:aws:ec2:{ev.region}:{ev.account}:security-group/{group_id}"


def _account(_: str, ev: Evidence) -> str:
    return account_arn(ev.account)


EBS_DEFAULT = Inventory(
    "ec2.GetEbsEncryptionByDefault", items=None, resource_type=ACCOUNT_TYPE, resource_id=_account
)
VOLUMES = Inventory(
    "ec2.DescribeVolumes", items="Volumes", id="VolumeId", resource_type="AWS::EC2::Volume", resource_id=_volume_arn
)
SECURITY_GROUPS = Inventory(
    "ec2.DescribeSecurityGroups", items="SecurityGroups", id="GroupId", resource_type="AWS::EC2::SecurityGroup",
    resource_id=_group_arn,
)


@check(
    id="aws.ec2.ebs_encryption_by_default",
    source="aws",
    description="EBS encryption by default is enabled in every in-scope region of every account.",
    inventory=EBS_DEFAULT,
)
def ebs_encryption_by_default(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(item: Item) -> Finding:
        value = item.need("EbsEncryptionByDefault", bool)
        return ctx.finding(
            Status.PASS if value else Status.FAIL,
            resource_id=item.resource_id, account=item.account, region=item.region, evidence=[item.ev],
            observed={"EbsEncryptionByDefault": value},
            expected={"EbsEncryptionByDefault": True},
            message=(
                f"New EBS volumes in {item.region} are encrypted by default."
                if value
                else f"EBS encryption by default is off in {item.region}: new volumes may be unencrypted."
            ),
        )

    yield from ctx.each(EBS_DEFAULT, one)


@check(
    id="aws.ec2.ebs_volumes_encrypted",
    source="aws",
    description="Every EBS volume is encrypted.",
    inventory=VOLUMES,
)
def ebs_volumes_encrypted(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(item: Item) -> Finding:
        encrypted = item.need("Encrypted", bool)
        observed: dict[str, object] = {"Encrypted": encrypted}
        key = item.need("KmsKeyId", str, "")
        if key:
            observed["KmsKeyId"] = key
        return ctx.finding(
            Status.PASS if encrypted else Status.FAIL,
            resource_id=item.resource_id, account=item.account, region=item.region,
            evidence=[item.ev], observed=observed, expected={"Encrypted": True},
            message=f"Volume {item.name} is {'encrypted' if encrypted else 'not encrypted'}.",
        )

    yield from ctx.each(VOLUMES, one)


def _open_to_world(perm: Item) -> list[str]:
    v4 = [r.need("CidrIp", str, "") for r in perm.parts("IpRanges", required=False)]
    v6 = [r.need("CidrIpv6", str, "") for r in perm.parts("Ipv6Ranges", required=False)]
    return [c for c in v4 if c == _WORLD_V4] + [c for c in v6 if c == _WORLD_V6]


def public_ingress_violations(group: Item, public_ports: set[int]) -> list[str]:
    """Rules that admit the whole internet on anything but `public_ports`, described."""
    bad: list[str] = []
    for perm in group.parts("IpPermissions"):
        sources = _open_to_world(perm)
        if not sources:
            continue
        proto = perm.need("IpProtocol", str).lower()
        where = " and ".join(sources)
        if proto in _ALL_PROTOCOLS:
            bad.append(f"all traffic from {where}")
            continue
        if proto not in _PORTED:
            bad.append(f"{proto} from {where}")
            continue
        low, high = perm.need("FromPort", int), perm.need("ToPort", int)
        span = high - low + 1
        if span <= len(public_ports) and all(p in public_ports for p in range(low, high + 1)):
            continue
        ports = str(low) if low == high else f"{low}-{high}"
        bad.append(f"{_PORTED[proto]}/{ports} from {where}")
    return bad


class PublicIngressParams(Params):
    public_ports: list[Annotated[int, Field(ge=0, le=65535)]] = Field(
        default_factory=lambda: [80, 443],
        description="Ports that may admit 0.0.0.0/0 or ::/0 (each 0-65535).",
    )


@check(
    id="aws.ec2.security_group_public_ingress",
    source="aws",
    description=(
        "No security group admits ingress from 0.0.0.0/0 or ::/0 except on public_ports "
        "(all traffic, any other port or protocol open to the internet fails)."
    ),
    inventory=SECURITY_GROUPS,
    params=PublicIngressParams,
)
def security_group_public_ingress(ctx: CheckContext[PublicIngressParams]) -> Iterator[Finding]:
    public_ports = set(ctx.params.public_ports)
    expected = f"no ingress from {_WORLD_V4} or {_WORLD_V6} except ports {sorted(public_ports)}"

    def one(group: Item) -> Finding:
        bad = public_ingress_violations(group, public_ports)
        label = f"{group.need('GroupName', str, '')} ({group.name})"
        return ctx.finding(
            Status.FAIL if bad else Status.PASS,
            resource_id=group.resource_id, account=group.account, region=group.region,
            evidence=[group.ev], observed=bad or "no other ingress from the internet", expected=expected,
            message=(
                f"Security group {label} admits {'; '.join(bad)}."
                if bad
                else f"Security group {label} admits the internet only on ports {sorted(public_ports)}, if at all."
            ),
        )

    yield from ctx.each(SECURITY_GROUPS, one)


@check(
    id="aws.ec2.default_security_group_no_rules",
    source="aws",
    description="Default security groups have no inbound and no outbound rules (so nothing uses them by accident).",
    inventory=SECURITY_GROUPS,
)
def default_security_group_no_rules(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(group: Item) -> Finding:
        if group.need("GroupName", str) != "default":
            return ctx.skip(group, "not a default security group")
        inbound = len(group.need("IpPermissions", list))
        outbound = len(group.need("IpPermissionsEgress", list))
        vpc = group.need("VpcId", str, "EC2-Classic")
        ok = inbound == 0 and outbound == 0
        return ctx.finding(
            Status.PASS if ok else Status.FAIL,
            resource_id=group.resource_id, account=group.account, region=group.region,
            evidence=[group.ev], observed={"inbound_rules": inbound, "outbound_rules": outbound},
            expected={"inbound_rules": 0, "outbound_rules": 0},
            message=(
                f"Default security group {group.name} of {vpc} has no rules."
                if ok
                else f"Default security group {group.name} of {vpc} has {inbound} inbound and "
                f"{outbound} outbound rules."
            ),
        )

    yield from ctx.each(SECURITY_GROUPS, one)
