"""CloudFront checks: viewer TLS minimum and HTTPS-only viewer policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import NoParams
from evidence.checks.protocols import MinTlsParams, parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status

DISTRIBUTIONS = Inventory(
    "cloudfront.ListDistributions", items="DistributionList.Items", id="ARN",
    resource_type="AWS::CloudFront::Distribution", count="DistributionList.Quantity",
)


def _domain(dist: Item) -> str:
    return dist.need("DomainName", str, dist.name)


@check(
    id="aws.cloudfront.viewer_min_tls",
    source="aws",
    description=(
        "CloudFront distributions serve viewers with a custom certificate and a minimum protocol "
        "version of at least min_tls (the default certificate forces TLSv1)."
    ),
    inventory=DISTRIBUTIONS,
    params=MinTlsParams,
)
def viewer_min_tls(ctx: CheckContext[MinTlsParams]) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params.min_tls)
    expected = f"minimum protocol >= {version_label(minimum)}"

    def one(dist: Item) -> Finding:
        cert = dist.part(dist.need("ViewerCertificate", dict), "ViewerCertificate")
        # both read, never one in place of the other: each field is checked against CloudFront's description
        acm, iam = cert.need("ACMCertificateArn", str, ""), cert.need("IAMCertificateId", str, "")
        custom = acm or iam
        version: tuple[int, int] | None
        if cert.need("CloudFrontDefaultCertificate", bool, False) and not custom:
            observed = "TLSv1 (CloudFront default certificate)"
            version = (1, 0)
        else:
            # absent: unreadable, an error below
            observed = cert.need("MinimumProtocolVersion", str, "")
            version = protocol_version(observed)
        where: dict[str, Any] = {
            "resource_id": dist.resource_id, "account": dist.account, "region": "",
            "evidence": [dist.ev], "observed": observed, "expected": expected,
        }
        if version is None:
            return ctx.finding(Status.ERROR, message=f"Unreadable minimum protocol {observed!r}.", **where)
        if version < minimum:
            return ctx.finding(Status.FAIL, **where,
                               message=f"Distribution {_domain(dist)} accepts viewers on {observed}.")
        return ctx.finding(Status.PASS, **where, message=f"Distribution {_domain(dist)} requires {observed} or newer.")

    yield from ctx.each(DISTRIBUTIONS, one)


def viewer_policies(dist: Item) -> dict[str, str]:
    """Path pattern ("default" for the default behavior) -> viewer protocol policy."""
    default = dist.part(dist.need("DefaultCacheBehavior", dict), "DefaultCacheBehavior")
    policies = {"default": default.need("ViewerProtocolPolicy", str)}
    # CloudFront leaves `Items` out when `Quantity` is 0
    listed = dist.need("CacheBehaviors.Quantity", int) > 0
    for behavior in dist.parts("CacheBehaviors.Items", required=listed):
        policies[behavior.need("PathPattern", str, "?")] = behavior.need("ViewerProtocolPolicy", str)
    return policies


@check(
    id="aws.cloudfront.viewer_https_only",
    source="aws",
    description="No CloudFront cache behavior lets viewers use plain HTTP (viewer protocol policy allow-all).",
    inventory=DISTRIBUTIONS,
)
def viewer_https_only(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(dist: Item) -> Finding:
        policies = viewer_policies(dist)
        allow_all = sorted(p for p, pol in policies.items() if pol == "allow-all")
        return ctx.finding(
            Status.FAIL if allow_all else Status.PASS,
            resource_id=dist.resource_id, account=dist.account, evidence=[dist.ev],
            observed=policies, expected="redirect-to-https or https-only on every behavior",
            message=(
                f"Behaviors {', '.join(allow_all)} of {_domain(dist)} allow plain HTTP."
                if allow_all
                else f"Every behavior of {_domain(dist)} requires HTTPS."
            ),
        )

    yield from ctx.each(DISTRIBUTIONS, one)
