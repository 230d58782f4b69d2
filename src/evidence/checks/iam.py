"""IAM checks from the credential report and the account summary: console users have MFA
and none is idle (ACCESS-LIFECYCLE), the root user has MFA and no access keys (ROOT-ACCOUNT),
active access keys are young (KEY-ROTATION)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from evidence.checks.awsutil import ACCOUNT_TYPE, account_arn, age_days, items
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status, iso, parse_time
from evidence.records import Evidence

ROOT_USER = "<root_account>"
_REPORT = ("iam.GetCredentialReport", "iam.GenerateCredentialReport")


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


def users(ctx: CheckContext) -> Iterator[tuple[dict[str, Any], Evidence]]:
    """IAM users of the credential report (the root row excluded)."""
    for row, ev in items(ctx, "iam.GetCredentialReport", "Rows"):
        if row.get("user") != ROOT_USER:
            yield row, ev


def _user_arn(row: dict[str, Any], account: str) -> str:
    return str(row.get("arn") or f"arn:aws:iam::{account}:user/{row.get('user')}")


def active_keys(row: dict[str, Any]) -> list[int]:
    return [n for n in (1, 2) if _true(row.get(f"access_key_{n}_active"))]


@check(
    id="aws.iam.console_users_mfa",
    source="aws",
    description="Every IAM user with a console password has an MFA device.",
    requires=_REPORT,
    resource_type="AWS::IAM::User",
)
def console_users_mfa(ctx: CheckContext) -> Iterator[Finding]:
    for row, ev in users(ctx):
        if not _true(row.get("password_enabled")):
            continue
        mfa = _true(row.get("mfa_active"))
        yield ctx.finding(
            Status.PASS if mfa else Status.FAIL,
            resource_id=_user_arn(row, ev.account), account=ev.account, evidence=[ev],
            observed={"password_enabled": True, "mfa_active": mfa}, expected={"mfa_active": True},
            message=f"Console user {row.get('user')} " + ("signs in with MFA." if mfa else "has no MFA device."),
        )


def last_activity(row: dict[str, Any]) -> tuple[datetime | None, str]:
    """The latest use of any credential, else the creation time (a never-used user is as idle
    as its age); with which field said so."""
    candidates = [(parse_time(row.get("password_last_used")), "password_last_used")]
    candidates += [(parse_time(row.get(f"access_key_{n}_last_used_date")), f"access_key_{n}_last_used_date")
                   for n in (1, 2)]
    used = [(ts, name) for ts, name in candidates if ts is not None]
    if used:
        return max(used, key=lambda x: x[0])
    return parse_time(row.get("user_creation_time")), "user_creation_time (never used)"


@check(
    id="aws.iam.users_inactive",
    source="aws",
    description="No IAM user who can sign in or call the API (a console password or an active access key) has "
    "gone unused for more than max_inactive_days.",
    requires=_REPORT,
    params={"max_inactive_days": 90},
    resource_type="AWS::IAM::User",
)
def users_inactive(ctx: CheckContext) -> Iterator[Finding]:
    limit = int(ctx.params["max_inactive_days"])
    expected = f"last activity within {limit} days"
    for row, ev in users(ctx):
        if not (_true(row.get("password_enabled")) or active_keys(row)):
            continue
        where: dict[str, Any] = {"resource_id": _user_arn(row, ev.account), "account": ev.account,
                                 "evidence": [ev], "expected": expected}
        when, field = last_activity(row)
        if when is None:
            yield ctx.finding(Status.ERROR, **where, observed="no readable activity or creation time",
                              message=f"When user {row.get('user')} was last active cannot be read.")
            continue
        idle = age_days(ctx.now, when)
        observed = {"last_activity": iso(when), "from": field, "idle_days": idle}
        if idle > limit:
            yield ctx.finding(Status.FAIL, **where, observed=observed,
                              message=f"User {row.get('user')} has been idle for {idle} days (limit {limit}) but "
                              "still holds credentials.")
        else:
            yield ctx.finding(Status.PASS, **where, observed=observed,
                              message=f"User {row.get('user')} was active {idle} days ago.")


@check(
    id="aws.iam.access_key_age",
    source="aws",
    description="Every active IAM access key (the root user's included) was created or rotated within "
    "max_key_age_days.",
    requires=_REPORT,
    params={"max_key_age_days": 90},
    resource_type="AWS::IAM::User",
)
def access_key_age(ctx: CheckContext) -> Iterator[Finding]:
    limit = int(ctx.params["max_key_age_days"])
    for row, ev in items(ctx, "iam.GetCredentialReport", "Rows"):
        keys = active_keys(row)
        if not keys:
            continue
        ages: dict[str, Any] = {}
        unreadable: list[str] = []
        for n in keys:
            rotated = parse_time(row.get(f"access_key_{n}_last_rotated"))
            if rotated is None:
                unreadable.append(f"access_key_{n}")
                continue
            ages[f"access_key_{n}"] = {"last_rotated": iso(rotated), "age_days": age_days(ctx.now, rotated)}
        old = sorted(k for k, v in ages.items() if v["age_days"] > limit)
        who = "the root user" if row.get("user") == ROOT_USER else f"user {row.get('user')}"
        where: dict[str, Any] = {"resource_id": _user_arn(row, ev.account), "account": ev.account, "evidence": [ev],
                                 "observed": ages, "expected": f"active keys younger than {limit} days"}
        if old:
            yield ctx.finding(Status.FAIL, **where,
                              message=f"Active key(s) {', '.join(old)} of {who} are older than {limit} days.")
        elif unreadable:
            yield ctx.finding(Status.ERROR, **where,
                              message=f"The age of {', '.join(unreadable)} of {who} cannot be read.")
        else:
            yield ctx.finding(Status.PASS, **where,
                              message=f"Every active key of {who} is younger than {limit} days.")


def _root_rows(ctx: CheckContext) -> dict[str, tuple[dict[str, Any], Evidence]]:
    return {ev.account: (row, ev) for row, ev in items(ctx, "iam.GetCredentialReport", "Rows")
            if row.get("user") == ROOT_USER}


def _root_finding(
    ctx: CheckContext, summary_field: str, from_row: Any, want: bool, what: str,
) -> Iterator[Finding]:
    """Judge a root-user property from GetAccountSummary's `summary_field` (1/0), else from the
    credential report's root row; an error when neither says."""
    rows = _root_rows(ctx)
    for ev in ctx.evidence("iam.GetAccountSummary"):
        summary = ev.response.get("SummaryMap", {}) or {}
        root = rows.get(ev.account)
        evidence: list[Evidence] = [ev] + ([root[1]] if root else [])
        where: dict[str, Any] = {"resource_id": account_arn(ev.account), "account": ev.account, "evidence": evidence}
        if summary_field in summary:
            value = int(summary[summary_field]) == 1
            observed: dict[str, Any] = {summary_field: summary[summary_field]}
        elif root is not None:
            value = from_row(root[0])
            observed = {"credential_report_root_row": value}
        else:
            yield ctx.finding(
                Status.ERROR, **where, observed=f"{summary_field} absent and no root row in the credential report",
                expected={summary_field: int(want)},
                message=f"Neither GetAccountSummary nor the credential report says whether the root user {what}.",
            )
            continue
        ok = value == want
        yield ctx.finding(
            Status.PASS if ok else Status.FAIL, **where, observed=observed, expected={summary_field: int(want)},
            message=f"The root user {what}: {'yes' if value else 'no'}.",
        )


@check(
    id="aws.iam.root_mfa",
    source="aws",
    description="The root user of every account has MFA (GetAccountSummary AccountMFAEnabled, else the "
    "credential report's root row).",
    requires=("iam.GetAccountSummary", *_REPORT),
    resource_type=ACCOUNT_TYPE,
)
def root_mfa(ctx: CheckContext) -> Iterator[Finding]:
    yield from _root_finding(ctx, "AccountMFAEnabled", lambda row: _true(row.get("mfa_active")), True, "has MFA")


@check(
    id="aws.iam.root_no_access_keys",
    source="aws",
    description="The root user of every account has no access keys (GetAccountSummary AccountAccessKeysPresent, "
    "else the credential report's root row).",
    requires=("iam.GetAccountSummary", *_REPORT),
    resource_type=ACCOUNT_TYPE,
)
def root_no_access_keys(ctx: CheckContext) -> Iterator[Finding]:
    yield from _root_finding(
        ctx, "AccountAccessKeysPresent", lambda row: bool(active_keys(row)), False, "has access keys",
    )
