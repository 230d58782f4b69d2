"""The AWS units of what faces the network, against botocore Stubber clients: load balancers'
listeners per load balancer, attributes of application load balancers only, and the TLS
policies in use described once, after every listener was read."""

from __future__ import annotations

from pathlib import Path

from tests.checks.awshelp import REGION, StubbedAccount

ARN = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer"
MODERN, LEGACY = "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-2016-08"


def test_tls_policies_in_use_are_described_once_after_every_listener(tmp_path: Path) -> None:
    web, edge = f"{ARN}/app/web/1", f"{ARN}/net/edge/2"
    acct = StubbedAccount(tmp_path)
    elbv2 = acct.stub("elbv2")
    elbv2.add_response("describe_load_balancers", {"LoadBalancers": [
        {"LoadBalancerArn": web, "Type": "application"}, {"LoadBalancerArn": edge, "Type": "network"}]},
        {"PageSize": 400})
    elbv2.add_response("describe_listeners", {"Listeners": [
        {"ListenerArn": f"{web}/l1", "SslPolicy": MODERN}, {"ListenerArn": f"{web}/l2", "SslPolicy": LEGACY},
        {"ListenerArn": f"{web}/l3"}]}, {"LoadBalancerArn": web, "PageSize": 400})
    elbv2.add_response("describe_listeners", {"Listeners": [{"ListenerArn": f"{edge}/l1", "SslPolicy": MODERN}]},
                       {"LoadBalancerArn": edge, "PageSize": 400})
    elbv2.add_response("describe_load_balancer_attributes", {"Attributes": []}, {"LoadBalancerArn": web})
    elbv2.add_response("describe_ssl_policies", {"SslPolicies": []}, {"Names": [LEGACY, MODERN]})
    index = acct.run("elbv2", {"elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners",
                               "elbv2.DescribeSSLPolicies", "elbv2.DescribeLoadBalancerAttributes"})
    acct.verify()
    assert sorted(e.subject for e in index.entries_for("elbv2.DescribeListeners")) == [web, edge]
    assert [e.subject for e in index.entries_for("elbv2.DescribeLoadBalancerAttributes")] == [web]
    (policies,) = index.iter("elbv2.DescribeSSLPolicies")
    assert policies.parameters["Names"] == [LEGACY, MODERN] and policies.region == REGION


def test_no_policy_call_when_only_the_load_balancers_are_wanted(tmp_path: Path) -> None:
    acct = StubbedAccount(tmp_path)
    acct.stub("elbv2").add_response("describe_load_balancers", {"LoadBalancers": [
        {"LoadBalancerArn": f"{ARN}/app/web/1", "Type": "application"}]}, {"PageSize": 400})
    index = acct.run("elbv2", {"elbv2.DescribeLoadBalancers"})
    acct.verify()
    assert [len(index.entries_for(k)) for k in ("elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners",
                                                 "elbv2.DescribeSSLPolicies")] == [1, 0, 0]
