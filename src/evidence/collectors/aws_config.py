"""`[aws]`: the AWS collector's configuration section (absent: every default)."""

from __future__ import annotations

import difflib

from pydantic import Field, field_validator

from evidence.config import Section


class AwsConfig(Section):
    regions: list[str] = Field(default_factory=lambda: ["eu-west-2"])
    assume_roles: list[str] = Field(default_factory=list)
    organization: bool = False
    organization_role_name: str = "EvidenceAudit"
    include_caller_account: bool = True
    max_workers: int = Field(default=16, ge=1, le=128)
    max_attempts: int = Field(default=8, ge=1, le=20)

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: list[str]) -> list[str]:
        """`["all"]`, or regions AWS has: a typo fails here, not after a long run."""
        if "all" in regions:
            if regions != ["all"]:
                raise ValueError('"all" stands alone (regions = ["all"] is every enabled region)')
            return regions
        if not regions:
            raise ValueError('name at least one region, or ["all"]')
        known = known_aws_regions()
        for region in regions:
            if region not in known:
                close = difflib.get_close_matches(region, sorted(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else " (newer regions need a newer boto3)"
                raise ValueError(f"{region!r} is not an AWS region{hint}")
        return regions


def known_aws_regions() -> frozenset[str]:
    """Every region of every partition in botocore's bundled `partitions.json` (read offline; the
    data botocore resolves endpoints with, a few kilobytes, where the older `endpoints.json` is
    a megabyte). Its `aws-global`-style names are endpoints, not regions, and are left out."""
    from botocore.loaders import create_loader

    data = create_loader().load_data("partitions")
    return frozenset(
        region
        for partition in data["partitions"]
        for region in partition["regions"]
        if not region.endswith("-global")
    )
