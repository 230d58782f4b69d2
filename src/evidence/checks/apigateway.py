"""API Gateway checks: custom domain names' TLS security policy."""

from __future__ import annotations

from collections.abc import Iterator

from evidence.checks.base import CheckContext, check
from evidence.checks.protocols import parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status
from evidence.records import Evidence


@check(
    id="aws.apigateway.domain_tls_min_version",
    source="aws",
    description="API Gateway custom domain names (REST and HTTP APIs) use a security policy >= min_tls.",
    requires=("apigateway.GetDomainNames", "apigatewayv2.GetDomainNames"),
    params={"min_tls": "1.2"},
    resource_type="AWS::ApiGateway::DomainName",
)
def domain_tls_min_version(ctx: CheckContext) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params["min_tls"])
    expected = f"security policy >= {version_label(minimum)}"
    found: list[tuple[str, str, str, str, Evidence]] = []
    for ev in ctx.evidence("apigateway.GetDomainNames"):
        for d in ev.response.get("items", []):
            name = d["domainName"]
            arn = f"arn:aws:apigateway:{ev.region}::/domainnames/{name}"
            found.append((arn, name, str(d.get("securityPolicy", "")), ev.region, ev))
    for ev in ctx.evidence("apigatewayv2.GetDomainNames"):
        for d in ev.response.get("Items", []):
            name = d["DomainName"]
            arn = f"arn:aws:apigateway:{ev.region}::/domainnames/{name}"
            for cfg in d.get("DomainNameConfigurations", []) or [{}]:
                found.append((arn, name, str(cfg.get("SecurityPolicy", "")), ev.region, ev))
    seen: set[tuple[str, str]] = set()
    for arn, name, policy, region, ev in found:
        if (arn, policy) in seen:
            continue
        seen.add((arn, policy))
        version = protocol_version(policy)
        status = Status.ERROR if version is None else (Status.FAIL if version < minimum else Status.PASS)
        yield ctx.finding(
            status, resource_id=arn, account=ev.account, region=region, evidence=[ev],
            observed=policy, expected=expected,
            message=(
                f"Custom domain {name} reports no readable security policy ({policy or 'none'})."
                if version is None
                else f"Custom domain {name} uses {policy}"
                + (f", below {version_label(minimum)}." if status is Status.FAIL else ".")
            ),
        )
