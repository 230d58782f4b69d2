"""API Gateway checks: custom domain names' TLS security policy.

The check judges the REST API custom domains (`apigateway.GetDomainNames`, its inventory) and
the HTTP/WebSocket API custom domains (`apigatewayv2.GetDomainNames`): every domain of either
listing gets a finding. A domain both listings name with the same policy is judged once.
"""

from __future__ import annotations

from collections.abc import Iterator

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.protocols import MinTlsParams, parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status
from evidence.records import Evidence


def domain_arn(name: str, ev: Evidence) -> str:
    """API Gateway's ARN of a custom domain name (the same for REST and HTTP APIs)."""
    return f"arn:aws:apigateway:{ev.region}::/domainnames/{name}"


REST_DOMAINS = Inventory(
    "apigateway.GetDomainNames", items="items", id="domainName", resource_type="AWS::ApiGateway::DomainName",
    resource_id=domain_arn,
)
HTTP_DOMAINS = Inventory(
    "apigatewayv2.GetDomainNames", items="Items", id="DomainName", resource_type="AWS::ApiGatewayV2::DomainName",
    resource_id=domain_arn,
)


@check(
    id="aws.apigateway.domain_tls_min_version",
    source="aws",
    description="API Gateway custom domain names (REST and HTTP APIs) use a security policy >= min_tls.",
    inventory=REST_DOMAINS,
    listings=(HTTP_DOMAINS,),
    params=MinTlsParams,
    resource_type="AWS::ApiGateway::DomainName",
)
def domain_tls_min_version(ctx: CheckContext[MinTlsParams]) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params.min_tls)
    expected = f"security policy >= {version_label(minimum)}"
    seen: set[tuple[str, str]] = set()

    def judge(domain: Item, policy: str) -> list[Finding]:
        if (domain.resource_id, policy) in seen:
            # the same domain listed by both APIs with the same policy: judged once, and covered
            return []
        seen.add((domain.resource_id, policy))
        version = protocol_version(policy)
        status = Status.ERROR if version is None else (Status.FAIL if version < minimum else Status.PASS)
        return [ctx.finding(
            status, resource_id=domain.resource_id, account=domain.account, region=domain.region,
            evidence=[domain.ev], observed=policy, expected=expected,
            message=(
                f"Custom domain {domain.name} reports no readable security policy ({policy or 'none'})."
                if version is None
                else f"Custom domain {domain.name} uses {policy}"
                + (f", below {version_label(minimum)}." if status is Status.FAIL else ".")
            ),
        )]

    def rest(domain: Item) -> list[Finding]:
        # absent: judged as unreadable (an error), never as a pass
        return judge(domain, domain.need("securityPolicy", str, ""))

    def http(domain: Item) -> list[Finding]:
        configs = domain.parts("DomainNameConfigurations", required=False)
        policies = [c.need("SecurityPolicy", str, "") for c in configs] or [""]
        return [f for policy in policies for f in judge(domain, policy)]

    yield from ctx.each(REST_DOMAINS, rest)
    yield from ctx.each(HTTP_DOMAINS, http)
