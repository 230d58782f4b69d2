"""ACCESS-LIFECYCLE (IAM), ROOT-ACCOUNT and KEY-ROTATION from the credential report and the
account summary. moto's report has no root row and its AccountMFAEnabled is always 0, so the
root paths are also exercised with botocore's Stubber against AWS's real report format. The report's
declared inventory and decisive fields are exercised on hand-written records."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from evidence.checks import iam
from evidence.checks.base import Check
from evidence.models import Finding, Status, utc_now
from evidence.registry import Registry
from evidence.runner import RunResult
from tests.checks.awshelp import (
    ACCOUNT,
    StubbedAccount,
    by_resource,
    judge_check,
    no_default_amis,  # noqa: F401  (autouse)
    run_controls,
    statuses,
)
from tests.checks.estate import US, Estate, by_id, shape_errors, ts
from tests.conftest import RunFn

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
_COLUMNS = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
    "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
    "access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
).split(",")


def _user(name: str, **fields: str) -> dict[str, str]:
    row = dict.fromkeys(_COLUMNS, "N/A")
    row.update(user=name, arn=f"arn:aws:iam::{ACCOUNT}:user/{name}", password_enabled="false", mfa_active="false",
               access_key_1_active="false", access_key_2_active="false", cert_1_active="false",
               cert_2_active="false")
    row.update(fields)
    return row


def _report(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _ts(now: datetime, days_ago: int) -> str:
    return (now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def judged(result: RunResult | list[Finding], check_id: str) -> dict[str, Status]:
    """Statuses of the rows a check judged (its explicit skips left out)."""
    return {k: v for k, v in statuses(result, check_id).items() if v is not Status.NOT_APPLICABLE}


def skipped(result: RunResult | list[Finding], check_id: str) -> dict[str, str]:
    """Resource -> message of each row a check left out on purpose."""
    return {k: f.message for k, f in by_resource(result, check_id).items() if f.status is Status.NOT_APPLICABLE}


def test_console_users_need_mfa_on_moto(mocked_aws: None, run_evidence: RunFn, tmp_path: Path) -> None:
    iam = boto3.client("iam")
    for name in ("alice", "bob", "ci-bot"):
        iam.create_user(UserName=name)
    for name in ("alice", "bob"):
        iam.create_login_profile(UserName=name, Password="Not-a-real-password-1")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    iam.create_access_key(UserName="ci-bot")

    result = run_controls(run_evidence, tmp_path, ["ACCESS-LIFECYCLE", "ROOT-ACCOUNT", "KEY-ROTATION"])
    user = f"arn:aws:iam::{ACCOUNT}:user/"
    assert judged(result, "aws.iam.console_users_mfa") == {user + "alice": Status.PASS, user + "bob": Status.FAIL}
    # every row of the report is accounted for: ci-bot has no console password, and says so
    assert skipped(result, "aws.iam.console_users_mfa") == {
        user + "ci-bot": "Not judged by this check: no console password."}
    # everyone was just created: nobody is idle, the key is young
    assert set(statuses(result, "aws.iam.users_inactive").values()) == {Status.PASS}
    assert judged(result, "aws.iam.access_key_age") == {user + "ci-bot": Status.PASS}
    assert set(skipped(result, "aws.iam.access_key_age")) == {user + "alice", user + "bob"}
    # moto reports AccountMFAEnabled = 0 (it cannot enable root MFA): a fail, never a pass
    root_mfa = by_resource(result, "aws.iam.root_mfa")[ROOT]
    assert root_mfa.status is Status.FAIL and root_mfa.observed == {"AccountMFAEnabled": 0}
    assert statuses(result, "aws.iam.root_no_access_keys") == {ROOT: Status.PASS}
    # the report is stored as rows: JSON, no base64 blob, and nothing secret in it
    bundle = result.bundle
    assert bundle is not None
    (record,) = [json.loads(p.read_text()) for p in bundle.rglob("iam/GetCredentialReport-*.json")]
    assert "Content" not in record["response"]
    assert {r["user"] for r in record["response"]["Rows"]} == {"alice", "bob", "ci-bot"}
    assert "Not-a-real-password-1" not in json.dumps(record)


def _stubbed_report(tmp_path: Path, rows: list[dict[str, str]], summary: dict[str, int]) -> StubbedAccount:
    acct = StubbedAccount(tmp_path)
    iam = acct.stub("iam", "us-east-1")
    iam.add_response("get_account_summary", {"SummaryMap": summary}, {})
    iam.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    iam.add_response("get_credential_report", {"Content": _report(rows), "ReportFormat": "text/csv",
                                               "GeneratedTime": utc_now()}, {})
    return acct


_ALL_IAM = {"iam.GetAccountSummary", "iam.GenerateCredentialReport", "iam.GetCredentialReport"}


def test_idle_users_and_old_keys_from_the_report(tmp_path: Path, registry: Registry) -> None:
    now = utc_now()
    rows = [
        _user("<root_account>", arn=ROOT, user_creation_time=_ts(now, 2000), password_enabled="not_supported",
              mfa_active="true"),
        _user("active", user_creation_time=_ts(now, 400), password_enabled="true", mfa_active="true",
              password_last_used=_ts(now, 3)),
        _user("idle", user_creation_time=_ts(now, 400), password_enabled="true", mfa_active="true",
              password_last_used=_ts(now, 120)),
        _user("key-used", user_creation_time=_ts(now, 400), access_key_1_active="true",
              access_key_1_last_rotated=_ts(now, 30), access_key_1_last_used_date=_ts(now, 1)),
        _user("never-used-old", user_creation_time=_ts(now, 91), access_key_1_active="true",
              access_key_1_last_rotated=_ts(now, 91)),
        _user("never-used-new", user_creation_time=_ts(now, 5), password_enabled="true", mfa_active="false",
              password_last_used="no_information"),
        _user("stale-key", user_creation_time=_ts(now, 400), access_key_1_active="false",
              access_key_1_last_rotated=_ts(now, 300), access_key_2_active="true",
              access_key_2_last_rotated=_ts(now, 200), access_key_2_last_used_date=_ts(now, 1)),
        _user("no-credentials", user_creation_time=_ts(now, 900)),
    ]
    acct = _stubbed_report(tmp_path, rows, {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0})
    index = acct.run("iam", _ALL_IAM, region="us-east-1")
    acct.verify()
    user = f"arn:aws:iam::{ACCOUNT}:user/"

    idle = by_resource(judge_check(registry, "aws.iam.users_inactive", index, now), "aws.iam.users_inactive")
    assert {k.removeprefix(user): f.status for k, f in idle.items() if f.status is not Status.NOT_APPLICABLE} == {
        "active": Status.PASS, "idle": Status.FAIL, "key-used": Status.PASS, "never-used-old": Status.FAIL,
        "never-used-new": Status.PASS, "stale-key": Status.PASS,
    }
    assert idle[user + "idle"].observed["idle_days"] == 120
    assert idle[user + "never-used-old"].observed["from"] == "user_creation_time (never used)"
    # the root row and the user without credentials are listed, and left out with their reasons
    assert "root user" in idle[ROOT].message and idle[ROOT].status is Status.NOT_APPLICABLE
    assert "cannot sign in" in idle[user + "no-credentials"].message

    keys = by_resource(judge_check(registry, "aws.iam.access_key_age", index, now), "aws.iam.access_key_age")
    assert {k.removeprefix(user): f.status for k, f in keys.items() if f.status is not Status.NOT_APPLICABLE} == {
        "key-used": Status.PASS, "never-used-old": Status.FAIL, "stale-key": Status.FAIL}
    assert len(keys) == len(rows)  # every row has a finding: a verdict or a skip
    # only the active key is judged: key 1 of stale-key is inactive
    assert list(keys[user + "stale-key"].observed) == ["access_key_2"]
    shorter = judge_check(registry, "aws.iam.access_key_age", index, now, {"max_key_age_days": 20})
    assert statuses(shorter, "aws.iam.access_key_age")[user + "key-used"] is Status.FAIL

    mfa = judge_check(registry, "aws.iam.console_users_mfa", index, now)
    assert statuses(mfa, "aws.iam.console_users_mfa")[user + "never-used-new"] is Status.FAIL
    # the root row is judged by ROOT-ACCOUNT, not here
    assert ROOT in skipped(mfa, "aws.iam.console_users_mfa")
    (root,) = judge_check(registry, "aws.iam.root_mfa", index, now)
    assert root.status is Status.PASS and root.observed == {"AccountMFAEnabled": 1}


def test_root_judged_from_the_report_when_the_summary_lacks_the_fields(tmp_path: Path, registry: Registry) -> None:
    now = utc_now()
    rows = [_user("<root_account>", arn=ROOT, user_creation_time=_ts(now, 2000), password_enabled="not_supported",
                  mfa_active="true", access_key_1_active="true", access_key_1_last_rotated=_ts(now, 800))]
    acct = _stubbed_report(tmp_path, rows, {"Users": 0})
    index = acct.run("iam", _ALL_IAM, region="us-east-1")
    (mfa,) = judge_check(registry, "aws.iam.root_mfa", index, now)
    assert mfa.status is Status.PASS and mfa.observed == {"credential_report_root_row": True}
    (keys,) = judge_check(registry, "aws.iam.root_no_access_keys", index, now)
    assert keys.status is Status.FAIL and keys.resource_id == ROOT
    (age,) = judge_check(registry, "aws.iam.access_key_age", index, now)
    assert age.status is Status.FAIL and age.resource_id == ROOT and "root user" in age.message


def test_root_unknown_is_an_error_never_a_pass(tmp_path: Path, registry: Registry) -> None:
    """No AccountMFAEnabled and no root row (moto's report): an error naming both sources."""
    acct = _stubbed_report(tmp_path, [_user("alice", user_creation_time=_ts(utc_now(), 1))], {"Users": 1})
    index = acct.run("iam", _ALL_IAM, region="us-east-1")
    for check_id in ("aws.iam.root_mfa", "aws.iam.root_no_access_keys"):
        (finding,) = judge_check(registry, check_id, index, utc_now())
        assert finding.status is Status.ERROR
        assert "Neither GetAccountSummary nor the credential report" in finding.message


def test_credential_report_generation_is_awaited(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("evidence.collectors.aws_services_audit.time.sleep", slept.append)
    acct = StubbedAccount(tmp_path)
    iam = acct.stub("iam", "us-east-1")
    iam.add_response("generate_credential_report", {"State": "STARTED"}, {})
    iam.add_response("generate_credential_report", {"State": "INPROGRESS"}, {})
    iam.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    iam.add_response("get_credential_report", {"Content": _report([_user("alice")]), "ReportFormat": "text/csv"}, {})
    index = acct.run("iam", {"iam.GenerateCredentialReport", "iam.GetCredentialReport"}, region="us-east-1")
    acct.verify()
    assert slept == [0.25, 0.5]
    (report,) = index.iter("iam.GetCredentialReport")
    assert [r["user"] for r in report.response["Rows"]] == ["alice"]


def test_denied_report_generation_is_an_error_naming_the_action(tmp_path: Path, registry: Registry) -> None:
    acct = StubbedAccount(tmp_path)
    acct.stub("iam", "us-east-1").add_client_error(
        "generate_credential_report", service_error_code="AccessDenied", http_status_code=403)
    index = acct.run("iam", {"iam.GenerateCredentialReport", "iam.GetCredentialReport"}, region="us-east-1")
    findings = judge_check(registry, "aws.iam.console_users_mfa", index, utc_now())
    assert {f.status for f in findings} == {Status.ERROR}
    assert any("iam:GenerateCredentialReport" in f.message for f in findings)


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


@pytest.mark.parametrize("chk", [iam.console_users_mfa, iam.users_inactive, iam.access_key_age,
                                 iam.root_mfa, iam.root_no_access_keys])
def test_credential_report_rows_under_an_unexpected_key_are_an_error(tmp_path: Path, chk: Check) -> None:
    e = Estate(tmp_path)
    page = credential_report(e, [user_row("alice", access_key_1_active="true", access_key_1_last_rotated=ts(5))],
                             key="rows")
    findings = e.judge(chk)
    assert shape_errors(findings, page, "Rows"), findings
    assert Status.NOT_APPLICABLE not in {f.status for f in findings}


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
