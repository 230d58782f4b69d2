"""Load balancer checks (ELBv2 application/network and classic ELB): TLS in transit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.protocols import parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status
from evidence.records import Evidence

_SECURE = {"HTTPS", "TLS"}


def _policies(ctx: CheckContext) -> dict[tuple[str, str, str], tuple[list[str], Evidence]]:
    """(account, region, policy name) -> (protocols it allows, its evidence)."""
    out: dict[tuple[str, str, str], tuple[list[str], Evidence]] = {}
    for ev in ctx.evidence("elbv2.DescribeSSLPolicies"):
        for pol in ev.response.get("SslPolicies", []):
            out[(ev.account, ev.region, pol["Name"])] = (list(pol.get("SslProtocols", [])), ev)
    return out


@check(
    id="aws.elbv2.listener_tls_min_version",
    source="aws",
    description=(
        "HTTPS/TLS listeners of application and network load balancers use an SSL policy whose "
        "protocols (resolved with DescribeSSLPolicies) are all at least min_tls."
    ),
    requires=("elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners", "elbv2.DescribeSSLPolicies"),
    params={"min_tls": "1.2"},
    resource_type="AWS::ElasticLoadBalancingV2::Listener",
)
def listener_tls_min_version(ctx: CheckContext) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params["min_tls"])
    expected = f"every protocol >= {version_label(minimum)}"
    policies = _policies(ctx)
    for ev in ctx.evidence("elbv2.DescribeListeners"):
        for listener in ev.response.get("Listeners", []):
            if listener.get("Protocol") not in _SECURE:
                continue
            arn = listener["ListenerArn"]
            name = listener.get("SslPolicy", "")
            where = {"account": ev.account, "region": ev.region, "resource_id": arn}
            found = policies.get((ev.account, ev.region, name))
            if found is None:
                yield ctx.finding(
                    Status.ERROR, **where, evidence=[ev], observed=name or "no policy", expected=expected,
                    message=f"SSL policy {name!r} of this listener was not described, so its protocols are unknown.",
                )
                continue
            protocols, pev = found
            versions = [(protocol_version(p), p) for p in protocols]
            unknown = [p for v, p in versions if v is None]
            weak = [p for v, p in versions if v is not None and v < minimum]
            observed = {"ssl_policy": name, "protocols": protocols}
            if weak:
                yield ctx.finding(
                    Status.FAIL, **where, evidence=[ev, pev], observed=observed, expected=expected,
                    message=f"Listener policy {name} allows {', '.join(weak)}, below {version_label(minimum)}.",
                )
            elif unknown or not protocols:
                yield ctx.finding(
                    Status.ERROR, **where, evidence=[ev, pev], observed=observed, expected=expected,
                    message=f"Listener policy {name} lists protocols that cannot be read: {unknown or 'none'}.",
                )
            else:
                yield ctx.finding(
                    Status.PASS, **where, evidence=[ev, pev], observed=observed, expected=expected,
                    message=f"Listener policy {name} allows only {', '.join(protocols)}.",
                )


def _load_balancers(ctx: CheckContext) -> dict[str, tuple[dict[str, Any], Evidence]]:
    out: dict[str, tuple[dict[str, Any], Evidence]] = {}
    for ev in ctx.evidence("elbv2.DescribeLoadBalancers"):
        for lb in ev.response.get("LoadBalancers", []):
            out[lb["LoadBalancerArn"]] = (lb, ev)
    return out


@check(
    id="aws.elbv2.http_redirects_to_https",
    source="aws",
    description="HTTP listeners of internet-facing application load balancers redirect to HTTPS.",
    requires=("elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners"),
    resource_type="AWS::ElasticLoadBalancingV2::Listener",
)
def http_redirects_to_https(ctx: CheckContext) -> Iterator[Finding]:
    lbs = _load_balancers(ctx)
    for ev in ctx.evidence("elbv2.DescribeListeners"):
        for listener in ev.response.get("Listeners", []):
            if listener.get("Protocol") != "HTTP":
                continue
            lb, lev = lbs.get(listener.get("LoadBalancerArn", ""), ({}, None))
            if lb.get("Type") != "application" or lb.get("Scheme") != "internet-facing":
                continue
            actions = listener.get("DefaultActions", [])
            redirect = [
                a for a in actions
                if a.get("Type") == "redirect" and a.get("RedirectConfig", {}).get("Protocol") == "HTTPS"
            ]
            observed = [a.get("Type") for a in actions]
            status = Status.PASS if redirect and len(actions) == len(redirect) else Status.FAIL
            yield ctx.finding(
                status,
                resource_id=listener["ListenerArn"], account=ev.account, region=ev.region,
                evidence=[e for e in (ev, lev) if e is not None],
                observed={"default_actions": observed, "port": listener.get("Port")},
                expected="default action: redirect to HTTPS",
                message=(
                    f"Internet-facing HTTP listener on port {listener.get('Port')} redirects to HTTPS."
                    if status is Status.PASS
                    else f"Internet-facing HTTP listener on port {listener.get('Port')} serves plain HTTP "
                    f"({', '.join(str(o) for o in observed) or 'no action'}) instead of redirecting to HTTPS."
                ),
            )


@check(
    id="aws.elb.listener_tls_min_version",
    source="aws",
    description=(
        "HTTPS/SSL listeners of classic load balancers use a negotiation policy that disables every "
        "protocol below min_tls (SSLv3, TLSv1, TLSv1.1 for 1.2)."
    ),
    requires=("elb.DescribeLoadBalancers", "elb.DescribeLoadBalancerPolicies"),
    params={"min_tls": "1.2"},
    resource_type="AWS::ElasticLoadBalancing::LoadBalancer",
)
def classic_listener_tls_min_version(ctx: CheckContext) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params["min_tls"])
    expected = f"protocols below {version_label(minimum)} disabled"
    policies: dict[tuple[str, str, str], tuple[dict[str, Any], Evidence]] = {}
    for ev in ctx.evidence("elb.DescribeLoadBalancerPolicies"):
        for pol in ev.response.get("PolicyDescriptions", []):
            policies[(ev.account, ev.region, f"{ev.parameters.get('LoadBalancerName')}/{pol['PolicyName']}")] = (
                pol, ev,
            )
    for ev in ctx.evidence("elb.DescribeLoadBalancers"):
        for lb in ev.response.get("LoadBalancerDescriptions", []):
            name = lb["LoadBalancerName"]
            arn = f"arn:aws:elasticloadbalancing:{ev.region}:{ev.account}:loadbalancer/{name}"
            for desc in lb.get("ListenerDescriptions", []):
                listener = desc.get("Listener", {})
                if listener.get("Protocol", "").upper() not in {"HTTPS", "SSL"}:
                    continue
                rid = f"{arn}:{listener.get('LoadBalancerPort')}"
                enabled: list[str] = []
                evs: list[Evidence] = [ev]
                found_policy = False
                for pname in desc.get("PolicyNames", []):
                    hit = policies.get((ev.account, ev.region, f"{name}/{pname}"))
                    if hit is None:
                        continue
                    pol, pev = hit
                    attrs = pol.get("PolicyAttributeDescriptions", [])
                    if not any(str(a.get("AttributeName", "")).startswith("Protocol-") for a in attrs):
                        continue
                    found_policy = True
                    evs.append(pev)
                    enabled += [
                        a["AttributeName"].removeprefix("Protocol-")
                        for a in attrs
                        if str(a.get("AttributeName", "")).startswith("Protocol-")
                        and str(a.get("AttributeValue", "")).lower() == "true"
                    ]
                if not found_policy:
                    yield ctx.finding(
                        Status.ERROR, resource_id=rid, account=ev.account, region=ev.region, evidence=evs,
                        observed={"policies": desc.get("PolicyNames", [])}, expected=expected,
                        message="No SSL negotiation policy with protocol settings was found for this listener.",
                    )
                    continue
                weak = [p for p in enabled if (v := protocol_version(p)) is None or v < minimum]
                yield ctx.finding(
                    Status.FAIL if weak else Status.PASS,
                    resource_id=rid, account=ev.account, region=ev.region, evidence=evs,
                    observed={"enabled_protocols": sorted(enabled)}, expected=expected,
                    message=(
                        f"Classic load balancer listener enables {', '.join(sorted(weak))}."
                        if weak
                        else f"Classic load balancer listener enables only {', '.join(sorted(enabled))}."
                    ),
                )
