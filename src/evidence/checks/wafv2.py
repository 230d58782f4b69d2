"""Edge protection checks: WAF web ACLs and Shield Advanced in front of public endpoints (DDOS),
and rate-based rules in those web ACLs (RATE-LIMIT)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import failed_scopes, failed_subjects, items, shield_protected
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status


def _public_albs(ctx: CheckContext) -> Iterator[tuple[dict[str, Any], Any]]:
    for lb, ev in items(ctx, "elbv2.DescribeLoadBalancers", "LoadBalancers"):
        if lb.get("Type") == "application" and lb.get("Scheme") == "internet-facing":
            yield lb, ev


def _acl_associations(ctx: CheckContext) -> dict[tuple[str, str], tuple[str, str]]:
    """(account, resource ARN) -> (web ACL ARN, evidence path), from ListResourcesForWebACL."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for ev in ctx.evidence("wafv2.ListResourcesForWebACL"):
        for arn in ev.response.get("ResourceArns", []) or []:
            out[(ev.account, str(arn))] = (ev.record.subject, ev.path)
    return out


@check(
    id="aws.elbv2.alb_ddos_protection",
    source="aws",
    description="Every internet-facing application load balancer has a WAF web ACL or a Shield Advanced "
    "protection.",
    requires=("elbv2.DescribeLoadBalancers", "wafv2.ListWebACLs", "wafv2.ListResourcesForWebACL",
              "shield.ListProtections"),
    resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer",
)
def alb_ddos_protection(ctx: CheckContext) -> Iterator[Finding]:
    acls = _acl_associations(ctx)
    shield = shield_protected(ctx)
    unknown_waf = failed_scopes(ctx, "wafv2.ListWebACLs", "wafv2.ListResourcesForWebACL")
    unknown_shield = {account for account, _ in failed_scopes(ctx, "shield.ListProtections")}
    expected = "a WAF web ACL or a Shield Advanced protection"
    for lb, ev in _public_albs(ctx):
        arn = str(lb["LoadBalancerArn"])
        where: dict[str, Any] = {"resource_id": arn, "account": ev.account, "region": ev.region, "expected": expected}
        acl = acls.get((ev.account, arn))
        protection = shield.get((ev.account, arn))
        if acl or protection:
            observed: dict[str, Any] = {"web_acl": acl[0] if acl else None, "shield_advanced": protection is not None}
            paths = [ev.path] + ([acl[1]] if acl else []) + ([protection.path] if protection else [])
            yield ctx.finding(
                Status.PASS, **where, evidence=paths, observed=observed,
                message=f"Load balancer {lb.get('LoadBalancerName')} is protected by "
                + " and ".join(x for x in (f"web ACL {acl[0].rsplit('/', 2)[-2]}" if acl else "",
                                           "Shield Advanced" if protection else "") if x) + ".",
            )
        elif (ev.account, ev.region) in unknown_waf or ev.account in unknown_shield:
            yield ctx.finding(
                Status.ERROR, **where, evidence=[ev], observed="web ACL associations or Shield protections unknown",
                message=f"Whether load balancer {lb.get('LoadBalancerName')} has a web ACL or Shield Advanced "
                "could not be read.",
            )
        else:
            yield ctx.finding(
                Status.FAIL, **where, evidence=[ev], observed={"web_acl": None, "shield_advanced": False},
                message=f"Internet-facing load balancer {lb.get('LoadBalancerName')} has neither a WAF web ACL nor "
                "Shield Advanced.",
            )


@check(
    id="aws.cloudfront.ddos_protection",
    source="aws",
    description="Every CloudFront distribution has a WAF web ACL or a Shield Advanced protection.",
    requires=("cloudfront.ListDistributions", "shield.ListProtections"),
    resource_type="AWS::CloudFront::Distribution",
)
def cloudfront_ddos_protection(ctx: CheckContext) -> Iterator[Finding]:
    shield = shield_protected(ctx)
    unknown_shield = {account for account, _ in failed_scopes(ctx, "shield.ListProtections")}
    for dist, ev in items(ctx, "cloudfront.ListDistributions", "DistributionList", "Items"):
        arn = str(dist.get("ARN") or dist.get("Id"))
        acl = str(dist.get("WebACLId") or "")
        protection = shield.get((ev.account, arn))
        where: dict[str, Any] = {"resource_id": arn, "account": ev.account,
                                 "expected": "a WAF web ACL or a Shield Advanced protection"}
        observed = {"web_acl": acl or None, "shield_advanced": protection is not None}
        if acl or protection:
            yield ctx.finding(
                Status.PASS, **where, evidence=[ev] + ([protection] if protection else []), observed=observed,
                message=f"Distribution {dist.get('DomainName')} is protected by "
                + " and ".join(x for x in ("a WAF web ACL" if acl else "", "Shield Advanced" if protection else "")
                               if x) + ".",
            )
        elif ev.account in unknown_shield:
            yield ctx.finding(
                Status.ERROR, **where, evidence=[ev], observed=observed,
                message=f"Distribution {dist.get('DomainName')} has no web ACL and its Shield Advanced protections "
                "could not be read.",
            )
        else:
            yield ctx.finding(
                Status.FAIL, **where, evidence=[ev], observed=observed,
                message=f"Distribution {dist.get('DomainName')} has neither a WAF web ACL nor Shield Advanced.",
            )


def has_rate_based_statement(node: Any) -> bool:
    """True when a rule's statement is, or nests, a RateBasedStatement."""
    if isinstance(node, dict):
        return "RateBasedStatement" in node or any(has_rate_based_statement(v) for v in node.values())
    if isinstance(node, list):
        return any(has_rate_based_statement(v) for v in node)
    return False


@check(
    id="aws.wafv2.rate_based_rule",
    source="aws",
    description="Every WAF web ACL protecting a public endpoint (an internet-facing application load balancer "
    "or a CloudFront distribution) contains a rate-based rule.",
    requires=("wafv2.ListWebACLs", "wafv2.GetWebACL", "wafv2.ListResourcesForWebACL",
              "elbv2.DescribeLoadBalancers", "cloudfront.ListDistributions"),
    resource_type="AWS::WAFv2::WebACL",
)
def rate_based_rule(ctx: CheckContext) -> Iterator[Finding]:
    public_albs = {(ev.account, str(lb["LoadBalancerArn"])) for lb, ev in _public_albs(ctx)}
    protects: dict[tuple[str, str], list[str]] = {}
    for ev in ctx.evidence("wafv2.ListResourcesForWebACL"):
        for arn in ev.response.get("ResourceArns", []) or []:
            if (ev.account, str(arn)) in public_albs:
                protects.setdefault((ev.account, ev.record.subject), []).append(str(arn))
    for dist, ev in items(ctx, "cloudfront.ListDistributions", "DistributionList", "Items"):
        if dist.get("WebACLId"):
            protects.setdefault((ev.account, str(dist["WebACLId"])), []).append(str(dist.get("ARN") or dist.get("Id")))
    unknown_assoc = failed_subjects(ctx, "wafv2.ListResourcesForWebACL")
    described = failed_subjects(ctx, "wafv2.GetWebACL")
    for ev in ctx.evidence("wafv2.GetWebACL"):
        acl = ev.response.get("WebACL", {}) or {}
        arn = str(acl.get("ARN") or ev.record.subject)
        described.add((ev.account, arn))
        endpoints = protects.get((ev.account, arn), [])
        association_unknown = (ev.account, arn) in unknown_assoc
        if not endpoints and not association_unknown:
            continue  # protects no public endpoint: nothing to rate-limit here
        rate_rules = sorted(str(r.get("Name")) for r in acl.get("Rules", []) or []
                            if has_rate_based_statement(r.get("Statement")))
        where: dict[str, Any] = {"resource_id": arn, "account": ev.account, "region": ev.region, "evidence": [ev],
                                 "observed": {"rate_based_rules": rate_rules, "protects": sorted(endpoints)},
                                 "expected": "at least one rate-based rule"}
        name = acl.get("Name", arn)
        if rate_rules:
            yield ctx.finding(Status.PASS, **where,
                              message=f"Web ACL {name} rate-limits with {', '.join(rate_rules)}.")
        elif endpoints:
            yield ctx.finding(Status.FAIL, **where,
                              message=f"Web ACL {name} protects {len(endpoints)} public endpoint(s) without a "
                              "rate-based rule.")
        else:
            yield ctx.finding(Status.ERROR, **where,
                              message=f"Web ACL {name} has no rate-based rule, and the resources it protects could "
                              "not be listed.")
    for acl_summary, ev in items(ctx, "wafv2.ListWebACLs", "WebACLs"):
        arn = str(acl_summary.get("ARN"))
        if (ev.account, arn) in described:
            continue
        if protects.get((ev.account, arn)) or (ev.account, arn) in unknown_assoc:
            yield ctx.finding(
                Status.ERROR, resource_id=arn, account=ev.account, region=ev.region, evidence=[ev],
                observed="not collected", expected="at least one rate-based rule",
                message=f"Web ACL {acl_summary.get('Name')} is listed but its rules were not read.",
            )
