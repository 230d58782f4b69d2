"""Load balancer checks beyond TLS: spread across Availability Zones (REDUNDANCY) and
application load balancer access logs (AUDIT-LOG)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from evidence.checks.awsutil import failed_subjects
from evidence.checks.base import CheckContext, check
from evidence.checks.elb import CLASSIC_LOAD_BALANCERS, LOAD_BALANCERS
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.models import Finding, Status

ATTRIBUTES = Inventory("elbv2.DescribeLoadBalancerAttributes", items="Attributes", id="Key")


class MultiAzParams(Params):
    min_azs: int = Field(2, ge=1, le=6, description="Availability Zones each load balancer must span.")


def _spread(ctx: CheckContext[MultiAzParams], lb: Item, zones: list[str], label: str, name: str) -> Finding:
    minimum = ctx.params.min_azs
    ok = len(zones) >= minimum
    return ctx.finding(
        Status.PASS if ok else Status.FAIL,
        resource_id=lb.resource_id, account=lb.account, region=lb.region, evidence=[lb.ev],
        observed={"AvailabilityZones": zones}, expected=f">= {minimum} Availability Zones",
        message=f"{label} {name} spans {len(zones)} Availability Zone(s)"
        + ("." if ok else f"; at least {minimum} are required."),
    )


@check(
    id="aws.elbv2.multi_az",
    source="aws",
    description="Every application, network and gateway load balancer spans at least min_azs Availability Zones.",
    inventory=LOAD_BALANCERS,
    params=MultiAzParams,
)
def elbv2_multi_az(ctx: CheckContext[MultiAzParams]) -> Iterator[Finding]:
    def one(lb: Item) -> Finding:
        zones = sorted(z.need("ZoneName", str) for z in lb.parts("AvailabilityZones"))
        return _spread(ctx, lb, zones, "Load balancer", lb.need("LoadBalancerName", str, lb.name))

    yield from ctx.each(LOAD_BALANCERS, one)


@check(
    id="aws.elb.multi_az",
    source="aws",
    description="Every classic load balancer spans at least min_azs Availability Zones.",
    inventory=CLASSIC_LOAD_BALANCERS,
    params=MultiAzParams,
)
def elb_multi_az(ctx: CheckContext[MultiAzParams]) -> Iterator[Finding]:
    def one(lb: Item) -> Finding:
        zones = sorted(str(z) for z in lb.need("AvailabilityZones", list))
        return _spread(ctx, lb, zones, "Classic load balancer", lb.name)

    yield from ctx.each(CLASSIC_LOAD_BALANCERS, one)


@check(
    id="aws.elbv2.alb_access_logs",
    source="aws",
    description="Every application load balancer writes access logs (access_logs.s3.enabled).",
    inventory=LOAD_BALANCERS,
    listings=(ATTRIBUTES,),
)
def alb_access_logs(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    expected = {"access_logs.s3.enabled": "true"}
    attributes: dict[tuple[str, str], dict[str, Any]] = {}
    for attr in ctx.items(ATTRIBUTES):
        found = attributes.setdefault((attr.account, attr.ev.record.subject), {"ev": attr.ev, "values": {}})
        found["values"][attr.name] = attr.need("Value", str, "")
    failed = failed_subjects(ctx, "elbv2.DescribeLoadBalancerAttributes")

    def one(lb: Item) -> Finding | None:
        kind = lb.need("Type", str)
        if kind != "application":
            return ctx.skip(lb, f"{kind} load balancer: access logs are judged for application load balancers")
        if (lb.account, lb.resource_id) in failed:
            return None  # the judge reports the failed call for this load balancer
        got = attributes.get((lb.account, lb.resource_id))
        if got is None:
            return ctx.finding(
                Status.ERROR, resource_id=lb.resource_id, account=lb.account, region=lb.region, evidence=[lb.ev],
                observed="not collected", expected=expected,
                message=f"Attributes of application load balancer {lb.need('LoadBalancerName', str, lb.name)} "
                "were not collected.",
            )
        values: dict[str, str] = got["values"]
        enabled = values.get("access_logs.s3.enabled", "false").lower() == "true"
        observed: dict[str, Any] = {"access_logs.s3.enabled": values.get("access_logs.s3.enabled")}
        if enabled:
            observed["access_logs.s3.bucket"] = values.get("access_logs.s3.bucket")
        name = lb.need("LoadBalancerName", str, lb.name)
        return ctx.finding(
            Status.PASS if enabled else Status.FAIL, resource_id=lb.resource_id, account=lb.account,
            region=lb.region, evidence=[got["ev"]], observed=observed, expected=expected,
            message=f"Application load balancer {name} "
            + (f"writes access logs to {values.get('access_logs.s3.bucket')}." if enabled else "has access logs off."),
        )

    yield from ctx.each(LOAD_BALANCERS, lambda lb: [f for f in [one(lb)] if f is not None])
