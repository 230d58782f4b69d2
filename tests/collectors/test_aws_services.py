"""The AWS collector's units: each names the keys it can produce, every one of them declared."""

from __future__ import annotations

from evidence.collectors.aws_permissions import PERMISSIONS
from evidence.collectors.aws_services import SERVICE_UNITS


def test_every_unit_key_is_declared_and_every_collected_key_has_a_unit() -> None:
    names = [u.name for u in SERVICE_UNITS]
    assert len(names) == len(set(names))
    keys = {k for u in SERVICE_UNITS for k in u.keys}
    assert keys <= set(PERMISSIONS)
    # what no unit makes is the scope itself: identity, roles, the organization and its regions
    assert set(PERMISSIONS) - keys == {
        "sts.GetCallerIdentity", "sts.AssumeRole", "organizations.ListAccounts", "ec2.DescribeRegions"}


def test_global_services_are_called_once_per_account() -> None:
    assert {u.name for u in SERVICE_UNITS if u.is_global} == {
        "cloudfront", "s3", "wafv2-cloudfront", "shield", "cloudtrail", "iam"}
