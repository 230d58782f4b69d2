"""AWS units of what faces the network: load balancers and their TLS policies, CloudFront,
API Gateway domains, ACM certificates, security groups, WAFv2 web ACLs and Shield protections.

Each unit asks `c.wants(key)` before a call, so a run that judges only some controls makes
only the calls those checks read; per-resource calls fan out as further jobs (`c.fork_each`).
"""

from __future__ import annotations

import functools
import threading

from evidence.collectors.aws_calls import Caller, chunks
from evidence.collectors.aws_units import CHUNK, PAGE, Join
from evidence.sources.aws import LIST_PROTECTIONS, NO_SHIELD, split_key

_ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def elbv2(c: Caller) -> None:
    policies: set[str] = set()
    lock = threading.Lock()

    def describe_policies(last: Caller) -> None:
        # only the policies in use, in one call: their protocols decide, not their names
        if policies and last.wants("elbv2.DescribeSSLPolicies"):
            for _ in last.pages("elbv2", "DescribeSSLPolicies", Names=sorted(policies)):
                pass

    def listeners(lc: Caller, arns: list[str]) -> None:
        try:
            for arn in arns:
                for lpage in lc.pages("elbv2", "DescribeListeners", subject=arn, LoadBalancerArn=arn,
                                      page_size=PAGE["elbv2.DescribeListeners"]):
                    found = {li["SslPolicy"] for li in lpage.get("Listeners", []) if li.get("SslPolicy")}
                    with lock:
                        policies.update(found)
        finally:
            join.done(lc)

    join = Join(describe_policies)
    try:
        for page in c.pages("elbv2", "DescribeLoadBalancers", page_size=PAGE["elbv2.DescribeLoadBalancers"]):
            lbs = page.get("LoadBalancers", [])
            if c.wants("elbv2.DescribeListeners"):
                for chunk in chunks([lb["LoadBalancerArn"] for lb in lbs], CHUNK):
                    join.add()
                    c.fork(functools.partial(listeners, arns=chunk))
            if c.wants("elbv2.DescribeLoadBalancerAttributes"):
                albs = [lb["LoadBalancerArn"] for lb in lbs if lb.get("Type") == "application"]
                c.fork_each(albs, _elbv2_attributes, CHUNK)
    finally:
        join.done(c)


def _elbv2_attributes(c: Caller, arns: list[str]) -> None:
    for arn in arns:
        c.call("elbv2", "DescribeLoadBalancerAttributes", subject=arn, LoadBalancerArn=arn)


def elb(c: Caller) -> None:
    for page in c.pages("elb", "DescribeLoadBalancers", page_size=PAGE["elb.DescribeLoadBalancers"]):
        if not c.wants("elb.DescribeLoadBalancerPolicies"):
            continue
        secure = [
            lb["LoadBalancerName"] for lb in page.get("LoadBalancerDescriptions", [])
            if any(d.get("Listener", {}).get("Protocol", "").upper() in {"HTTPS", "SSL"}
                   for d in lb.get("ListenerDescriptions", []))
        ]
        c.fork_each(secure, _elb_policies, CHUNK)


def _elb_policies(c: Caller, names: list[str]) -> None:
    for name in names:
        c.call("elb", "DescribeLoadBalancerPolicies", subject=name, LoadBalancerName=name)


def cloudfront(c: Caller) -> None:
    for _ in c.pages("cloudfront", "ListDistributions"):
        pass


def apigateway(c: Caller) -> None:
    for _ in c.pages("apigateway", "GetDomainNames", page_size=PAGE["apigateway.GetDomainNames"]):
        pass


def apigatewayv2(c: Caller) -> None:
    for _ in c.pages("apigatewayv2", "GetDomainNames"):
        pass


def acm(c: Caller) -> None:
    for page in c.pages("acm", "ListCertificates", Includes={"keyTypes": _ALL_KEY_TYPES},
                        page_size=PAGE["acm.ListCertificates"]):
        if not c.wants("acm.DescribeCertificate"):
            continue
        arns = [s["CertificateArn"] for s in page.get("CertificateSummaryList", [])]
        c.fork_each(arns, _acm_describe, CHUNK)


def _acm_describe(c: Caller, arns: list[str]) -> None:
    for arn in arns:
        c.call("acm", "DescribeCertificate", subject=arn, CertificateArn=arn)


def ec2_security_groups(c: Caller) -> None:
    for _ in c.pages("ec2", "DescribeSecurityGroups", page_size=PAGE["ec2.DescribeSecurityGroups"]):
        pass


def _wafv2(c: Caller, scope: str) -> None:
    for page in c.marker_pages("wafv2", "ListWebACLs", marker_in="NextMarker", marker_out="NextMarker",
                               Scope=scope, Limit=PAGE["wafv2.ListWebACLs"]):
        acls = [(a["Name"], a["Id"], a["ARN"]) for a in page.get("WebACLs", [])]
        for name, acl_id, arn in acls:
            if c.wants("wafv2.GetWebACL"):
                c.call("wafv2", "GetWebACL", subject=arn, Name=name, Id=acl_id, Scope=scope)
            if scope == "REGIONAL" and c.wants("wafv2.ListResourcesForWebACL"):
                # CloudFront ACLs are found from the other side: each distribution names its ACL
                c.call("wafv2", "ListResourcesForWebACL", subject=arn, WebACLArn=arn,
                       ResourceType="APPLICATION_LOAD_BALANCER")


def wafv2_regional(c: Caller) -> None:
    _wafv2(c, "REGIONAL")


def wafv2_cloudfront(c: Caller) -> None:
    _wafv2(c, "CLOUDFRONT")


def shield(c: Caller) -> None:
    # without a Shield Advanced subscription (or with no protection) AWS answers
    # ResourceNotFoundException: that is "no protections", not a failure to look
    for _ in c.pages(*split_key(LIST_PROTECTIONS), page_size=PAGE[LIST_PROTECTIONS],
                     answers=frozenset({NO_SHIELD})):
        pass
