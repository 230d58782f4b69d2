"""Google Workspace checks: 2-step verification, super admins, and idle accounts.

They judge the `admin.directory.users.list` pages the collector recorded. A user is
*active* when neither suspended nor archived; suspended and archived users cannot sign in,
so they are not judged (they are the expected state of people who have left). Times are
judged against `ctx.now`, the run's reference time, so a stored bundle re-judges alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status, parse_time
from evidence.records import Evidence

SOURCE = "google_workspace"
USERS_LIST = "admin.directory.users.list"
USER_TYPE = "GoogleWorkspace::User"
CUSTOMER_TYPE = "GoogleWorkspace::Customer"
#: the Directory API's lastLoginTime for a user who never signed in
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class User:
    """One directory user as recorded, with the page it came from."""

    data: dict[str, Any]
    evidence: Evidence

    @property
    def email(self) -> str:
        return str(self.data.get("primaryEmail", ""))

    @property
    def active(self) -> bool:
        return not self.data.get("suspended", False) and not self.data.get("archived", False)

    @property
    def super_admin(self) -> bool:
        return bool(self.data.get("isAdmin", False))

    @property
    def account(self) -> str:
        return self.evidence.account


def users(ctx: CheckContext) -> list[User]:
    """Every user of every recorded page, once each (by primary email), sorted by email."""
    found: dict[str, User] = {}
    for ev in ctx.evidence(USERS_LIST):
        for data in (ev.response or {}).get("users", []):
            email = str(data.get("primaryEmail", "")).lower()
            if email and email not in found:
                found[email] = User(data, ev)
    return [found[k] for k in sorted(found)]


def active_users(ctx: CheckContext) -> list[User]:
    return [u for u in users(ctx) if u.active]


def listing_complete(ctx: CheckContext) -> bool:
    """False when some page of the listing failed (the judge reports that failure itself)."""
    return all(entry.ok for entry in ctx.index.entries_for(USERS_LIST))




def _flag(user: User, name: str) -> bool | None:
    value = user.data.get(name)
    return value if isinstance(value, bool) else None


def _user_finding(ctx: CheckContext, user: User, status: Status, message: str, observed: Any,
                  expected: Any) -> Finding:
    return ctx.finding(status, resource_id=user.email, account=user.account, evidence=[user.evidence],
                       message=message, observed=observed, expected=expected)


@check(
    id="google_workspace.users_2sv_enrolled",
    source=SOURCE,
    description="Every active (not suspended, not archived) Google Workspace user is enrolled in 2-step verification.",
    requires=(USERS_LIST,),
    resource_type=USER_TYPE,
)
def users_2sv_enrolled(ctx: CheckContext) -> Iterator[Finding]:
    for user in active_users(ctx):
        enrolled = _flag(user, "isEnrolledIn2Sv")
        if enrolled is None:
            yield _user_finding(ctx, user, Status.ERROR, f"{user.email}: the listing has no isEnrolledIn2Sv.",
                                None, "isEnrolledIn2Sv = true")
            continue
        yield _user_finding(
            ctx, user, Status.PASS if enrolled else Status.FAIL,
            f"{user.email} is enrolled in 2-step verification." if enrolled
            else f"{user.email} is active but not enrolled in 2-step verification.",
            {"isEnrolledIn2Sv": enrolled}, {"isEnrolledIn2Sv": True},
        )


@check(
    id="google_workspace.users_2sv_enforced",
    source=SOURCE,
    description="2-step verification is enforced for every active Google Workspace user.",
    requires=(USERS_LIST,),
    resource_type=USER_TYPE,
)
def users_2sv_enforced(ctx: CheckContext) -> Iterator[Finding]:
    for user in active_users(ctx):
        enforced = _flag(user, "isEnforcedIn2Sv")
        if enforced is None:
            yield _user_finding(ctx, user, Status.ERROR, f"{user.email}: the listing has no isEnforcedIn2Sv.",
                                None, "isEnforcedIn2Sv = true")
            continue
        where = user.data.get("orgUnitPath", "")
        yield _user_finding(
            ctx, user, Status.PASS if enforced else Status.FAIL,
            f"2-step verification is enforced for {user.email}." if enforced
            else f"2-step verification is not enforced for {user.email}"
                 + (f" (organizational unit {where})." if where else "."),
            {"isEnforcedIn2Sv": enforced}, {"isEnforcedIn2Sv": True},
        )


def _customer(ctx: CheckContext, seen: list[User]) -> tuple[str, str]:
    """(resource id, account) of the Workspace customer: its real customer ID when the listing
    carries one, else the configured one (`my_customer` is the caller's own customer)."""
    records = list(ctx.evidence(USERS_LIST))
    account = records[0].account if records else ""
    ids = sorted({str(u.data["customerId"]) for u in seen if u.data.get("customerId")})
    return (ids[0] if len(ids) == 1 else account or SOURCE), account


@check(
    id="google_workspace.super_admin_count",
    source=SOURCE,
    description=(
        "The Workspace has between min_super_admins and max_super_admins active super administrators: "
        "enough to never be locked out, few enough to limit who holds full control."
    ),
    requires=(USERS_LIST,),
    params={"min_super_admins": 2, "max_super_admins": 4},
    resource_type=CUSTOMER_TYPE,
)
def super_admin_count(ctx: CheckContext) -> Iterator[Finding]:
    everyone = users(ctx)
    if not everyone:
        return  # no listing: the judge reports the failure or the empty result
    low, high = int(ctx.params["min_super_admins"]), int(ctx.params["max_super_admins"])
    admins = [u for u in everyone if u.active and u.super_admin]
    count = len(admins)
    complete = listing_complete(ctx)
    if not complete and count <= high:
        return  # the missing pages could hold more: only "too many" is certain, the error is reported already
    resource, account = _customer(ctx, everyone)
    ok = low <= count <= high
    emails = [u.email for u in admins]
    pages = sorted({u.evidence.path for u in everyone}) if complete else sorted({u.evidence.path for u in admins})
    if ok:
        message = f"{count} active super administrators, within {low} to {high}: {', '.join(emails)}."
    elif count < low:
        message = (f"Only {count} active super administrator{'s' if count != 1 else ''}"
                   f"{': ' + ', '.join(emails) if emails else ''}; at least {low} are needed so that losing one "
                   "account does not lock the company out.")
    else:
        message = f"{count} active super administrators, more than {high}: {', '.join(emails)}."
    yield ctx.finding(
        Status.PASS if ok else Status.FAIL, resource_id=resource, account=account, evidence=pages,
        observed={"super_admins": count, "emails": emails}, expected=f"between {low} and {high} super admins",
        message=message,
    )


@check(
    id="google_workspace.super_admins_2sv",
    source=SOURCE,
    description="Every active super administrator is enrolled in 2-step verification.",
    requires=(USERS_LIST,),
    resource_type=USER_TYPE,
)
def super_admins_2sv(ctx: CheckContext) -> Iterator[Finding]:
    for user in active_users(ctx):
        if not user.super_admin:
            continue
        enrolled = _flag(user, "isEnrolledIn2Sv")
        if enrolled is None:
            yield _user_finding(ctx, user, Status.ERROR, f"Super admin {user.email}: the listing has no "
                                "isEnrolledIn2Sv.", None, "isEnrolledIn2Sv = true")
            continue
        yield _user_finding(
            ctx, user, Status.PASS if enrolled else Status.FAIL,
            f"Super admin {user.email} is enrolled in 2-step verification." if enrolled
            else f"Super admin {user.email} is not enrolled in 2-step verification.",
            {"isAdmin": True, "isEnrolledIn2Sv": enrolled}, {"isEnrolledIn2Sv": True},
        )


@check(
    id="google_workspace.inactive_users",
    source=SOURCE,
    description=(
        "No active user has gone without signing in for more than max_inactive_days; a user who never "
        "signed in is allowed new_user_grace_days from the account's creation."
    ),
    requires=(USERS_LIST,),
    params={"max_inactive_days": 90, "new_user_grace_days": 14},
    resource_type=USER_TYPE,
)
def inactive_users(ctx: CheckContext) -> Iterator[Finding]:
    max_idle, grace = int(ctx.params["max_inactive_days"]), int(ctx.params["new_user_grace_days"])
    for user in active_users(ctx):
        created = parse_time(user.data.get("creationTime"))
        last = parse_time(user.data.get("lastLoginTime"))
        raw = {"creationTime": user.data.get("creationTime"), "lastLoginTime": user.data.get("lastLoginTime")}
        if created is None or last is None:
            yield _user_finding(ctx, user, Status.ERROR, f"{user.email}: creation or last login time unreadable.",
                                raw, f"signed in within {max_idle} days")
            continue
        if last <= _NEVER:
            age = max(0, (ctx.now - created).days)
            ok = age <= grace
            yield _user_finding(
                ctx, user, Status.PASS if ok else Status.FAIL,
                f"{user.email} was created {age} days ago and has not signed in yet, within the {grace}-day grace "
                "for new people." if ok
                else f"{user.email} has never signed in since the account was created {age} days ago; "
                     "suspend or remove it if nobody uses it.",
                {**raw, "never_signed_in": True, "days_since_creation": age},
                f"first sign-in within {grace} days of creation",
            )
            continue
        idle = max(0, (ctx.now - last).days)
        ok = idle <= max_idle
        yield _user_finding(
            ctx, user, Status.PASS if ok else Status.FAIL,
            f"{user.email} last signed in {idle} days ago." if ok
            else f"{user.email} has not signed in for {idle} days (more than {max_idle}); suspend the account "
                 "if the person left or no longer needs it.",
            {**raw, "days_since_last_login": idle}, f"signed in within {max_idle} days",
        )
