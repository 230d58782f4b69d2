"""CloudFront checks: viewer TLS minimum and HTTPS-only viewer policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.protocols import parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status
from evidence.records import Evidence


def _distributions(ctx: CheckContext) -> Iterator[tuple[dict[str, Any], Evidence]]:
    for ev in ctx.evidence("cloudfront.ListDistributions"):
        for dist in ev.response.get("DistributionList", {}).get("Items", []) or []:
            yield dist, ev


@check(
    id="aws.cloudfront.viewer_min_tls",
    source="aws",
    description=(
        "CloudFront distributions serve viewers with a custom certificate and a minimum protocol "
        "version of at least min_tls (the default certificate forces TLSv1)."
    ),
    requires=("cloudfront.ListDistributions",),
    params={"min_tls": "1.2"},
    resource_type="AWS::CloudFront::Distribution",
)
def viewer_min_tls(ctx: CheckContext) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params["min_tls"])
    expected = f"minimum protocol >= {version_label(minimum)}"
    for dist, ev in _distributions(ctx):
        cert = dist.get("ViewerCertificate", {})
        custom = cert.get("ACMCertificateArn") or cert.get("IAMCertificateId")
        if cert.get("CloudFrontDefaultCertificate") and not custom:
            observed = "TLSv1 (CloudFront default certificate)"
            version: tuple[int, int] | None = (1, 0)
        else:
            observed = str(cert.get("MinimumProtocolVersion", ""))
            version = protocol_version(observed)
        where: dict[str, Any] = {
            "resource_id": dist.get("ARN", dist.get("Id", "")), "account": ev.account, "region": "",
            "evidence": [ev], "observed": observed, "expected": expected,
        }
        if version is None:
            yield ctx.finding(Status.ERROR, message=f"Unreadable minimum protocol {observed!r}.", **where)
        elif version < minimum:
            yield ctx.finding(
                Status.FAIL, **where,
                message=f"Distribution {dist.get('DomainName')} accepts viewers on {observed}.",
            )
        else:
            yield ctx.finding(
                Status.PASS, **where,
                message=f"Distribution {dist.get('DomainName')} requires {observed} or newer.",
            )


@check(
    id="aws.cloudfront.viewer_https_only",
    source="aws",
    description="No CloudFront cache behavior lets viewers use plain HTTP (viewer protocol policy allow-all).",
    requires=("cloudfront.ListDistributions",),
    resource_type="AWS::CloudFront::Distribution",
)
def viewer_https_only(ctx: CheckContext) -> Iterator[Finding]:
    for dist, ev in _distributions(ctx):
        behaviors = [("default", dist.get("DefaultCacheBehavior", {}))]
        behaviors += [
            (b.get("PathPattern", "?"), b) for b in (dist.get("CacheBehaviors", {}).get("Items") or [])
        ]
        policies = {path: b.get("ViewerProtocolPolicy", "") for path, b in behaviors}
        allow_all = sorted(p for p, pol in policies.items() if pol == "allow-all")
        yield ctx.finding(
            Status.FAIL if allow_all else Status.PASS,
            resource_id=dist.get("ARN", dist.get("Id", "")), account=ev.account, evidence=[ev],
            observed=policies, expected="redirect-to-https or https-only on every behavior",
            message=(
                f"Behaviors {', '.join(allow_all)} of {dist.get('DomainName')} allow plain HTTP."
                if allow_all
                else f"Every behavior of {dist.get('DomainName')} requires HTTPS."
            ),
        )
