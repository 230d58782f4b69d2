"""Google Workspace checks: 2-step verification, super admins, and idle accounts.

They judge the `admin.directory.users.list` pages the collector recorded: each user under
`users`, named by `primaryEmail`. A user is *active* when neither suspended nor archived;
suspended and archived users cannot sign in, so they are left out on purpose (they are the
expected state of people who have left) and recorded as `not_applicable` with that reason.
Times are judged against `ctx.now`, the run's reference time, so a stored bundle re-judges alike.

`super_admin_count` judges the customer as a whole, not a user or a page: its inventory is one
customer resource per users page, named by the customer ID the page's users carry (else the
configured customer), so that every page of one listing names the same resource and the one
customer finding covers them all, however many pages there are. The count itself is over every
user of every page: a page that failed or is malformed, or a user whose admin or suspension state
is unreadable, leaves the count uncertain, and only "too many" is then certain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.models import Finding, Status, parse_time
from evidence.records import Evidence
from evidence.sources.google_workspace import SOURCE, USERS_LIST

USER_TYPE = "GoogleWorkspace::User"
CUSTOMER_TYPE = "GoogleWorkspace::Customer"
#: the Directory API's lastLoginTime for a user who never signed in
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def customer_id(_: str, ev: Evidence) -> str:
    """The Workspace customer a users page belongs to: the customer ID its users carry when they
    carry one, else the configured customer (`my_customer` is the caller's own customer)."""
    users = ev.response.get("users") if isinstance(ev.response, dict) else None
    ids = {str(u["customerId"]) for u in users if isinstance(u, dict) and u.get("customerId")} \
        if isinstance(users, list) else set()
    return ids.pop() if len(ids) == 1 else (ev.account or SOURCE)


USERS = Inventory(USERS_LIST, items="users", id="primaryEmail", resource_type=USER_TYPE)
CUSTOMER = Inventory(USERS_LIST, items=None, resource_type=CUSTOMER_TYPE, resource_id=customer_id)


def _inactive(user: Item) -> str | None:
    """Why a user cannot sign in (suspended, archived), or None for an active user."""
    if user.need("suspended", bool):
        return "suspended user, who cannot sign in"
    if user.need("archived", bool):
        return "archived user, who cannot sign in"
    return None


def each_user(ctx: CheckContext[Any], judge: Callable[[Item], Finding | Iterable[Finding]]) -> Iterator[Finding]:
    """`judge` for every active listed user once (by primary email: its first listing is judged),
    suspended and archived users skipped with the reason; an unreadable decisive field is an
    `error` for that user alone."""
    first: dict[str, str] = {}

    def once(user: Item) -> Finding | Iterable[Finding]:
        seen = first.get(user.name.lower())
        if seen == user.resource_id:
            return []  # listed twice alike: the finding of its first listing covers it
        if seen is not None:
            return ctx.skip(user, f"the same user as {seen}, which is judged")
        first[user.name.lower()] = user.resource_id
        why = _inactive(user)
        return ctx.skip(user, why) if why else judge(user)

    yield from ctx.each(USERS, once)


def _user_finding(ctx: CheckContext[Any], user: Item, status: Status, message: str, observed: Any,
                  expected: Any) -> Finding:
    return ctx.finding(status, resource_id=user.resource_id, account=user.account, region=user.region,
                       evidence=[user.ev], message=message, observed=observed, expected=expected)


@check(
    id="google_workspace.users_2sv_enrolled",
    source=SOURCE,
    description="Every active (not suspended, not archived) Google Workspace user is enrolled in 2-step verification.",
    inventory=USERS,
)
def users_2sv_enrolled(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(user: Item) -> Finding:
        enrolled = user.need("isEnrolledIn2Sv", bool)
        return _user_finding(
            ctx, user, Status.PASS if enrolled else Status.FAIL,
            f"{user.name} is enrolled in 2-step verification." if enrolled
            else f"{user.name} is active but not enrolled in 2-step verification.",
            {"isEnrolledIn2Sv": enrolled}, {"isEnrolledIn2Sv": True},
        )

    yield from each_user(ctx, one)


@check(
    id="google_workspace.users_2sv_enforced",
    source=SOURCE,
    description="2-step verification is enforced for every active Google Workspace user.",
    inventory=USERS,
)
def users_2sv_enforced(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(user: Item) -> Finding:
        enforced = user.need("isEnforcedIn2Sv", bool)
        where = user.value.get("orgUnitPath")
        where = where if isinstance(where, str) else ""
        return _user_finding(
            ctx, user, Status.PASS if enforced else Status.FAIL,
            f"2-step verification is enforced for {user.name}." if enforced
            else f"2-step verification is not enforced for {user.name}"
                 + (f" (organizational unit {where})." if where else "."),
            {"isEnforcedIn2Sv": enforced}, {"isEnforcedIn2Sv": True},
        )

    yield from each_user(ctx, one)


class SuperAdminCountParams(Params):
    min_super_admins: int = Field(
        2, ge=1, description="Fewest active super administrators allowed, so losing one account does not lock "
        "the company out.",
    )
    max_super_admins: int = Field(
        4, ge=1, description="Most active super administrators allowed, to limit who holds full control.",
    )


def _count_gaps(ctx: CheckContext[Any]) -> list[str]:
    """What keeps the listing from being complete: failed pages and malformed ones."""
    gaps = [f"page {e.path} could not be collected" for e in ctx.index.entries_for(USERS_LIST) if not e.ok]
    gaps += [f"page {p.ev.path} holds no users at '{p.path}' ({p.message})" for p in ctx.listing(USERS).problems]
    return gaps


def _admin_message(count: int, low: int, high: int, emails: list[str]) -> str:
    if low <= count <= high:
        return f"{count} active super administrators, within {low} to {high}: {', '.join(emails)}."
    if count < low:
        return (f"Only {count} active super administrator{'s' if count != 1 else ''}"
                f"{': ' + ', '.join(emails) if emails else ''}; at least {low} are needed so that losing one "
                "account does not lock the company out.")
    return f"{count} active super administrators, more than {high}: {', '.join(emails)}."


@check(
    id="google_workspace.super_admin_count",
    source=SOURCE,
    description=(
        "The Workspace has between min_super_admins and max_super_admins active super administrators: "
        "enough to never be locked out, few enough to limit who holds full control."
    ),
    inventory=CUSTOMER,
    listings=(USERS,),
    params=SuperAdminCountParams,
)
def super_admin_count(ctx: CheckContext[SuperAdminCountParams]) -> Iterator[Finding]:
    pages = ctx.items(CUSTOMER)
    if not pages:
        return  # no page was read: the judge reports the failed or missing listing
    low, high = ctx.params.min_super_admins, ctx.params.max_super_admins
    gaps = _count_gaps(ctx)
    admins: dict[str, Item] = {}
    for user in ctx.items(USERS):
        try:
            if _inactive(user) is None and user.need("isAdmin", bool):
                admins.setdefault(user.name.lower(), user)
        except FieldError as exc:
            gaps.append(exc.describe())
    customers = sorted({p.resource_id for p in pages})
    paths = sorted({p.ev.path for p in pages})
    account = pages[0].account
    count = len(admins)
    emails = [admins[k].name for k in sorted(admins)]
    expected = f"between {low} and {high} super admins"
    if len(customers) > 1:
        for rid in customers:
            yield ctx.finding(
                Status.ERROR, resource_id=rid, account=account, evidence=paths,
                observed={"customers": customers}, expected="one customer per listing",
                message=f"The {USERS_LIST} pages name different customers ({', '.join(customers)}), so the "
                        "super administrators of one customer cannot be counted.",
            )
        return
    observed: dict[str, Any] = {"super_admins": count, "emails": emails}
    if not gaps and not ctx.items(USERS):
        gaps.append("the listing holds no user at all, not even the administrator evidence signs in as")
    if gaps and count <= high:
        # the users not seen could hold more: only "too many" is certain
        yield ctx.finding(
            Status.ERROR, resource_id=customers[0], account=account, evidence=paths,
            observed={**observed, "incomplete": gaps}, expected=expected,
            message=f"The active super administrators cannot all be counted ({'; '.join(gaps)}): {count} seen, "
                    f"and only more than {high} would be certain.",
        )
        return
    evidence = paths if not gaps else sorted({u.ev.path for u in admins.values()})
    yield ctx.finding(
        Status.PASS if low <= count <= high else Status.FAIL, resource_id=customers[0], account=account,
        evidence=evidence, observed=observed, expected=expected, message=_admin_message(count, low, high, emails),
    )


@check(
    id="google_workspace.super_admins_2sv",
    source=SOURCE,
    description="Every active super administrator is enrolled in 2-step verification.",
    inventory=USERS,
)
def super_admins_2sv(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(user: Item) -> Finding:
        if not user.need("isAdmin", bool):
            return ctx.skip(user, "not a super administrator")
        enrolled = user.need("isEnrolledIn2Sv", bool)
        return _user_finding(
            ctx, user, Status.PASS if enrolled else Status.FAIL,
            f"Super admin {user.name} is enrolled in 2-step verification." if enrolled
            else f"Super admin {user.name} is not enrolled in 2-step verification.",
            {"isAdmin": True, "isEnrolledIn2Sv": enrolled}, {"isEnrolledIn2Sv": True},
        )

    yield from each_user(ctx, one)


class InactiveUsersParams(Params):
    max_inactive_days: int = Field(
        90, ge=1, description="Most days an active user may go without signing in.",
    )
    new_user_grace_days: int = Field(
        14, ge=0, description="Days a new user who never signed in is allowed from the account's creation.",
    )


@check(
    id="google_workspace.inactive_users",
    source=SOURCE,
    description=(
        "No active user has gone without signing in for more than max_inactive_days; a user who never "
        "signed in is allowed new_user_grace_days from the account's creation."
    ),
    inventory=USERS,
    params=InactiveUsersParams,
)
def inactive_users(ctx: CheckContext[InactiveUsersParams]) -> Iterator[Finding]:
    max_idle, grace = ctx.params.max_inactive_days, ctx.params.new_user_grace_days

    def one(user: Item) -> Finding:
        raw = {"creationTime": user.need("creationTime", str), "lastLoginTime": user.need("lastLoginTime", str)}
        created, last = parse_time(raw["creationTime"]), parse_time(raw["lastLoginTime"])
        if created is None or last is None:
            return _user_finding(ctx, user, Status.ERROR, f"{user.name}: creation or last login time unreadable.",
                                 raw, f"signed in within {max_idle} days")
        if last <= _NEVER:
            age = max(0, (ctx.now - created).days)
            ok = age <= grace
            return _user_finding(
                ctx, user, Status.PASS if ok else Status.FAIL,
                f"{user.name} was created {age} days ago and has not signed in yet, within the {grace}-day grace "
                "for new people." if ok
                else f"{user.name} has never signed in since the account was created {age} days ago; "
                     "suspend or remove it if nobody uses it.",
                {**raw, "never_signed_in": True, "days_since_creation": age},
                f"first sign-in within {grace} days of creation",
            )
        idle = max(0, (ctx.now - last).days)
        ok = idle <= max_idle
        return _user_finding(
            ctx, user, Status.PASS if ok else Status.FAIL,
            f"{user.name} last signed in {idle} days ago." if ok
            else f"{user.name} has not signed in for {idle} days (more than {max_idle}); suspend the account "
                 "if the person left or no longer needs it.",
            {**raw, "days_since_last_login": idle}, f"signed in within {max_idle} days",
        )

    yield from each_user(ctx, one)
