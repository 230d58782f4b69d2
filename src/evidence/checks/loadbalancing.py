"""Load balancer checks beyond TLS: spread across Availability Zones (REDUNDANCY) and
application load balancer access logs (AUDIT-LOG)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import failed_subjects, items
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status


@check(
    id="aws.elbv2.multi_az",
    source="aws",
    description="Every application, network and gateway load balancer spans at least min_azs Availability Zones.",
    requires=("elbv2.DescribeLoadBalancers",),
    params={"min_azs": 2},
    resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer",
)
def elbv2_multi_az(ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.params["min_azs"])
    for lb, ev in items(ctx, "elbv2.DescribeLoadBalancers", "LoadBalancers"):
        zones = sorted(str(z.get("ZoneName")) for z in lb.get("AvailabilityZones", []) or [])
        ok = len(zones) >= minimum
        yield ctx.finding(
            Status.PASS if ok else Status.FAIL,
            resource_id=str(lb["LoadBalancerArn"]), account=ev.account, region=ev.region, evidence=[ev],
            observed={"AvailabilityZones": zones}, expected=f">= {minimum} Availability Zones",
            message=f"Load balancer {lb.get('LoadBalancerName')} spans {len(zones)} Availability Zone(s)"
            + ("." if ok else f"; at least {minimum} are required."),
        )


@check(
    id="aws.elb.multi_az",
    source="aws",
    description="Every classic load balancer spans at least min_azs Availability Zones.",
    requires=("elb.DescribeLoadBalancers",),
    params={"min_azs": 2},
    resource_type="AWS::ElasticLoadBalancing::LoadBalancer",
)
def elb_multi_az(ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.params["min_azs"])
    for lb, ev in items(ctx, "elb.DescribeLoadBalancers", "LoadBalancerDescriptions"):
        name = str(lb["LoadBalancerName"])
        zones = sorted(str(z) for z in lb.get("AvailabilityZones", []) or [])
        ok = len(zones) >= minimum
        yield ctx.finding(
            Status.PASS if ok else Status.FAIL,
            resource_id=f"arn:aws:elasticloadbalancing:{ev.region}:{ev.account}:loadbalancer/{name}",
            account=ev.account, region=ev.region, evidence=[ev],
            observed={"AvailabilityZones": zones}, expected=f">= {minimum} Availability Zones",
            message=f"Classic load balancer {name} spans {len(zones)} Availability Zone(s)"
            + ("." if ok else f"; at least {minimum} are required."),
        )


@check(
    id="aws.elbv2.alb_access_logs",
    source="aws",
    description="Every application load balancer writes access logs (access_logs.s3.enabled).",
    requires=("elbv2.DescribeLoadBalancers", "elbv2.DescribeLoadBalancerAttributes"),
    resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer",
)
def alb_access_logs(ctx: CheckContext) -> Iterator[Finding]:
    expected = {"access_logs.s3.enabled": "true"}
    judged: set[tuple[str, str]] = set()
    for ev in ctx.evidence("elbv2.DescribeLoadBalancerAttributes"):
        arn = ev.record.subject
        judged.add((ev.account, arn))
        attrs = {str(a.get("Key")): str(a.get("Value")) for a in ev.response.get("Attributes", []) or []}
        enabled = attrs.get("access_logs.s3.enabled", "false").lower() == "true"
        observed: dict[str, Any] = {"access_logs.s3.enabled": attrs.get("access_logs.s3.enabled")}
        if enabled:
            observed["access_logs.s3.bucket"] = attrs.get("access_logs.s3.bucket")
        name = arn.split("/")[-2] if arn.count("/") >= 2 else arn
        yield ctx.finding(
            Status.PASS if enabled else Status.FAIL, resource_id=arn, account=ev.account, region=ev.region,
            evidence=[ev], observed=observed, expected=expected,
            message=f"Application load balancer {name} "
            + (f"writes access logs to {attrs.get('access_logs.s3.bucket')}." if enabled else "has access logs off."),
        )
    failed = failed_subjects(ctx, "elbv2.DescribeLoadBalancerAttributes")
    for lb, ev in items(ctx, "elbv2.DescribeLoadBalancers", "LoadBalancers"):
        arn = str(lb["LoadBalancerArn"])
        if lb.get("Type") != "application" or (ev.account, arn) in judged or (ev.account, arn) in failed:
            continue
        yield ctx.finding(
            Status.ERROR, resource_id=arn, account=ev.account, region=ev.region, evidence=[ev],
            observed="not collected", expected=expected,
            message=f"Attributes of application load balancer {lb.get('LoadBalancerName')} were not collected.",
        )
