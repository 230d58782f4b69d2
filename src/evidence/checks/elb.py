"""Load balancer checks (ELBv2 application/network and classic ELB): TLS in transit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams
from evidence.checks.protocols import MinTlsParams, parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status
from evidence.records import Evidence

_SECURE = {"HTTPS", "TLS"}


def classic_arn(name: str, ev: Evidence) -> str:
    """Classic load balancers have no ARN in the API: the one AWS uses for them."""
    return f"arn:aws:elasticloadbalancing:{ev.region}:{ev.account}:loadbalancer/{name}"


LOAD_BALANCERS = Inventory(
    "elbv2.DescribeLoadBalancers", items="LoadBalancers", id="LoadBalancerArn",
    resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer",
)
LISTENERS = Inventory(
    "elbv2.DescribeListeners", items="Listeners", id="ListenerArn",
    resource_type="AWS::ElasticLoadBalancingV2::Listener", parent=LOAD_BALANCERS,
)
SSL_POLICIES = Inventory("elbv2.DescribeSSLPolicies", items="SslPolicies", id="Name")
CLASSIC_LOAD_BALANCERS = Inventory(
    "elb.DescribeLoadBalancers", items="LoadBalancerDescriptions", id="LoadBalancerName",
    resource_type="AWS::ElasticLoadBalancing::LoadBalancer", resource_id=classic_arn,
)
CLASSIC_POLICIES = Inventory("elb.DescribeLoadBalancerPolicies", items="PolicyDescriptions", id="PolicyName")


def _policies(ctx: CheckContext[Any]) -> dict[tuple[str, str, str], tuple[list[str], Evidence] | FieldError]:
    """(account, region, policy name) -> (protocols it allows, its evidence), or why they cannot
    be read (an error for the listeners using that policy only)."""
    out: dict[tuple[str, str, str], tuple[list[str], Evidence] | FieldError] = {}
    for pol in ctx.items(SSL_POLICIES):
        try:
            out[(pol.account, pol.region, pol.name)] = ([str(p) for p in pol.need("SslProtocols", list)], pol.ev)
        except FieldError as exc:
            out[(pol.account, pol.region, pol.name)] = exc
    return out


@check(
    id="aws.elbv2.listener_tls_min_version",
    source="aws",
    description=(
        "HTTPS/TLS listeners of application and network load balancers use an SSL policy whose "
        "protocols (resolved with DescribeSSLPolicies) are all at least min_tls."
    ),
    inventory=LISTENERS,
    listings=(SSL_POLICIES,),
    params=MinTlsParams,
)
def listener_tls_min_version(ctx: CheckContext[MinTlsParams]) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params.min_tls)
    expected = f"every protocol >= {version_label(minimum)}"
    policies = _policies(ctx)

    def one(listener: Item) -> Finding:
        protocol = listener.need("Protocol", str)
        if protocol not in _SECURE:
            return ctx.skip(listener, f"{protocol} listener: no TLS policy (plain HTTP is judged by "
                                      "aws.elbv2.http_redirects_to_https)")
        name = listener.need("SslPolicy", str)
        where: dict[str, Any] = {"account": listener.account, "region": listener.region,
                                 "resource_id": listener.resource_id}
        found = policies.get((listener.account, listener.region, name))
        if found is None:
            return ctx.finding(
                Status.ERROR, **where, evidence=[listener.ev], observed=name, expected=expected,
                message=f"SSL policy {name!r} of this listener was not described, so its protocols are unknown.",
            )
        if isinstance(found, FieldError):
            raise found
        protocols, pev = found
        versions = [(protocol_version(p), p) for p in protocols]
        unknown = [p for v, p in versions if v is None]
        weak = [p for v, p in versions if v is not None and v < minimum]
        observed = {"ssl_policy": name, "protocols": protocols}
        if weak:
            return ctx.finding(
                Status.FAIL, **where, evidence=[listener.ev, pev], observed=observed, expected=expected,
                message=f"Listener policy {name} allows {', '.join(weak)}, below {version_label(minimum)}.",
            )
        if unknown or not protocols:
            return ctx.finding(
                Status.ERROR, **where, evidence=[listener.ev, pev], observed=observed, expected=expected,
                message=f"Listener policy {name} lists protocols that cannot be read: {unknown or 'none'}.",
            )
        return ctx.finding(
            Status.PASS, **where, evidence=[listener.ev, pev], observed=observed, expected=expected,
            message=f"Listener policy {name} allows only {', '.join(protocols)}.",
        )

    yield from ctx.each(LISTENERS, one)


@check(
    id="aws.elbv2.http_redirects_to_https",
    source="aws",
    description="HTTP listeners of internet-facing application load balancers redirect to HTTPS.",
    inventory=LISTENERS,
)
def http_redirects_to_https(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    lbs = {lb.name: lb for lb in ctx.items(LOAD_BALANCERS)}

    def one(listener: Item) -> Finding:
        protocol = listener.need("Protocol", str)
        if protocol != "HTTP":
            return ctx.skip(listener, f"{protocol} listener, not plain HTTP")
        lb = lbs.get(listener.need("LoadBalancerArn", str))
        if lb is None:
            return ctx.finding(
                Status.ERROR, resource_id=listener.resource_id, account=listener.account, region=listener.region,
                evidence=[listener.ev], observed="load balancer not listed", expected="its load balancer listed",
                message="The load balancer of this HTTP listener is not in the listing, so its exposure is unknown.",
            )
        kind, scheme = lb.need("Type", str), lb.need("Scheme", str)
        if kind != "application" or scheme != "internet-facing":
            return ctx.skip(listener, f"listener of an {scheme} {kind} load balancer (only internet-facing "
                                      "application load balancers are judged)", evidence=[lb.ev])
        actions = listener.parts("DefaultActions")
        types = [a.need("Type", str) for a in actions]
        redirect = [
            a for a in actions
            if a.need("Type", str) == "redirect" and a.need("RedirectConfig.Protocol", str, "") == "HTTPS"
        ]
        port = listener.need("Port", int)
        ok = bool(redirect) and len(actions) == len(redirect)
        return ctx.finding(
            Status.PASS if ok else Status.FAIL,
            resource_id=listener.resource_id, account=listener.account, region=listener.region,
            evidence=[listener.ev, lb.ev],
            observed={"default_actions": types, "port": port},
            expected="default action: redirect to HTTPS",
            message=(
                f"Internet-facing HTTP listener on port {port} redirects to HTTPS."
                if ok
                else f"Internet-facing HTTP listener on port {port} serves plain HTTP "
                f"({', '.join(types) or 'no action'}) instead of redirecting to HTTPS."
            ),
        )

    yield from ctx.each(LISTENERS, one)


def _classic_listeners(lb: Item) -> list[tuple[Item, Item]]:
    """(listener description, its listener) of a classic load balancer."""
    return [(d, d.part(d.need("Listener", dict), "Listener")) for d in lb.parts("ListenerDescriptions")]


@check(
    id="aws.elb.listener_tls_min_version",
    source="aws",
    description=(
        "HTTPS/SSL listeners of classic load balancers use a negotiation policy that disables every "
        "protocol below min_tls (SSLv3, TLSv1, TLSv1.1 for 1.2)."
    ),
    inventory=CLASSIC_LOAD_BALANCERS,
    listings=(CLASSIC_POLICIES,),
    params=MinTlsParams,
)
def classic_listener_tls_min_version(ctx: CheckContext[MinTlsParams]) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params.min_tls)
    expected = f"protocols below {version_label(minimum)} disabled on every HTTPS/SSL listener"
    policies: dict[tuple[str, str, str], Item] = {}
    for pol in ctx.items(CLASSIC_POLICIES):
        lb_name = pol.ev.parameters.get("LoadBalancerName")
        policies[(pol.account, pol.region, f"{lb_name}/{pol.name}")] = pol

    def one(lb: Item) -> Finding:
        secure = [(d, li) for d, li in _classic_listeners(lb) if li.need("Protocol", str).upper() in {"HTTPS", "SSL"}]
        if not secure:
            return ctx.skip(lb, "no HTTPS or SSL listener")
        evs: list[Evidence] = [lb.ev]
        observed: dict[str, Any] = {}
        weak_ports: list[str] = []
        missing: list[str] = []
        for desc, listener in secure:
            port = str(listener.need("LoadBalancerPort", int))
            enabled: list[str] = []
            found_policy = False
            for pname in desc.need("PolicyNames", list, []):
                pol = policies.get((lb.account, lb.region, f"{lb.name}/{pname}"))
                if pol is None:
                    continue
                attrs = pol.parts("PolicyAttributeDescriptions", required=False)
                named = [(a.need("AttributeName", str), a.need("AttributeValue", str, "")) for a in attrs]
                protocol_attrs = [(n, v) for n, v in named if n.startswith("Protocol-")]
                if not protocol_attrs:
                    continue
                found_policy = True
                evs.append(pol.ev)
                enabled += [n.removeprefix("Protocol-") for n, v in protocol_attrs if v.lower() == "true"]
            if not found_policy:
                missing.append(port)
                observed[port] = {"policies": desc.need("PolicyNames", list, [])}
                continue
            observed[port] = {"enabled_protocols": sorted(enabled)}
            if [p for p in enabled if (v := protocol_version(p)) is None or v < minimum]:
                weak_ports.append(port)
        where: dict[str, Any] = {"resource_id": lb.resource_id, "account": lb.account, "region": lb.region}
        if weak_ports:
            return ctx.finding(
                Status.FAIL, **where, evidence=evs, observed=observed, expected=expected,
                message=f"Classic load balancer {lb.name} enables protocols below {version_label(minimum)} "
                f"on port(s) {', '.join(weak_ports)}.",
            )
        if missing:
            return ctx.finding(
                Status.ERROR, **where, evidence=evs, observed=observed, expected=expected,
                message=f"No SSL negotiation policy with protocol settings was found for port(s) "
                f"{', '.join(missing)} of classic load balancer {lb.name}.",
            )
        return ctx.finding(
            Status.PASS, **where, evidence=evs, observed=observed, expected=expected,
            message=f"Every HTTPS/SSL listener of classic load balancer {lb.name} enables only "
            f"{version_label(minimum)} or later.",
        )

    yield from ctx.each(CLASSIC_LOAD_BALANCERS, one)


@check(
    id="aws.elb.http_listeners",
    source="aws",
    description=(
        "Internet-facing classic load balancers serve no plain HTTP listener (a classic load balancer "
        "cannot redirect, so an HTTP listener serves the site unencrypted)."
    ),
    inventory=CLASSIC_LOAD_BALANCERS,
)
def classic_http_listeners(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(lb: Item) -> Finding:
        scheme = lb.need("Scheme", str)
        if scheme != "internet-facing":
            return ctx.skip(lb, f"{scheme} load balancer, not reachable from the internet")
        listeners = [li for _, li in _classic_listeners(lb)]
        plain = sorted(
            li.need("LoadBalancerPort", int) for li in listeners if li.need("Protocol", str).upper() == "HTTP"
        )
        protocols = {str(li.need("LoadBalancerPort", int)): li.need("Protocol", str) for li in listeners}
        return ctx.finding(
            Status.FAIL if plain else Status.PASS,
            resource_id=lb.resource_id, account=lb.account, region=lb.region, evidence=[lb.ev],
            observed={"listeners": protocols}, expected="no HTTP listener on an internet-facing load balancer",
            message=(
                f"Internet-facing classic load balancer {lb.name} serves plain HTTP on port(s) "
                f"{', '.join(str(p) for p in plain)}."
                if plain
                else f"Internet-facing classic load balancer {lb.name} serves no plain HTTP listener."
            ),
        )

    yield from ctx.each(CLASSIC_LOAD_BALANCERS, one)
