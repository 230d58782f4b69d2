"""IAM checks from the credential report and the account summary: console users have MFA
and none is idle (ACCESS-LIFECYCLE), the root user has MFA and no access keys (ROOT-ACCOUNT),
active access keys are young (KEY-ROTATION).

The credential report is a CSV; the collector stores it as `Rows`, one object per CSV row
(`aws_services.decode_credential_report`), every value a string. Its population is every row,
each named by its `arn` column: the root user's row (`<root_account>`, ARN `...:root`) and one
row per IAM user. A user check judges each row or skips it with the reason (the root row, a user
without the credential the check is about). The report's flags are read strictly: a flag that
is not `true` or `false` is an error, never "off".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pydantic import Field

from evidence.checks.awsutil import ACCOUNT_TYPE, account_resource, age_days, by_account, unbound
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.models import Finding, Status, iso, parse_time

ROOT_USER = "<root_account>"
USER_TYPE = "AWS::IAM::User"

#: every row of the credential report: the root user's and each IAM user's
REPORT_ROWS = Inventory("iam.GetCredentialReport", items="Rows", id="arn", resource_type=USER_TYPE)
#: one GetAccountSummary record per account (the call is global), as the account it is about
SUMMARY = Inventory("iam.GetAccountSummary", items=None, resource_type=ACCOUNT_TYPE, resource_id=account_resource)
#: a failed report generation is why there is no report: an error of the checks that read it
_GENERATE = ("iam.GenerateCredentialReport",)

_FLAGS = {"true": True, "false": False}


def flag(row: Item, name: str) -> bool:
    """A `true`/`false` column of the report; anything else is an error."""
    value = row.need(name, str)
    if value.lower() not in _FLAGS:
        raise FieldError(f"{row.at}.{name}", "'true' or 'false'", repr(value), row.ev.path, row.resource_id)
    return _FLAGS[value.lower()]


def is_root(row: Item) -> bool:
    return row.need("user", str) == ROOT_USER


def _label(row: Item) -> str:
    return row.need("user", str)


def active_keys(row: Item) -> list[int]:
    return [n for n in (1, 2) if flag(row, f"access_key_{n}_active")]


_ROOT_SKIP = "the root user is not an IAM user (its MFA and access keys are judged by ROOT-ACCOUNT)"


@check(
    id="aws.iam.console_users_mfa",
    source="aws",
    description="Every IAM user with a console password has an MFA device.",
    inventory=REPORT_ROWS,
    requires=_GENERATE,
)
def console_users_mfa(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(row: Item) -> Finding:
        if is_root(row):
            return ctx.skip(row, _ROOT_SKIP)
        if not flag(row, "password_enabled"):
            return ctx.skip(row, "no console password")
        mfa = flag(row, "mfa_active")
        return ctx.finding(
            Status.PASS if mfa else Status.FAIL,
            resource_id=row.resource_id, account=row.account, evidence=[row.ev],
            observed={"password_enabled": True, "mfa_active": mfa}, expected={"mfa_active": True},
            message=f"Console user {_label(row)} " + ("signs in with MFA." if mfa else "has no MFA device."),
        )

    yield from ctx.each(REPORT_ROWS, one)


def last_activity(row: Item) -> tuple[datetime | None, str]:
    """The latest use of any credential, else the creation time (a never-used user is as idle
    as its age); with which field said so. Every column read must be present (`N/A` and
    `no_information` are present: they say "never" or "unknown")."""
    names = ["password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date"]
    candidates = [(parse_time(row.need(name, str)), name) for name in names]
    used = [(ts, name) for ts, name in candidates if ts is not None]
    if used:
        return max(used, key=lambda x: x[0])
    return parse_time(row.need("user_creation_time", str)), "user_creation_time (never used)"


class InactiveParams(Params):
    max_inactive_days: int = Field(
        90, ge=1, description="Days a user who holds a password or an active access key may go unused."
    )


@check(
    id="aws.iam.users_inactive",
    source="aws",
    description="No IAM user who can sign in or call the API (a console password or an active access key) has "
    "gone unused for more than max_inactive_days.",
    inventory=REPORT_ROWS,
    requires=_GENERATE,
    params=InactiveParams,
)
def users_inactive(ctx: CheckContext[InactiveParams]) -> Iterator[Finding]:
    limit = ctx.params.max_inactive_days
    expected = f"last activity within {limit} days"

    def one(row: Item) -> Finding:
        if is_root(row):
            return ctx.skip(row, _ROOT_SKIP)
        if not (flag(row, "password_enabled") or active_keys(row)):
            return ctx.skip(row, "no console password and no active access key: the user cannot sign in")
        where: dict[str, Any] = {"resource_id": row.resource_id, "account": row.account,
                                 "evidence": [row.ev], "expected": expected}
        user = _label(row)
        when, field = last_activity(row)
        if when is None:
            return ctx.finding(Status.ERROR, **where, observed="no readable activity or creation time",
                               message=f"When user {user} was last active cannot be read.")
        idle = age_days(ctx.now, when)
        observed = {"last_activity": iso(when), "from": field, "idle_days": idle}
        if idle > limit:
            return ctx.finding(Status.FAIL, **where, observed=observed,
                               message=f"User {user} has been idle for {idle} days (limit {limit}) but "
                               "still holds credentials.")
        return ctx.finding(Status.PASS, **where, observed=observed,
                           message=f"User {user} was active {idle} days ago.")

    yield from ctx.each(REPORT_ROWS, one)


class KeyAgeParams(Params):
    max_key_age_days: int = Field(
        90, ge=1, description="Days since an active access key was created or last rotated."
    )


@check(
    id="aws.iam.access_key_age",
    source="aws",
    description="Every active IAM access key (the root user's included) was created or rotated within "
    "max_key_age_days.",
    inventory=REPORT_ROWS,
    requires=_GENERATE,
    params=KeyAgeParams,
)
def access_key_age(ctx: CheckContext[KeyAgeParams]) -> Iterator[Finding]:
    limit = ctx.params.max_key_age_days

    def one(row: Item) -> Finding:
        keys = active_keys(row)
        if not keys:
            return ctx.skip(row, "no active access key")
        ages: dict[str, Any] = {}
        unreadable: list[str] = []
        for n in keys:
            rotated = parse_time(row.need(f"access_key_{n}_last_rotated", str))
            if rotated is None:
                unreadable.append(f"access_key_{n}")
                continue
            ages[f"access_key_{n}"] = {"last_rotated": iso(rotated), "age_days": age_days(ctx.now, rotated)}
        old = sorted(k for k, v in ages.items() if v["age_days"] > limit)
        who = "the root user" if is_root(row) else f"user {_label(row)}"
        where: dict[str, Any] = {"resource_id": row.resource_id, "account": row.account, "evidence": [row.ev],
                                 "observed": ages, "expected": f"active keys younger than {limit} days"}
        if old:
            return ctx.finding(Status.FAIL, **where,
                               message=f"Active key(s) {', '.join(old)} of {who} are older than {limit} days.")
        if unreadable:
            return ctx.finding(Status.ERROR, **where,
                               message=f"The age of {', '.join(unreadable)} of {who} cannot be read.")
        return ctx.finding(Status.PASS, **where, message=f"Every active key of {who} is younger than {limit} days.")

    yield from ctx.each(REPORT_ROWS, one)


def _root_finding(
    ctx: CheckContext[NoParams], summary_field: str, from_row: Callable[[Item], bool], want: bool, what: str,
) -> Iterator[Finding]:
    """Judge a root-user property from GetAccountSummary's `summary_field` (1/0), else from the
    credential report's root row; an error when neither says."""
    rows = by_account(ctx.items(REPORT_ROWS))
    expected = {summary_field: int(want)}

    def one(account: Item) -> Finding:
        account.need("SummaryMap", dict)  # the summary itself is decisive: absent, nothing is known
        value_or_none = account.need(f"SummaryMap.{summary_field}", int, None)
        root: Item | None = None
        try:
            root = next((r for r in rows.get(account.account, []) if is_root(r)), None)
        except FieldError as exc:
            if value_or_none is None:
                raise unbound(exc) from None
        evidence = [account.ev] + ([root.ev] if root else [])
        where: dict[str, Any] = {"resource_id": account.resource_id, "account": account.account,
                                 "evidence": evidence}
        if value_or_none is not None:
            value = value_or_none == 1
            observed: dict[str, Any] = {summary_field: value_or_none}
        elif root is not None:
            try:
                value = from_row(root)
            except FieldError as exc:
                raise unbound(exc) from None
            observed = {"credential_report_root_row": value}
        else:
            return ctx.finding(
                Status.ERROR, **where, observed=f"{summary_field} absent and no root row in the credential report",
                expected=expected,
                message=f"Neither GetAccountSummary nor the credential report says whether the root user {what}.",
            )
        ok = value == want
        return ctx.finding(
            Status.PASS if ok else Status.FAIL, **where, observed=observed, expected=expected,
            message=f"The root user {what}: {'yes' if value else 'no'}.",
        )

    yield from ctx.each(SUMMARY, one)


@check(
    id="aws.iam.root_mfa",
    source="aws",
    description="The root user of every account has MFA (GetAccountSummary AccountMFAEnabled, else the "
    "credential report's root row).",
    inventory=SUMMARY,
    listings=(REPORT_ROWS,),
    requires=_GENERATE,
)
def root_mfa(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    yield from _root_finding(ctx, "AccountMFAEnabled", lambda row: flag(row, "mfa_active"), True, "has MFA")


@check(
    id="aws.iam.root_no_access_keys",
    source="aws",
    description="The root user of every account has no access keys (GetAccountSummary AccountAccessKeysPresent, "
    "else the credential report's root row).",
    inventory=SUMMARY,
    listings=(REPORT_ROWS,),
    requires=_GENERATE,
)
def root_no_access_keys(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    yield from _root_finding(
        ctx, "AccountAccessKeysPresent", lambda row: bool(active_keys(row)), False, "has access keys",
    )
