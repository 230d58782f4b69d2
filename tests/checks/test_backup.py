"""BACKUP-PITR (AWS Backup plans) and DR-TEST (restore jobs). moto has backup plans but neither
ListBackupSelections nor ListRestoreJobs: those gaps must be errors (never passes), and the
real API shapes are exercised through botocore's Stubber. The declared
inventories and decisive fields are exercised on hand-written records."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY

from evidence.checks import backup
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
)
from tests.checks.estate import Estate, by_id, shape_errors, ts
from tests.conftest import RunFn

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
_PLAN = {"BackupPlanName": "daily", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default",
                                               "ScheduleExpression": "cron(0 5 ? * * *)"}]}


def test_no_backup_plan_fails(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    result = run_controls(run_evidence, tmp_path, ["BACKUP-PITR"])
    finding = by_resource(result, "aws.backup.plan_with_rule")[ROOT]
    assert finding.status is Status.FAIL
    assert finding.message == "The account has no AWS Backup plan in the in-scope regions."


def test_backup_selections_moto_gap_is_an_error(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    boto3.client("backup", region_name=REGION).create_backup_plan(BackupPlan=_PLAN)
    result = run_controls(run_evidence, tmp_path, ["BACKUP-PITR"])
    findings = [f for f in result.findings if f.check_id == "aws.backup.plan_with_rule"]
    assert {f.status for f in findings} == {Status.ERROR}
    account = by_resource(findings, "aws.backup.plan_with_rule")[ROOT]
    assert account.observed["plans"][0]["rules"] == 1 and account.observed["plans"][0]["selections"] == "unknown"
    cause = [f for f in findings if f.observed == "NotImplemented"]
    assert cause and "backup.ListBackupSelections" in cause[0].message


def _stub_plans(acct: StubbedAccount, rules: int, selections: int) -> str:
    plan_arn = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:plan-1"
    backup = acct.stub("backup")
    backup.add_response("list_backup_plans", {"BackupPlansList": [
        {"BackupPlanArn": plan_arn, "BackupPlanId": "plan-1", "BackupPlanName": "daily"}]}, {"MaxResults": 1000})
    backup.add_response("get_backup_plan", {"BackupPlanArn": plan_arn, "BackupPlanId": "plan-1", "BackupPlan": {
        "BackupPlanName": "daily",
        "Rules": [{"RuleName": f"r{i}", "TargetBackupVaultName": "Default"} for i in range(rules)],
    }}, {"BackupPlanId": "plan-1"})
    backup.add_response("list_backup_selections", {"BackupSelectionsList": [
        {"SelectionId": f"s{i}", "SelectionName": f"s{i}", "BackupPlanId": "plan-1",
         "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/backup"} for i in range(selections)]},
        {"BackupPlanId": "plan-1", "MaxResults": 1000})
    return plan_arn


def test_backup_plan_with_rule_and_selection_passes(tmp_path: Path, registry: Registry) -> None:
    acct = StubbedAccount(tmp_path)
    plan = _stub_plans(acct, rules=1, selections=2)
    index = acct.run("backup-plans", {"backup.ListBackupPlans", "backup.GetBackupPlan",
                                      "backup.ListBackupSelections"})
    acct.verify()
    (finding,) = judge_check(registry, "aws.backup.plan_with_rule", index, utc_now())
    assert finding.status is Status.PASS and finding.resource_id == ROOT
    assert finding.observed["plans"] == [{"plan": plan, "name": "daily", "region": REGION, "rules": 1,
                                          "selections": 2}]


def test_backup_plan_selecting_nothing_fails(tmp_path: Path, registry: Registry) -> None:
    acct = StubbedAccount(tmp_path)
    _stub_plans(acct, rules=1, selections=0)
    index = acct.run("backup-plans", {"backup.ListBackupPlans", "backup.GetBackupPlan",
                                      "backup.ListBackupSelections"})
    (finding,) = judge_check(registry, "aws.backup.plan_with_rule", index, utc_now())
    assert finding.status is Status.FAIL


def test_restore_jobs_moto_gap_is_an_error(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    result = run_controls(run_evidence, tmp_path, ["DR-TEST"])
    findings = [f for f in result.findings if f.check_id == "aws.backup.restore_tested"]
    assert findings and {f.status for f in findings} == {Status.ERROR}
    assert any("backup.ListRestoreJobs" in f.message and "does not implement" in f.message for f in findings)
    assert {v.control_id: v.verdict for v in result.verdicts}["DR-TEST"] is Status.ERROR


def _restore_index(tmp_path: Path, completed_days_ago: list[int]) -> Any:
    acct = StubbedAccount(tmp_path)
    now = utc_now()
    jobs = [{"RestoreJobId": f"job-{d}", "Status": "COMPLETED", "CreationDate": now - timedelta(days=d, hours=1),
             "CompletionDate": now - timedelta(days=d),
             "RecoveryPointArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:s"}
            for d in completed_days_ago]
    stub = acct.stub("backup")
    stub.add_response("list_restore_jobs", {"RestoreJobs": jobs},
                      {"ByStatus": "COMPLETED", "ByCompleteAfter": ANY, "MaxResults": 1000})
    index = acct.run("backup-restores", {"backup.ListRestoreJobs"})
    acct.verify()
    return index


def test_restore_within_a_year_passes(tmp_path: Path, registry: Registry) -> None:
    index = _restore_index(tmp_path, [400, 200, 30])
    (finding,) = judge_check(registry, "aws.backup.restore_tested", index, utc_now())
    assert finding.status is Status.PASS and finding.resource_id == ROOT
    assert finding.observed["completed_restores"] == 2 and finding.observed["latest_job"] == "job-30"


def test_only_old_restores_fail(tmp_path: Path, registry: Registry) -> None:
    index = _restore_index(tmp_path, [366, 500])
    (finding,) = judge_check(registry, "aws.backup.restore_tested", index, utc_now())
    assert finding.status is Status.FAIL and finding.observed == {"completed_restores": 0}
    # the window is a parameter
    (wider,) = judge_check(registry, "aws.backup.restore_tested", index, utc_now(), {"within_days": 400})
    assert wider.status is Status.PASS


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


def test_restore_job_without_completion_date_is_an_error_unless_another_proves_a_restore(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    restore_jobs(e, job={"RestoreJobId": "j1", "Status": "COMPLETED"})
    (finding,) = e.judge(backup.restore_tested)
    assert finding.status is Status.ERROR and "CompletionDate" in finding.message  # was: fail
    proven = Estate(tmp_path / "proven")
    restore_jobs(proven, job={"RestoreJobId": "j1", "Status": "COMPLETED"})
    restore_jobs(proven)
    assert [f.status for f in proven.judge(backup.restore_tested)] == [Status.PASS]
