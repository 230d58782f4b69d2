"""Declared inventories of the Backup, CloudTrail, IAM, WAF/Shield and residency checks, judged
exactly as a run judges them (`run_check`) on hand-written evidence records:

- a listing page whose items sit under an unexpected key is an `error` naming the page and the
  declared path, never `not_applicable`, and never the "nothing there" verdict (`fail` for "no
  backup plan", "no trail", "no protection"...);
- a decisive field missing (or of the wrong type) is an `error` for that resource, naming the
  field, where a default used to decide (often as a pass or a fail);
- every listed resource gets a finding: a verdict, an error, or a skip that says why;
- the parameters are typed models that keep the catalog's names and defaults.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog import load_catalog
from evidence.checks import backup, cloudtrail, iam, residency, wafv2
from evidence.checks.base import Check
from evidence.checks.params import problem as param_problem
from evidence.judge import Judging, run_check
from evidence.models import CollectionError, EvidenceRecord, Finding, Status
from evidence.records import EvidenceWriter

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)
ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
REGION = "eu-west-2"
US = "us-east-1"


class Estate:
    """Evidence records written as the collector writes them, judged one check at a time."""

    def __init__(self, tmp_path: Path) -> None:
        self.writer = EvidenceWriter(tmp_path / "bundle")
        self.n = 0

    def add(self, key: str, response: Any, *, subject: str = "", region: str = REGION, error: str = "") -> str:
        service, operation = key.split(".")
        self.n += 1
        return self.writer.write(EvidenceRecord(
            source="aws", service=service, operation=operation, parameters={"call": self.n}, account=ACCOUNT,
            region=region, subject=subject, collected_at="2026-11-30T08:00:00Z",
            response=None if error else response,
            error=CollectionError(code=error, message="denied") if error else None,
        ))

    def judge(self, chk: Check, **params: Any) -> list[Finding]:
        catalog = load_catalog()
        control = next(c for c in catalog.controls.values() if any(r.id == chk.id for r in c.checks))
        judging = Judging(reference_time=NOW, catalog=catalog, sources={"aws": None},
                          params={control.id: {chk.id: {**chk.params, **params}}})
        return run_check(chk, control.id, judging, self.writer.index())


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in findings:
        assert f.resource_id not in out, f"two findings for {f.resource_id}: {findings}"
        out[f.resource_id] = f
    return out


def shape_errors(findings: list[Finding], page: str, path: str) -> list[Finding]:
    """The judge's findings for `page` not holding its items at `path`."""
    return [f for f in findings if f.status is Status.ERROR and page in f.message and f"({path})" in f.message]


def ts(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- estates ---------------------------------------------------------------------------------

PLAN = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:p1"


def backup_plans(e: Estate, key: str = "BackupPlansList") -> str:
    page = e.add("backup.ListBackupPlans", {key: [{"BackupPlanArn": PLAN, "BackupPlanId": "p1",
                                                   "BackupPlanName": "daily"}]})
    e.add("backup.GetBackupPlan", {"BackupPlan": {"BackupPlanName": "daily", "Rules": [{"RuleName": "r"}]}},
          subject=PLAN)
    e.add("backup.ListBackupSelections", {"BackupSelectionsList": [{"SelectionId": "s"}]}, subject=PLAN)
    return page


def restore_jobs(e: Estate, key: str = "RestoreJobs", job: dict[str, Any] | None = None) -> str:
    return e.add("backup.ListRestoreJobs", {key: [job or {"RestoreJobId": "j1", "Status": "COMPLETED",
                                                          "CompletionDate": ts(30)}]})


TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/all"


def trails(e: Estate, key: str = "trailList", trail: dict[str, Any] | None = None,
           status: dict[str, Any] | None = None) -> str:
    page = e.add("cloudtrail.DescribeTrails", {key: [trail or {
        "TrailARN": TRAIL, "Name": "all", "IsMultiRegionTrail": True, "LogFileValidationEnabled": True}]},
        region=US)
    e.add("cloudtrail.GetTrailStatus", {"IsLogging": True} if status is None else status, subject=TRAIL)
    return page


def user_row(name: str, **fields: str) -> dict[str, str]:
    row = dict.fromkeys(("password_last_used", "password_last_changed", "access_key_1_last_rotated",
                         "access_key_1_last_used_date", "access_key_2_last_rotated",
                         "access_key_2_last_used_date"), "N/A")
    row.update(user=name, arn=f"arn:aws:iam::{ACCOUNT}:user/{name}", user_creation_time=ts(10),
               password_enabled="true", mfa_active="true", access_key_1_active="false", access_key_2_active="false")
    row.update(fields)
    return row


def credential_report(e: Estate, rows: list[dict[str, str]], key: str = "Rows",
                      summary: dict[str, Any] | None = None) -> str:
    e.add("iam.GenerateCredentialReport", {"State": "COMPLETE"}, region=US)
    e.add("iam.GetAccountSummary", {"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}}
          if summary is None else summary, region=US)
    return e.add("iam.GetCredentialReport", {"ReportFormat": "text/csv", key: rows}, region=US)


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


# --- a page of the wrong shape is an error, never "nothing there" ------------------------------


def test_backup_plans_under_an_unexpected_key_are_an_error_not_no_plan(tmp_path: Path) -> None:
    good, bad = Estate(tmp_path / "good"), Estate(tmp_path / "bad")
    backup_plans(good)
    (passed,) = good.judge(backup.plan_with_rule)
    assert passed.status is Status.PASS and passed.resource_id == ROOT

    page = backup_plans(bad, key="Plans")
    findings = bad.judge(backup.plan_with_rule)
    assert shape_errors(findings, page, "BackupPlansList")
    assert by_id(findings)[ROOT].status is Status.ERROR  # was: fail, "no AWS Backup plan"
    assert {f.status for f in findings} == {Status.ERROR}


def test_restore_jobs_under_an_unexpected_key_are_an_error_not_no_restore(tmp_path: Path) -> None:
    good, bad = Estate(tmp_path / "good"), Estate(tmp_path / "bad")
    restore_jobs(good)
    assert [f.status for f in good.judge(backup.restore_tested)] == [Status.PASS]
    page = restore_jobs(bad, key="Jobs")
    findings = bad.judge(backup.restore_tested)
    assert shape_errors(findings, page, "RestoreJobs")
    assert {f.status for f in findings} == {Status.ERROR}


def test_trails_under_an_unexpected_key_are_an_error_not_no_trail(tmp_path: Path) -> None:
    good, bad = Estate(tmp_path / "good"), Estate(tmp_path / "bad")
    trails(good)
    assert [f.status for f in good.judge(cloudtrail.multi_region_trail)] == [Status.PASS]
    page = trails(bad, key="Trails")
    findings = bad.judge(cloudtrail.multi_region_trail)
    assert shape_errors(findings, page, "trailList")
    assert by_id(findings)[ROOT].status is Status.ERROR  # was: fail, "The account has no trail."


@pytest.mark.parametrize("chk", [iam.console_users_mfa, iam.users_inactive, iam.access_key_age,
                                 iam.root_mfa, iam.root_no_access_keys])
def test_credential_report_rows_under_an_unexpected_key_are_an_error(tmp_path: Path, chk: Check) -> None:
    e = Estate(tmp_path)
    page = credential_report(e, [user_row("alice", access_key_1_active="true", access_key_1_last_rotated=ts(5))],
                             key="rows")
    findings = e.judge(chk)
    assert shape_errors(findings, page, "Rows"), findings
    assert Status.NOT_APPLICABLE not in {f.status for f in findings}


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


@pytest.mark.parametrize(("chk", "key", "response", "path"), [
    (residency.instance_residency, "ec2.DescribeInstances", {"Reservation": []}, "Reservations[].Instances"),
    (residency.regions_examined, "ec2.DescribeRegions", {"RegionList": []}, "Regions"),
    (residency.bucket_residency, "s3.ListBuckets", {"Bucket": [{"Name": "b"}]}, "Buckets"),
    (residency.table_residency, "dynamodb.ListTables", {"Tables": ["t"]}, "TableNames"),
])
def test_residency_listings_under_an_unexpected_key_are_errors(
    tmp_path: Path, chk: Check, key: str, response: dict[str, Any], path: str
) -> None:
    e = Estate(tmp_path)
    page = e.add(key, response)
    findings = e.judge(chk)
    assert findings and {f.status for f in findings} == {Status.ERROR}, findings
    if key == "ec2.DescribeRegions":  # one record per account: the field, read for the account
        assert f"field '{path}' in {page} is missing" in findings[0].message
    else:
        assert shape_errors(findings, page, path)


# --- a decisive field missing is an error for that resource ------------------------------------


def test_credential_report_flags_are_read_strictly(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    rows = [user_row("ok"), user_row("no-mfa-column"), user_row("odd-flag", mfa_active="yes")]
    del rows[1]["mfa_active"]
    credential_report(e, rows)
    found = by_id(e.judge(iam.console_users_mfa))
    user = f"arn:aws:iam::{ACCOUNT}:user/"
    assert found[user + "ok"].status is Status.PASS
    assert found[user + "no-mfa-column"].status is Status.ERROR  # was: fail (absent read as "false")
    assert "field 'Rows[1].mfa_active'" in found[user + "no-mfa-column"].message
    assert found[user + "odd-flag"].status is Status.ERROR
    assert "'yes' (expected 'true' or 'false')" in found[user + "odd-flag"].message


def test_every_credential_report_row_gets_a_finding(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    rows = [user_row("<root_account>", arn=ROOT, password_enabled="not_supported"),
            user_row("console"), user_row("api", password_enabled="false", access_key_1_active="true",
                                          access_key_1_last_rotated=ts(5), access_key_1_last_used_date=ts(1)),
            user_row("nothing", password_enabled="false")]
    credential_report(e, rows)
    for chk in (iam.console_users_mfa, iam.users_inactive, iam.access_key_age):
        found = by_id(e.judge(chk))
        assert len(found) == len(rows) and ROOT in found, chk.id
        assert {f.status for f in found.values()} <= {Status.PASS, Status.NOT_APPLICABLE}, chk.id
        assert all(f.message.startswith("Not judged by this check: ") for f in found.values()
                   if f.status is Status.NOT_APPLICABLE)


def test_root_checks_need_the_summary_or_a_readable_root_row(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    credential_report(e, [user_row("<root_account>", arn=ROOT, password_enabled="not_supported", mfa_active="")],
                      summary={"SummaryMap": {"Users": 1}})
    (mfa,) = e.judge(iam.root_mfa)
    assert mfa.status is Status.ERROR and mfa.resource_id == ROOT  # was: fail ("" read as "false")
    assert "mfa_active" in mfa.message
    no_map = Estate(tmp_path / "no-map")
    credential_report(no_map, [], summary={"Summary": {}})
    (finding,) = no_map.judge(iam.root_mfa)
    assert finding.status is Status.ERROR and "field 'SummaryMap'" in finding.message


def test_trail_fields_are_decisive(tmp_path: Path) -> None:
    no_flag = Estate(tmp_path / "flag")
    trails(no_flag, trail={"TrailARN": TRAIL, "Name": "all", "LogFileValidationEnabled": True})
    (finding,) = no_flag.judge(cloudtrail.multi_region_trail)
    assert finding.status is Status.ERROR and "IsMultiRegionTrail" in finding.message  # was: fail

    no_logging = Estate(tmp_path / "logging")
    trails(no_logging, status={"LatestDeliveryTime": ts(0)})
    (finding,) = no_logging.judge(cloudtrail.multi_region_trail)
    assert finding.status is Status.ERROR and "field 'IsLogging'" in finding.message  # was: fail


def test_restore_job_without_completion_date_is_an_error_unless_another_proves_a_restore(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    restore_jobs(e, job={"RestoreJobId": "j1", "Status": "COMPLETED"})
    (finding,) = e.judge(backup.restore_tested)
    assert finding.status is Status.ERROR and "CompletionDate" in finding.message  # was: fail
    proven = Estate(tmp_path / "proven")
    restore_jobs(proven, job={"RestoreJobId": "j1", "Status": "COMPLETED"})
    restore_jobs(proven)
    assert [f.status for f in proven.judge(backup.restore_tested)] == [Status.PASS]


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


def test_a_bucket_location_without_its_field_is_an_error_not_us_east_1(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("s3.ListBuckets", {"Buckets": [{"Name": "data"}, {"Name": "virginia"}]}, region=US)
    e.add("s3.GetBucketLocation", {}, subject="arn:aws:s3:::data", region=US)
    e.add("s3.GetBucketLocation", {"LocationConstraint": None}, subject="arn:aws:s3:::virginia", region=US)
    found = by_id(e.judge(residency.bucket_residency, allowed_regions=[US]))
    assert found["arn:aws:s3:::data"].status is Status.ERROR  # was: pass (absent read as us-east-1)
    assert "LocationConstraint" in found["arn:aws:s3:::data"].message
    assert found["arn:aws:s3:::virginia"].status is Status.PASS  # null is us-east-1, as AWS says


def test_the_instances_of_every_reservation_are_judged_one_by_one(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("ec2.DescribeInstances", {"Reservations": [
        {"ReservationId": "r-1", "Instances": [
            {"InstanceId": "i-live", "State": {"Name": "running"}},
            {"InstanceId": "i-gone", "State": {"Name": "terminated"}},
            {"InstanceId": "i-stateless"}]},
        {"ReservationId": "r-2", "Instances": [{"InstanceId": "i-other", "State": {"Name": "stopped"}}]}]})
    found = by_id(e.judge(residency.instance_residency))
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
    assert {k: f.status for k, f in found.items()} == {
        arn + "i-live": Status.PASS, arn + "i-gone": Status.NOT_APPLICABLE, arn + "i-stateless": Status.ERROR,
        arn + "i-other": Status.PASS}
    assert "Reservations[0].Instances[2].State" in found[arn + "i-stateless"].message
    assert "terminated" in found[arn + "i-gone"].message


def test_a_reservation_without_its_instances_is_an_error_naming_it(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    page = e.add("ec2.DescribeInstances", {"Reservations": [{"ReservationId": "r-1", "Instance": []}]})
    (finding,) = e.judge(residency.instance_residency)
    assert finding.status is Status.ERROR and finding.evidence == [page]
    assert "Reservations[0] has no 'Instances'" in finding.message


def test_rds_cluster_members_are_skipped_with_their_cluster_named(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("rds.DescribeDBInstances", {"DBInstances": [
        {"DBInstanceArn": "arn:db:solo", "DBInstanceIdentifier": "solo"},
        {"DBInstanceArn": "arn:db:member", "DBInstanceIdentifier": "member", "DBClusterIdentifier": "aurora"}]},
        region=US)
    e.add("rds.DescribeDBClusters", {"DBClusters": [{"DBClusterArn": "arn:cluster:aurora",
                                                     "DBClusterIdentifier": "aurora"}]}, region=US)
    found = by_id(e.judge(residency.rds_residency))
    assert {k: f.status for k, f in found.items()} == {
        "arn:db:solo": Status.FAIL, "arn:db:member": Status.NOT_APPLICABLE, "arn:cluster:aurora": Status.FAIL}
    assert "DB cluster aurora" in found["arn:db:member"].message


# --- CloudFront's empty list (Items left out, Quantity 0) ---------------------------------------


def test_an_account_without_distributions_is_not_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Marker": "", "MaxItems": 100,
                                                                "IsTruncated": False, "Quantity": 0}}, region=US)
    e.add("shield.ListProtections", {"Protections": []}, region=US)
    findings = e.judge(wafv2.cloudfront_ddos_protection)
    assert [f.status for f in findings] == [Status.NOT_APPLICABLE]


# --- typed parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(("chk", "name", "bad"), [
    (backup.restore_tested, "within_days", -1),
    (backup.restore_tested, "within_days", 401),
    (iam.users_inactive, "max_inactive_days", "90"),
    (iam.access_key_age, "max_key_age_days", 0),
    (residency.bucket_residency, "allowed_regions", ["London"]),
    (residency.rds_residency, "allowed_regions", "eu-west-2"),
])
def test_parameters_are_typed_and_bounded(chk: Check, name: str, bad: Any) -> None:
    problem = param_problem(chk.param_model, {name: bad})
    assert problem is not None and problem[0].split(".")[0] == name


def test_catalog_parameters_keep_their_names_and_defaults() -> None:
    catalog = load_catalog()
    for chk in (backup.restore_tested, iam.users_inactive, iam.access_key_age, residency.bucket_residency,
                residency.rds_residency, residency.table_residency, residency.volume_residency,
                residency.instance_residency):
        refs = [r for c in catalog.controls.values() for r in c.checks if r.id == chk.id]
        assert refs, chk.id
        for ref in refs:
            assert param_problem(chk.param_model, ref.params) is None, chk.id
            assert {k: v for k, v in chk.params.items() if k in ref.params} == ref.params, chk.id
