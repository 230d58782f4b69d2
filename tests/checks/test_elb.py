"""ELBv2 and classic ELB listener checks, judged from moto-served evidence."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import boto3
import pytest

from evidence.models import Finding, Status
from tests.conftest import RunFn

REGION = "eu-west-2"


def _alb(policies: list[str]) -> dict[str, str]:
    """One internet-facing ALB per policy, each with an HTTPS listener on it; listener ARN -> policy."""
    ec2 = boto3.client("ec2", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    acm = boto3.client("acm", region_name=REGION)
    from evidence.demo.certificates import make_certificate

    cert, key = make_certificate("lb.example.com")
    cert_arn = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    tg = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    out: dict[str, str] = {}
    for i, policy in enumerate(policies):
        lb = elbv2.create_load_balancer(Name=f"lb{i}", Subnets=subnets, Scheme="internet-facing")["LoadBalancers"][0]
        listener = elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, SslPolicy=policy,
            Certificates=[{"CertificateArn": cert_arn}], DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
        )["Listeners"][0]
        out[listener["ListenerArn"]] = policy
    return out


def _by_resource(findings: list[Finding], check_id: str) -> dict[str, Finding]:
    return {f.resource_id: f for f in findings if f.check_id == check_id}


def test_weak_policy_fails_naming_tlsv1_and_modern_policies_pass(mocked_aws: None, run_evidence: RunFn) -> None:
    policies = boto3.client("elbv2", region_name=REGION).describe_ssl_policies()["SslPolicies"]
    post_quantum = [p["Name"] for p in policies if "PQ" in p["Name"]]
    # every post-quantum policy moto knows; the one that still allows TLS 1.0 (TLS13-1-0-PQ) must fail
    legacy_pq = {p["Name"] for p in policies if "PQ" in p["Name"] and "TLSv1" in p["SslProtocols"]}
    assert len(post_quantum) >= 5 and legacy_pq == {"ELBSecurityPolicy-TLS13-1-0-PQ-2025-09"}
    listeners = _alb(["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-2-2021-06", *post_quantum])

    result = run_evidence({"aws": {"regions": [REGION]}}, only={"aws"})
    judged = _by_resource(result.findings, "aws.elbv2.listener_tls_min_version")
    assert set(judged) == set(listeners)
    for arn, policy in listeners.items():
        finding = judged[arn]
        if policy == "ELBSecurityPolicy-2016-08" or policy in legacy_pq:
            assert finding.status is Status.FAIL
            assert "TLSv1" in finding.observed["protocols"]
            assert "TLSv1" in finding.message
        else:
            assert finding.status is Status.PASS, (policy, finding.observed)
        assert finding.account and finding.region == REGION and finding.evidence
    verdict = {v.control_id: v.verdict for v in result.verdicts}
    assert verdict["ENC-TRANSIT"] is Status.FAIL


def _string_literals(path: Path) -> list[str]:
    """Every string constant in the code, docstrings excluded."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_no_policy_name_is_written_in_the_checks() -> None:
    checks = Path(__file__).resolve().parents[2] / "src" / "evidence" / "checks"
    for path in checks.glob("*.py"):
        for literal in _string_literals(path):
            assert not re.search(r"ELBSecurityPolicy|TLSv1\.\d_20\d\d|SecurityPolicy_TLS|TLS_1_\d", literal), (
                path, literal)


def test_http_listener_must_redirect_on_internet_facing_alb(mocked_aws: None, run_evidence: RunFn) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    tg = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    public = elbv2.create_load_balancer(Name="public", Subnets=subnets, Scheme="internet-facing")["LoadBalancers"][0]
    internal = elbv2.create_load_balancer(Name="internal", Subnets=subnets, Scheme="internal")["LoadBalancers"][0]
    redirect = elbv2.create_listener(
        LoadBalancerArn=public["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                                "StatusCode": "HTTP_301"}}],
    )["Listeners"][0]["ListenerArn"]
    plain = elbv2.create_listener(
        LoadBalancerArn=public["LoadBalancerArn"], Protocol="HTTP", Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    elbv2.create_listener(
        LoadBalancerArn=internal["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    result = run_evidence({"aws": {"regions": [REGION]}}, only={"aws"})
    found = _by_resource(result.findings, "aws.elbv2.http_redirects_to_https")
    judged = {rid: f for rid, f in found.items() if f.status is not Status.NOT_APPLICABLE}
    assert set(judged) == {redirect, plain}
    # the internal balancer's listener is listed, and left out with its reason
    (skipped,) = [f for f in found.values() if f.status is Status.NOT_APPLICABLE]
    assert "internal application load balancer" in skipped.message
    assert judged[redirect].status is Status.PASS
    assert judged[plain].status is Status.FAIL
    assert judged[plain].observed["default_actions"] == ["forward"]


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"Protocol-TLSv1": "true", "Protocol-TLSv1.1": "false", "Protocol-TLSv1.2": "true"}, Status.FAIL),
        ({"Protocol-SSLv3": "false", "Protocol-TLSv1": "false", "Protocol-TLSv1.2": "true"}, Status.PASS),
    ],
)
def test_classic_elb_negotiation_policy(
    mocked_aws: None, run_evidence: RunFn, attributes: dict[str, str], expected: Status
) -> None:
    elb = boto3.client("elb", region_name=REGION)
    elb.create_load_balancer(
        LoadBalancerName="classic",
        Listeners=[{"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstanceProtocol": "HTTP", "InstancePort": 80,
                    "SSLCertificateId": "arn:aws:iam::123456789012:server-certificate/x"}],
        AvailabilityZones=[f"{REGION}a"],
    )
    elb.create_load_balancer_policy(
        LoadBalancerName="classic", PolicyName="neg", PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[{"AttributeName": k, "AttributeValue": v} for k, v in attributes.items()],
    )
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="classic", LoadBalancerPort=443, PolicyNames=["neg"])
    result = run_evidence({"aws": {"regions": [REGION]}}, only={"aws"})
    (finding,) = [f for f in result.findings if f.check_id == "aws.elb.listener_tls_min_version"]
    assert finding.status is expected
    assert finding.resource_id.startswith("arn:aws:elasticloadbalancing:eu-west-2:")
    if expected is Status.FAIL:
        assert "TLSv1" in finding.observed["443"]["enabled_protocols"]


def test_plain_http_on_an_internet_facing_classic_load_balancer_fails(mocked_aws: None, run_evidence: RunFn) -> None:
    # found by running Prowler's own test cases: such a listener was judged nowhere
    elb = boto3.client("elb", region_name=REGION)
    http = [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}]
    elb.create_load_balancer(LoadBalancerName="public", Listeners=http, AvailabilityZones=[f"{REGION}a"])
    elb.create_load_balancer(LoadBalancerName="private", Listeners=http, AvailabilityZones=[f"{REGION}a"],
                             Scheme="internal")
    result = run_evidence({"aws": {"regions": [REGION]}}, only={"aws"})
    found = {f.resource_id.rsplit("/", 1)[-1]: f for f in result.findings if f.check_id == "aws.elb.http_listeners"}
    assert found["public"].status is Status.FAIL and found["public"].control_id == "ENC-TRANSIT"
    assert "plain HTTP on port(s) 80" in found["public"].message
    assert found["private"].status is Status.NOT_APPLICABLE and "internal" in found["private"].message
    tls = {f.resource_id.rsplit("/", 1)[-1]: f for f in result.findings
           if f.check_id == "aws.elb.listener_tls_min_version"}
    assert {k: f.status for k, f in tls.items()} == {"public": Status.NOT_APPLICABLE, "private": Status.NOT_APPLICABLE}
    verdict = {v.control_id: v.verdict for v in result.verdicts}["ENC-TRANSIT"]
    assert verdict is Status.FAIL


def test_an_unreadable_ssl_policy_is_an_error_for_its_listeners_only(tmp_path: Path) -> None:
    """Found by the shape fuzz: one policy without `SslProtocols` used to stop the whole check,
    leaving every listener unjudged; now only the listeners using it are errors."""
    from evidence.checks import elb
    from tests.checks.awshelp import ACCOUNT, REGION
    from tests.checks.estate import Estate

    e = Estate(tmp_path)
    lb = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/1"
    e.add("elbv2.DescribeLoadBalancers", {"LoadBalancers": [{"LoadBalancerArn": lb, "Type": "application",
                                                              "Scheme": "internet-facing"}]})
    listeners = [{"ListenerArn": f"{lb}/l{n}", "LoadBalancerArn": lb, "Protocol": "HTTPS", "Port": 443 + n,
                  "SslPolicy": policy} for n, policy in enumerate(("strong", "odd"))]
    e.add("elbv2.DescribeListeners", {"Listeners": listeners}, subject=lb)
    policies = e.add("elbv2.DescribeSSLPolicies", {"SslPolicies": [
        {"Name": "strong", "SslProtocols": ["TLSv1.2"]}, {"Name": "odd"}]})
    found = {f.resource_id: f for f in e.judge(elb.listener_tls_min_version)}
    assert found[f"{lb}/l0"].status is Status.PASS
    odd = found[f"{lb}/l1"]
    assert odd.status is Status.ERROR and "SslProtocols" in odd.message and policies in odd.evidence
    assert set(found) == {f"{lb}/l0", f"{lb}/l1"}
