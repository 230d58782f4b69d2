"""FIREWALL, REDUNDANCY (load balancers), AUDIT-LOG, DDOS and RATE-LIMIT: moto where it has the
API, botocore Stubber for what it lacks (WAFv2 ListResourcesForWebACL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

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
from tests.conftest import RunFn

_VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}
_RATE_RULE = {"Name": "per-ip", "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": _VISIBILITY,
              "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}}}


def _subnets(region: str = REGION, zones: str = "ab") -> tuple[str, list[str]]:
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return vpc, [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]


def _alb(name: str, subnets: list[str], scheme: str = "internet-facing") -> str:
    elbv2 = boto3.client("elbv2", region_name=REGION)
    return str(elbv2.create_load_balancer(Name=name, Subnets=subnets, Scheme=scheme, Type="application")[
        "LoadBalancers"][0]["LoadBalancerArn"])


def test_security_groups_judged_on_open_ports(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc, _ = _subnets()

    def group(name: str, rules: list[dict[str, Any]]) -> str:
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        if rules:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        return f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{gid}"

    world = [{"CidrIp": "0.0.0.0/0"}]
    https = group("web", [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": world},
                          {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": world}])
    ssh = group("ssh", [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": world}])
    ssh6 = group("ssh6", [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                           "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    wide = group("wide", [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 443, "IpRanges": world}])
    everything = group("everything", [{"IpProtocol": "-1", "IpRanges": world}])
    internal = group("internal", [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                   "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    result = run_controls(run_evidence, tmp_path, ["FIREWALL"])
    found = by_resource(result, "aws.ec2.security_group_public_ingress")
    expected = {https: Status.PASS, ssh: Status.FAIL, ssh6: Status.FAIL, wide: Status.FAIL,
                everything: Status.FAIL, internal: Status.PASS}
    assert {k: found[k].status for k in expected} == expected
    assert found[ssh].observed == ["tcp/22 from 0.0.0.0/0"]
    assert found[ssh6].observed == ["tcp/22 from ::/0"]
    assert found[wide].observed == ["tcp/80-443 from 0.0.0.0/0"]
    assert found[everything].observed == ["all traffic from 0.0.0.0/0"]
    assert found[ssh].expected == "no ingress from 0.0.0.0/0 or ::/0 except ports [80, 443]"


def test_public_ports_parameter_is_honoured(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    gid = ec2.create_security_group(GroupName="bastion", Description="b")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    config = {"aws": {"regions": [REGION]}, "controls": {"FIREWALL": {"public_ports": [22, 443]}}}
    result = run_controls(run_evidence, tmp_path, ["FIREWALL"], config)
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{gid}"
    assert statuses(result, "aws.ec2.security_group_public_ingress")[arn] is Status.PASS


def test_default_security_groups_must_be_empty(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc, _ = _subnets()
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    emptied = next(g for g in groups if g["VpcId"] == vpc)
    ec2.revoke_security_group_egress(GroupId=emptied["GroupId"], IpPermissions=emptied["IpPermissionsEgress"])
    if emptied["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=emptied["GroupId"], IpPermissions=emptied["IpPermissions"])

    result = run_controls(run_evidence, tmp_path, ["FIREWALL"])
    found = by_resource(result, "aws.ec2.default_security_group_no_rules")
    assert len(found) == len(groups) == 2
    emptied_arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{emptied['GroupId']}"
    assert found.pop(emptied_arn).status is Status.PASS
    (other,) = found.values()
    assert other.status is Status.FAIL and other.observed["outbound_rules"] >= 1


def test_load_balancers_across_availability_zones(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    _, two = _subnets()
    spread = _alb("spread", two)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    single = str(elbv2.create_load_balancer(Name="single", Subnets=two[:1], Scheme="internal", Type="network")[
        "LoadBalancers"][0]["LoadBalancerArn"])
    elb = boto3.client("elb", region_name=REGION)
    listener = [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}]
    elb.create_load_balancer(LoadBalancerName="classic-two", Listeners=listener,
                             AvailabilityZones=[f"{REGION}a", f"{REGION}b"])
    elb.create_load_balancer(LoadBalancerName="classic-one", Listeners=listener, AvailabilityZones=[f"{REGION}a"])

    result = run_controls(run_evidence, tmp_path, ["REDUNDANCY"])
    assert statuses(result, "aws.elbv2.multi_az") == {spread: Status.PASS, single: Status.FAIL}
    classic = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/classic-"
    assert statuses(result, "aws.elb.multi_az") == {classic + "two": Status.PASS, classic + "one": Status.FAIL}


def test_cloudtrail_and_alb_access_logs(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="audit-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    trail = boto3.client("cloudtrail", region_name=REGION)
    trail.create_trail(Name="everywhere", S3BucketName="audit-logs", IsMultiRegionTrail=True,
                       EnableLogFileValidation=True)
    trail.start_logging(Name="everywhere")
    _, subnets = _subnets()
    logged, silent = _alb("logged", subnets), _alb("silent", subnets)
    boto3.client("elbv2", region_name=REGION).modify_load_balancer_attributes(LoadBalancerArn=logged, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": "audit-logs"}])

    result = run_controls(run_evidence, tmp_path, ["AUDIT-LOG"])
    assert statuses(result, "aws.elbv2.alb_access_logs") == {logged: Status.PASS, silent: Status.FAIL}
    (ct,) = by_resource(result, "aws.cloudtrail.multi_region_trail").values()
    assert ct.status is Status.PASS and ct.account == ACCOUNT
    assert ct.observed["trails"][0]["trail"] == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/everywhere"

    trail.stop_logging(Name="everywhere")
    trail.create_trail(Name="local-only", S3BucketName="audit-logs", EnableLogFileValidation=True)
    trail.start_logging(Name="local-only")
    (ct,) = by_resource(run_controls(run_evidence, tmp_path, ["AUDIT-LOG"]),
                        "aws.cloudtrail.multi_region_trail").values()
    assert ct.status is Status.FAIL
    assert {t["trail"].rsplit("/", 1)[-1]: t["logging"] for t in ct.observed["trails"]} == {"everywhere": False}


def test_no_trail_at_all_fails(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    (ct,) = by_resource(run_controls(run_evidence, tmp_path, ["AUDIT-LOG"]),
                        "aws.cloudtrail.multi_region_trail").values()
    assert ct.status is Status.FAIL and ct.message == "The account has no trail."


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
