"""DDOS and RATE-LIMIT (WAFv2 web ACLs, Shield): moto where it has the API, botocore Stubber for what
it lacks (WAFv2 ListResourcesForWebACL), and hand-written records for the declared inventories
and decisive fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from evidence.checks import wafv2
from evidence.models import Status, utc_now
from evidence.registry import Registry
from tests.checks.awshelp import (
    ACCOUNT,
    REGION,
    StubbedAccount,
    by_resource,
    judge_check,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.checks.awshelp import alb as _alb
from tests.checks.awshelp import subnets as _subnets
from tests.checks.estate import US, Estate, by_id, shape_errors
from tests.conftest import RunFn

_VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}
_RATE_RULE = {"Name": "per-ip", "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": _VISIBILITY,
              "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}}}


def _distribution(cf: Any, ref: str, acl: str = "") -> str:
    origin = {"Quantity": 1, "Items": [{"Id": "o1", "DomainName": "origin.example.com", "CustomOriginConfig": {
        "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]}
    config: dict[str, Any] = {
        "CallerReference": ref, "Comment": ref, "Enabled": True, "Origins": origin,
        "DefaultCacheBehavior": {"TargetOriginId": "o1", "ViewerProtocolPolicy": "https-only", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    }
    if acl:
        config["WebACLId"] = acl
    return str(cf.create_distribution(DistributionConfig=config)["Distribution"]["ARN"])


def test_ddos_and_rate_limit_on_moto(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    waf = boto3.client("wafv2", region_name="us-east-1")
    limited = waf.create_web_acl(Name="limited", Scope="CLOUDFRONT", DefaultAction={"Allow": {}},
                                 VisibilityConfig=_VISIBILITY, Rules=[_RATE_RULE])["Summary"]["ARN"]
    unlimited = waf.create_web_acl(Name="unlimited", Scope="CLOUDFRONT", DefaultAction={"Allow": {}},
                                   VisibilityConfig=_VISIBILITY, Rules=[])["Summary"]["ARN"]
    waf.create_web_acl(Name="unused", Scope="CLOUDFRONT", DefaultAction={"Allow": {}}, VisibilityConfig=_VISIBILITY)
    cf = boto3.client("cloudfront", region_name="us-east-1")
    cdn, api, bare, shielded = (_distribution(cf, "cdn", limited), _distribution(cf, "api", unlimited),
                                _distribution(cf, "bare"), _distribution(cf, "shielded"))
    _, subnets = _subnets()
    guarded, exposed, internal = _alb("guarded", subnets), _alb("exposed", subnets), _alb("inner", subnets, "internal")
    shield = boto3.client("shield", region_name="us-east-1")
    shield.create_protection(Name="alb", ResourceArn=guarded)
    shield.create_protection(Name="cdn", ResourceArn=shielded)

    result = run_controls(run_evidence, tmp_path, ["DDOS", "RATE-LIMIT"])
    assert statuses(result, "aws.cloudfront.ddos_protection") == {
        cdn: Status.PASS, api: Status.PASS, bare: Status.FAIL, shielded: Status.PASS}
    # internal load balancers are left out, saying so; no regional web ACL exists, so absence is proven
    ddos = by_resource(result, "aws.elbv2.alb_ddos_protection")
    assert {k: f.status for k, f in ddos.items()} == {
        guarded: Status.PASS, exposed: Status.FAIL, internal: Status.NOT_APPLICABLE}
    assert "internal application load balancer" in ddos[internal].message
    # only web ACLs in front of a public endpoint are judged; the unused one is left out, saying so
    rate = by_resource(result, "aws.wafv2.rate_based_rule")
    judged = {k: f.status for k, f in rate.items() if f.status is not Status.NOT_APPLICABLE}
    assert judged == {limited: Status.PASS, unlimited: Status.FAIL}
    (unused,) = [f for f in rate.values() if f.status is Status.NOT_APPLICABLE]
    assert "/webacl/unused/" in unused.resource_id and "protects no internet-facing" in unused.message
    assert rate[limited].observed == {"rate_based_rules": ["per-ip"], "protects": [cdn]}


def test_regional_web_acl_associations_moto_gap_is_an_error(
    mocked_aws: None, run_evidence: RunFn, tmp_path: Path
) -> None:
    """moto has no ListResourcesForWebACL: an ALB that might sit behind a regional web ACL is
    an error (naming the cause), never a pass and never a guessed fail."""
    waf = boto3.client("wafv2", region_name=REGION)
    waf.create_web_acl(Name="regional", Scope="REGIONAL", DefaultAction={"Allow": {}},
                       VisibilityConfig=_VISIBILITY, Rules=[_RATE_RULE])
    _, subnets = _subnets()
    alb = _alb("public", subnets)
    result = run_controls(run_evidence, tmp_path, ["DDOS"])
    ddos = [f for f in result.findings if f.check_id == "aws.elbv2.alb_ddos_protection"]
    assert {f.status for f in ddos} == {Status.ERROR}
    assert by_resource(ddos, "aws.elbv2.alb_ddos_protection")[alb].status is Status.ERROR
    cause = [f for f in ddos if "ListResourcesForWebACL" in f.message]
    assert cause and "does not implement" in cause[0].message


def test_regional_web_acl_associations_with_stubber(tmp_path: Path, registry: Registry) -> None:
    """Against AWS's real API shape: an associated ALB passes DDOS, its web ACL is judged for
    RATE-LIMIT; an unassociated internet-facing ALB fails."""
    acct = StubbedAccount(tmp_path)
    lb_arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/%s/1234567890abcdef"
    behind, naked = lb_arn % "behind", lb_arn % "naked"
    acl_arn = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/edge/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"

    elbv2 = acct.stub("elbv2")
    lbs = [{"LoadBalancerArn": arn, "LoadBalancerName": arn.split("/")[-2], "Scheme": "internet-facing",
            "Type": "application", "AvailabilityZones": []} for arn in (behind, naked)]
    elbv2.add_response("describe_load_balancers", {"LoadBalancers": lbs}, {"PageSize": 400})
    waf = acct.stub("wafv2")
    waf.add_response("list_web_acls", {"WebACLs": [{"Name": "edge", "Id": acl_arn.rsplit("/", 1)[-1],
                                                     "ARN": acl_arn}]}, {"Scope": "REGIONAL", "Limit": 100})
    waf.add_response("get_web_acl", {"WebACL": {
        "Name": "edge", "Id": acl_arn.rsplit("/", 1)[-1], "ARN": acl_arn, "DefaultAction": {"Allow": {}},
        "VisibilityConfig": _VISIBILITY, "Rules": [{**_RATE_RULE, "Statement": {"AndStatement": {"Statements": [
            {"RateBasedStatement": {"Limit": 500, "AggregateKeyType": "IP"}},
            {"ByteMatchStatement": {"SearchString": b"/login", "FieldToMatch": {"UriPath": {}},
                                    "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                                    "PositionalConstraint": "STARTS_WITH"}}]}}}],
    }, "LockToken": "t"}, {"Name": "edge", "Id": acl_arn.rsplit("/", 1)[-1], "Scope": "REGIONAL"})
    waf.add_response("list_resources_for_web_acl", {"ResourceArns": [behind]},
                     {"WebACLArn": acl_arn, "ResourceType": "APPLICATION_LOAD_BALANCER"})
    acct.stub("shield", "us-east-1").add_response("list_protections", {"Protections": []}, {"MaxResults": 10000})
    acct.stub("cloudfront", "us-east-1").add_response(
        "list_distributions", {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                                    "Quantity": 0}}, {})

    acct.run("elbv2", {"elbv2.DescribeLoadBalancers"})
    acct.run("wafv2", {"wafv2.ListWebACLs", "wafv2.GetWebACL", "wafv2.ListResourcesForWebACL"})
    acct.run("shield", {"shield.ListProtections"}, region="us-east-1")
    index = acct.run("cloudfront", {"cloudfront.ListDistributions"}, region="us-east-1")
    acct.verify()

    now = utc_now()
    ddos = by_resource(judge_check(registry, "aws.elbv2.alb_ddos_protection", index, now),
                       "aws.elbv2.alb_ddos_protection")
    assert {k: f.status for k, f in ddos.items()} == {behind: Status.PASS, naked: Status.FAIL}
    assert ddos[behind].observed == {"web_acl": acl_arn, "shield_advanced": False}
    rate = judge_check(registry, "aws.wafv2.rate_based_rule", index, now)
    assert [(f.resource_id, f.status) for f in rate if "wafv2" in f.resource_id] == [(acl_arn, Status.PASS)]


def test_shield_without_subscription_means_no_protection(
    mocked_aws: None, tmp_path: Path, registry: Registry
) -> None:
    """AWS answers ListProtections with ResourceNotFoundException when nothing is protected:
    recorded as that answer, so CloudFront without a web ACL fails rather than errors.
    (Shield is stubbed; CloudFront is moto's.)"""
    dist = _distribution(boto3.client("cloudfront", region_name="us-east-1"), "bare")
    acct = StubbedAccount(tmp_path)
    acct.stub("shield", "us-east-1").add_client_error(
        "list_protections", service_error_code="ResourceNotFoundException", http_status_code=400)
    acct.run("shield", {"shield.ListProtections"}, region="us-east-1")
    index = acct.run("cloudfront", {"cloudfront.ListDistributions"}, region="us-east-1")
    acct.verify()
    (finding,) = judge_check(registry, "aws.cloudfront.ddos_protection", index, utc_now())
    assert finding.status is Status.FAIL and finding.resource_id == dist
    (page,) = index.iter("shield.ListProtections")
    assert page.record.ok and page.response["Error"]["Code"] == "ResourceNotFoundException"


LB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/1"
ACL = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/edge/1"
CF_ACL = f"arn:aws:wafv2:{US}:{ACCOUNT}:global/webacl/cdn/2"
DIST = f"arn:aws:cloudfront::{ACCOUNT}:distribution/D1"
RATE = {"Name": "per-ip", "Statement": {"RateBasedStatement": {"Limit": 100, "AggregateKeyType": "IP"}}}


def edge(e: Estate, *, lb: dict[str, Any] | None = None, acls_key: str = "WebACLs", assoc_key: str = "ResourceArns",
         rules: list[dict[str, Any]] | None = None, dist: dict[str, Any] | None = None,
         shield: dict[str, Any] | None = None) -> None:
    """An internet-facing ALB behind a regional web ACL, a distribution behind a CloudFront one."""
    e.add("elbv2.DescribeLoadBalancers", {"LoadBalancers": [lb or {
        "LoadBalancerArn": LB, "LoadBalancerName": "web", "Type": "application", "Scheme": "internet-facing"}]})
    e.add("wafv2.ListWebACLs", {acls_key: [{"Name": "edge", "Id": "1", "ARN": ACL}]})
    e.add("wafv2.ListResourcesForWebACL", {assoc_key: [LB]}, subject=ACL)
    e.add("wafv2.GetWebACL", {"WebACL": {"Name": "edge", "ARN": ACL, "Rules": [RATE] if rules is None else rules}},
          subject=ACL)
    e.add("wafv2.ListWebACLs", {"WebACLs": [{"Name": "cdn", "Id": "2", "ARN": CF_ACL}]}, region=US)
    e.add("wafv2.GetWebACL", {"WebACL": {"Name": "cdn", "ARN": CF_ACL, "Rules": [RATE]}}, subject=CF_ACL, region=US)
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Quantity": 1, "Items": [dist or {
        "ARN": DIST, "Id": "D1", "DomainName": "d1.cloudfront.net", "WebACLId": CF_ACL}]}}, region=US)
    e.add("shield.ListProtections", {"Protections": []} if shield is None else shield, region=US)


def test_web_acls_or_their_resources_under_an_unexpected_key_are_errors(tmp_path: Path) -> None:
    good = Estate(tmp_path / "good")
    edge(good)
    assert [f.status for f in good.judge(wafv2.alb_ddos_protection)] == [Status.PASS]
    assert {f.status for f in good.judge(wafv2.rate_based_rule)} == {Status.PASS}

    acls = Estate(tmp_path / "acls")
    edge(acls, acls_key="WebAcls")
    ddos = acls.judge(wafv2.alb_ddos_protection)
    assert shape_errors(ddos, "wafv2.ListWebACLs page", "WebACLs")
    # the load balancer's association is proven by its own record: still a pass, beside the page error
    assert by_id(ddos)[LB].status is Status.PASS
    rate = acls.judge(wafv2.rate_based_rule)
    assert shape_errors(rate, "wafv2.ListWebACLs page", "WebACLs")

    assoc = Estate(tmp_path / "assoc")
    edge(assoc, assoc_key="Resources", rules=[])
    ddos = assoc.judge(wafv2.alb_ddos_protection)
    assert shape_errors(ddos, "wafv2.ListResourcesForWebACL page", "ResourceArns")
    assert by_id(ddos)[LB].status is Status.ERROR  # was: fail, "neither a WAF web ACL nor Shield"
    rate = assoc.judge(wafv2.rate_based_rule)
    page_errors = shape_errors(rate, "wafv2.ListResourcesForWebACL page", "ResourceArns")
    (verdict,) = [f for f in rate if f.resource_id == ACL and f not in page_errors]
    # no rate-based rule, and what it protects is unknown: was left out as "protects nothing"
    assert verdict.status is Status.ERROR and "could not be listed" in verdict.message


def test_shield_protections_under_an_unexpected_key_are_unknown_not_none(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    edge(e, dist={"ARN": DIST, "Id": "D1", "DomainName": "d1.cloudfront.net", "WebACLId": ""},
         shield={"protections": [{"ResourceArn": DIST}]})
    (finding,) = e.judge(wafv2.cloudfront_ddos_protection)
    assert finding.status is Status.ERROR and finding.resource_id == DIST  # was: fail
    # Shield's own "no subscription" answer is "no protection": a fail
    answered = Estate(tmp_path / "answered")
    edge(answered, dist={"ARN": DIST, "Id": "D1", "DomainName": "d1.cloudfront.net", "WebACLId": ""},
         shield={"Error": {"Code": "ResourceNotFoundException", "Message": "none"}})
    assert [f.status for f in answered.judge(wafv2.cloudfront_ddos_protection)] == [Status.FAIL]


def test_edge_protection_fields_are_decisive(tmp_path: Path) -> None:
    no_acl_field = Estate(tmp_path / "dist")
    edge(no_acl_field, dist={"ARN": DIST, "Id": "D1", "DomainName": "d1.cloudfront.net"})
    (finding,) = no_acl_field.judge(wafv2.cloudfront_ddos_protection)
    assert finding.status is Status.ERROR and "WebACLId" in finding.message  # was: fail

    no_scheme = Estate(tmp_path / "lb")
    edge(no_scheme, lb={"LoadBalancerArn": LB, "LoadBalancerName": "web", "Type": "application"})
    (finding,) = no_scheme.judge(wafv2.alb_ddos_protection)
    assert finding.status is Status.ERROR and "Scheme" in finding.message  # was: left out unjudged

    no_statement = Estate(tmp_path / "rule")
    edge(no_statement, rules=[{"Name": "mystery"}])
    rate = by_id(no_statement.judge(wafv2.rate_based_rule))
    assert rate[ACL].status is Status.ERROR and "Statement" in rate[ACL].message  # was: fail
    assert rate[CF_ACL].status is Status.PASS


def test_an_account_without_distributions_is_not_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Marker": "", "MaxItems": 100,
                                                                "IsTruncated": False, "Quantity": 0}}, region=US)
    e.add("shield.ListProtections", {"Protections": []}, region=US)
    findings = e.judge(wafv2.cloudfront_ddos_protection)
    assert [f.status for f in findings] == [Status.NOT_APPLICABLE]
