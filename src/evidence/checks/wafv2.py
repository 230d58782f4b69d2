"""Edge protection checks: WAF web ACLs and Shield Advanced in front of public endpoints (DDOS),
and rate-based rules in those web ACLs (RATE-LIMIT).

- `aws.elbv2.alb_ddos_protection` judges every listed ELBv2 load balancer (`elb.LOAD_BALANCERS`),
  skipping those that are not internet-facing application load balancers;
- `aws.cloudfront.ddos_protection` judges every listed distribution (`cloudfront.DISTRIBUTIONS`);
- `aws.wafv2.rate_based_rule` judges every described web ACL (`GetWebACL`, one record per ACL of
  `ListWebACLs`), skipping those that protect no public endpoint.

Which resources a regional web ACL protects comes from `ListResourcesForWebACL` (its subject the
ACL ARN); a CloudFront distribution names its own web ACL (`WebACLId`). Shield Advanced
protections come from `ListProtections`, whose `ResourceNotFoundException` answer means "none".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from evidence.checks.awsutil import failed_scopes, failed_subjects, problem_pages, shield_protections
from evidence.checks.base import CheckContext, check
from evidence.checks.cloudfront import DISTRIBUTIONS
from evidence.checks.elb import LOAD_BALANCERS
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams
from evidence.models import Finding, Status
from evidence.records import Evidence

ACL_TYPE = "AWS::WAFv2::WebACL"
WEB_ACLS = Inventory("wafv2.ListWebACLs", items="WebACLs", id="ARN", resource_type=ACL_TYPE)
#: one GetWebACL record per listed web ACL, its subject the ACL ARN
DESCRIBED_ACLS = Inventory("wafv2.GetWebACL", items=None, id="WebACL.ARN", resource_type=ACL_TYPE, parent=WEB_ACLS)
#: the load balancers a regional web ACL is associated with (the page's subject is the ACL ARN)
ACL_RESOURCES = Inventory("wafv2.ListResourcesForWebACL", items="ResourceArns")

_PROTECTION = "a WAF web ACL or a Shield Advanced protection"


def _regional(acl_arn: str) -> bool:
    return ":regional/webacl/" in acl_arn


@dataclass
class Associations:
    """Regional web ACL -> the resources it is associated with, and where that is unknown."""

    #: (account, resource ARN) -> (web ACL ARN, evidence path)
    acl_of: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: (account, web ACL ARN) -> resource ARNs
    resources: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: (account, web ACL ARN) whose associations could not be read
    unknown_acls: set[tuple[str, str]] = field(default_factory=set)
    #: (account, region) where some regional web ACL's associations are unknown
    unknown_scopes: set[tuple[str, str]] = field(default_factory=set)


def associations(ctx: CheckContext[Any]) -> Associations:
    out = Associations()
    for res in ctx.items(ACL_RESOURCES):
        acl = res.ev.record.subject
        out.acl_of[(res.account, res.name)] = (acl, res.ev.path)
        out.resources.setdefault((res.account, acl), []).append(res.name)
    collected = {(e.account, e.subject) for e in ctx.index.entries_for(ACL_RESOURCES.key)}
    out.unknown_acls = failed_subjects(ctx, ACL_RESOURCES.key)
    out.unknown_acls |= {(ev.account, ev.record.subject) for ev in problem_pages(ctx, ACL_RESOURCES)}
    for listed in ctx.items(WEB_ACLS):
        # a regional ACL whose associations were never collected protects we know not what
        if _regional(listed.name) and (listed.account, listed.name) not in collected:
            out.unknown_acls.add((listed.account, listed.name))
    regions = {(listed.account, listed.name): listed.region for listed in ctx.items(WEB_ACLS)}
    out.unknown_scopes = {(account, regions.get((account, arn), "")) for account, arn in out.unknown_acls}
    out.unknown_scopes |= failed_scopes(ctx, WEB_ACLS.key, ACL_RESOURCES.key)
    out.unknown_scopes |= {(ev.account, ev.region) for ev in problem_pages(ctx, WEB_ACLS, ACL_RESOURCES)}
    return out


def _public_alb(lb: Item) -> bool:
    """Whether a load balancer is an internet-facing application load balancer."""
    return lb.need("Type", str) == "application" and lb.need("Scheme", str) == "internet-facing"


@check(
    id="aws.elbv2.alb_ddos_protection",
    source="aws",
    description="Every internet-facing application load balancer has a WAF web ACL or a Shield Advanced "
    "protection.",
    inventory=LOAD_BALANCERS,
    listings=(WEB_ACLS, ACL_RESOURCES),
    requires=("shield.ListProtections",),
)
def alb_ddos_protection(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    assoc = associations(ctx)
    shield = shield_protections(ctx)

    def one(lb: Item) -> Finding:
        kind = lb.need("Type", str)
        if kind != "application":
            return ctx.skip(lb, f"{kind} load balancer (only internet-facing application load balancers are judged)")
        scheme = lb.need("Scheme", str)
        if scheme != "internet-facing":
            return ctx.skip(lb, f"{scheme} application load balancer, not reachable from the internet")
        name = lb.need("LoadBalancerName", str, lb.name)
        where: dict[str, Any] = {"resource_id": lb.resource_id, "account": lb.account, "region": lb.region,
                                 "expected": _PROTECTION}
        acl = assoc.acl_of.get((lb.account, lb.resource_id))
        protection = shield.protected.get((lb.account, lb.resource_id))
        if acl or protection:
            observed: dict[str, Any] = {"web_acl": acl[0] if acl else None, "shield_advanced": protection is not None}
            paths = [lb.ev.path] + ([acl[1]] if acl else []) + ([protection.path] if protection else [])
            return ctx.finding(
                Status.PASS, **where, evidence=paths, observed=observed,
                message=f"Load balancer {name} is protected by "
                + " and ".join(x for x in (f"web ACL {acl[0].rsplit('/', 2)[-2]}" if acl else "",
                                           "Shield Advanced" if protection else "") if x) + ".",
            )
        if (lb.account, lb.region) in assoc.unknown_scopes or lb.account in shield.unknown:
            return ctx.finding(
                Status.ERROR, **where, evidence=[lb.ev], observed="web ACL associations or Shield protections unknown",
                message=f"Whether load balancer {name} has a web ACL or Shield Advanced could not be read.",
            )
        return ctx.finding(
            Status.FAIL, **where, evidence=[lb.ev], observed={"web_acl": None, "shield_advanced": False},
            message=f"Internet-facing load balancer {name} has neither a WAF web ACL nor Shield Advanced.",
        )

    yield from ctx.each(LOAD_BALANCERS, one)


def _domain(dist: Item) -> str:
    return dist.need("DomainName", str, dist.name)


@check(
    id="aws.cloudfront.ddos_protection",
    source="aws",
    description="Every CloudFront distribution has a WAF web ACL or a Shield Advanced protection.",
    inventory=DISTRIBUTIONS,
    requires=("shield.ListProtections",),
)
def cloudfront_ddos_protection(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    shield = shield_protections(ctx)

    def one(dist: Item) -> Finding:
        # CloudFront gives every distribution a WebACLId: "" when none is associated
        acl = dist.need("WebACLId", str)
        protection = shield.protected.get((dist.account, dist.resource_id))
        where: dict[str, Any] = {"resource_id": dist.resource_id, "account": dist.account, "expected": _PROTECTION}
        observed = {"web_acl": acl or None, "shield_advanced": protection is not None}
        evidence: list[Evidence] = [dist.ev] + ([protection] if protection else [])
        if acl or protection:
            return ctx.finding(
                Status.PASS, **where, evidence=evidence, observed=observed,
                message=f"Distribution {_domain(dist)} is protected by "
                + " and ".join(x for x in ("a WAF web ACL" if acl else "", "Shield Advanced" if protection else "")
                               if x) + ".",
            )
        if dist.account in shield.unknown:
            return ctx.finding(
                Status.ERROR, **where, evidence=[dist.ev], observed=observed,
                message=f"Distribution {_domain(dist)} has no web ACL and its Shield Advanced protections could not "
                "be read.",
            )
        return ctx.finding(
            Status.FAIL, **where, evidence=[dist.ev], observed=observed,
            message=f"Distribution {_domain(dist)} has neither a WAF web ACL nor Shield Advanced.",
        )

    yield from ctx.each(DISTRIBUTIONS, one)


def has_rate_based_statement(statement: Any) -> bool:
    """True when a rule's statement is, or nests (through And/Or/Not), a RateBasedStatement.

    Only the statement's own nesting is followed, so every key looked up is one WAFv2 describes.
    """
    if not isinstance(statement, dict):
        return False
    if "RateBasedStatement" in statement:
        return True
    nested: list[Any] = []
    for combinator in ("AndStatement", "OrStatement"):
        group = statement.get(combinator)
        if isinstance(group, dict) and isinstance(group.get("Statements"), list):
            nested.extend(group["Statements"])
    negated = statement.get("NotStatement")
    if isinstance(negated, dict):
        nested.append(negated.get("Statement"))
    return any(has_rate_based_statement(s) for s in nested)


@dataclass
class Protected:
    """Web ACL -> the public endpoints it protects, and the ACLs for which that is unknown."""

    #: (account, web ACL ARN or CloudFront WebACLId) -> protected endpoint ARNs
    endpoints: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    unknown: set[tuple[str, str]] = field(default_factory=set)
    #: accounts where a distribution's web ACL cannot be read (their CloudFront ACLs are unknown)
    unknown_cloudfront: set[str] = field(default_factory=set)


def protected_endpoints(ctx: CheckContext[Any]) -> Protected:
    assoc = associations(ctx)
    out = Protected(unknown=set(assoc.unknown_acls))
    public: set[tuple[str, str]] = set()
    unreadable: set[tuple[str, str]] = set()
    for lb in ctx.items(LOAD_BALANCERS):
        try:
            if _public_alb(lb):
                public.add((lb.account, lb.resource_id))
        except FieldError:
            unreadable.add((lb.account, lb.resource_id))
    for (account, acl), arns in assoc.resources.items():
        for arn in arns:
            if (account, arn) in public:
                out.endpoints.setdefault((account, acl), []).append(arn)
            elif (account, arn) in unreadable:
                out.unknown.add((account, acl))  # whether it protects a public endpoint is unknown
    for dist in ctx.items(DISTRIBUTIONS):
        try:
            acl = dist.need("WebACLId", str)
        except FieldError:
            out.unknown_cloudfront.add(dist.account)
            continue
        if acl:
            out.endpoints.setdefault((dist.account, acl), []).append(dist.resource_id)
    out.unknown_cloudfront |= {ev.account for ev in problem_pages(ctx, DISTRIBUTIONS)}
    out.unknown_cloudfront |= {account for account, _ in failed_scopes(ctx, DISTRIBUTIONS.key)}
    return out


_NOT_PUBLIC = "protects no internet-facing application load balancer or CloudFront distribution"


@check(
    id="aws.wafv2.rate_based_rule",
    source="aws",
    description="Every WAF web ACL protecting a public endpoint (an internet-facing application load balancer "
    "or a CloudFront distribution) contains a rate-based rule.",
    inventory=DESCRIBED_ACLS,
    listings=(ACL_RESOURCES, LOAD_BALANCERS, DISTRIBUTIONS),
)
def rate_based_rule(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    protects = protected_endpoints(ctx)
    expected = "at least one rate-based rule"

    def unknown(account: str, arn: str) -> bool:
        return (account, arn) in protects.unknown or (not _regional(arn) and account in protects.unknown_cloudfront)

    def one(item: Item) -> Finding:
        acl = item.part(item.need("WebACL", dict), "WebACL")
        arn = item.name
        endpoints = protects.endpoints.get((item.account, arn), [])
        if not endpoints and not unknown(item.account, arn):
            return ctx.skip(item, _NOT_PUBLIC)
        # WAFv2 may leave out the rules of a web ACL that has none: no rule, no rate limit
        rate_rules = sorted(r.need("Name", str) for r in acl.parts("Rules", required=False)
                            if has_rate_based_statement(r.need("Statement", dict)))
        where: dict[str, Any] = {"resource_id": item.resource_id, "account": item.account, "region": item.region,
                                 "evidence": [item.ev], "expected": expected,
                                 "observed": {"rate_based_rules": rate_rules, "protects": sorted(endpoints)}}
        name = acl.need("Name", str, arn)
        if rate_rules:
            return ctx.finding(Status.PASS, **where,
                               message=f"Web ACL {name} rate-limits with {', '.join(rate_rules)}.")
        if endpoints:
            return ctx.finding(Status.FAIL, **where,
                               message=f"Web ACL {name} protects {len(endpoints)} public endpoint(s) without a "
                               "rate-based rule.")
        return ctx.finding(Status.ERROR, **where,
                           message=f"Web ACL {name} has no rate-based rule, and the resources it protects could "
                           "not be listed.")

    yield from ctx.each(DESCRIBED_ACLS, one)
    # a listed web ACL without its GetWebACL record: its rules are unknown
    described = {(e.account, e.subject) for e in ctx.index.entries_for(DESCRIBED_ACLS.key)}
    for listed in ctx.items(WEB_ACLS):
        if (listed.account, listed.name) in described:
            continue
        if protects.endpoints.get((listed.account, listed.name)) or unknown(listed.account, listed.name):
            yield ctx.finding(
                Status.ERROR, resource_id=listed.resource_id, account=listed.account, region=listed.region,
                evidence=[listed.ev], observed="not collected", expected=expected,
                message=f"Web ACL {listed.need('Name', str, listed.name)} is listed but its rules were not read.",
            )
        else:
            yield ctx.skip(listed, _NOT_PUBLIC)
