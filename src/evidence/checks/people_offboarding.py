"""People offboarding checks (ACCESS-LIFECYCLE): a leaver's access is removed in every system, in
time. See `evidence.checks.people`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.iam import active_keys, flag, is_root
from evidence.checks.inventory import FieldError, Item
from evidence.checks.people_common import (
    GITHUB_READS,
    IAM_READS,
    PEOPLE,
    WORKSPACE_READS,
    OffboardParams,
    Person,
    directory_of,
    github_seen,
    iam_seen,
    workspace_active,
    workspace_names,
    workspace_seen,
)
from evidence.models import Finding, Status, iso, parse_time
from evidence.records import Evidence
from evidence.sources.people import (
    ACTIVE,
    LEAVERS_GITHUB,
    LEAVERS_IAM,
    LEAVERS_WORKSPACE,
    REMOVED,
    SIGHTINGS,
    SOURCE,
    sighting_key,
)

# --- offboarding --------------------------------------------------------------------------------


@dataclass
class AccountState:
    """A leaver's accounts in one system: `state` active / removed, or '' when unknown (`why`)."""

    state: str
    accounts: list[dict[str, Any]]
    evidence: list[Evidence]
    why: str = ""


def _deadline(left_on: date, days: int) -> tuple[date, datetime]:
    """The last day removal is in time, and the first instant it is late (UTC)."""
    last = left_on + timedelta(days=days)
    nxt = last + timedelta(days=1)
    return last, datetime(nxt.year, nxt.month, nxt.day, tzinfo=UTC)


def _sightings(ctx: CheckContext[Any]) -> tuple[dict[str, Any] | None, list[Evidence]]:
    for ev in ctx.evidence(SIGHTINGS):
        response = ev.response if isinstance(ev.response, dict) else {}
        found = response.get("sightings")
        return (found if isinstance(found, dict) else {}), [ev]
    return None, []


def _at(mark: Any) -> tuple[datetime | None, str]:
    if isinstance(mark, dict):
        return parse_time(mark.get("at")), str(mark.get("run_id", ""))
    return None, ""


def _offboard(
    ctx: CheckContext[OffboardParams], system: str, account: str, resource_type: str,
    state: Callable[[Person], AccountState | str],
) -> Iterator[Finding]:
    """Every roster person: leavers judged on `state` (a reason string: not applicable to them),
    active people skipped."""
    sightings, history_ev = _sightings(ctx)
    days = ctx.params.offboard_within_days

    def one(item: Item) -> Finding:
        person = Person.of(item)
        if not person.left:
            return ctx.skip(item, f"{person.email} is active on the roster")
        if person.left_on is None:  # the roster requires it of a leaver: a record edited by hand
            raise FieldError(f"{item.at}.left_on", "a date (YYYY-MM-DD)", "missing", item.ev.path, item.resource_id)
        found = state(person)
        if isinstance(found, str):
            return ctx.skip(item, found)
        last_day, late = _deadline(person.left_on, days)
        common: dict[str, Any] = {"resource_id": item.resource_id, "account": account,
                                  "resource_type": resource_type}
        expected = f"{system} access removed within {days} day(s) of left_on (by {last_day.isoformat()})"
        observed: dict[str, Any] = {"state": found.state or "unknown", "accounts": found.accounts,
                                    "left_on": person.left_on.isoformat(), "removal_due_by": last_day.isoformat(),
                                    "seen_at": iso(ctx.now)}
        names = ", ".join(a["account"] for a in found.accounts) or "(none listed)"
        who = f"{person.email} (left on {person.left_on.isoformat()})"
        evidence = [item.ev, *found.evidence]
        if not found.state:
            return ctx.finding(Status.ERROR, **common, evidence=evidence, observed=observed, expected=expected,
                               message=f"Whether the {system} access of {who} was removed cannot be shown: "
                                       f"{found.why}.")
        if found.state == ACTIVE:
            active = ", ".join(a["account"] for a in found.accounts if a.get("active")) or names
            # not removed is never a pass, even before the removal is due
            when = (f"its removal is due by {last_day.isoformat()}" if ctx.now < late
                    else f"{(ctx.now.date() - person.left_on).days} day(s) after leaving; it was due to be removed "
                         f"by {last_day.isoformat()}")
            return ctx.finding(
                Status.FAIL, **common, evidence=evidence, observed=observed, expected=expected,
                message=f"{who} still has {system} account {active} active: {when}.")
        # removed: when, as far as the history shows
        key = sighting_key(ctx.check.id, person.email)
        mark = (sightings or {}).get(key) if sightings is not None else None
        last_active, active_run = _at(mark.get("last_active") if isinstance(mark, dict) else None)
        first_removed, removed_run = _at(mark.get("first_removed") if isinstance(mark, dict) else None)
        by, by_run = (first_removed, removed_run) if first_removed is not None else (ctx.now, "this run")
        observed |= {"last_seen_active": {"at": iso(last_active), "run_id": active_run} if last_active else None,
                     "removed_by": {"at": iso(by), "run_id": by_run}}
        evidence += history_ev
        window = (f"between {iso(last_active)} (run {active_run}, still active) and {iso(by)} ({by_run})"
                  if last_active else f"by {iso(by)} ({by_run})")
        if last_active is not None and last_active >= late:
            return ctx.finding(
                Status.FAIL, **common, evidence=evidence, observed=observed, expected=expected,
                message=f"{who}: {system} account {names} was removed late, {window}; it was still active after "
                        f"the removal was due by {last_day.isoformat()}.")
        if by < late:
            return ctx.finding(
                Status.PASS, **common, evidence=evidence, observed=observed, expected=expected,
                message=f"{who}: {system} account {names} was removed {window}, within {days} day(s) of leaving.")
        if sightings is None:
            history = "the history was not read in this run"
        elif last_active is None:
            history = "no earlier run in the history saw the account active"
        else:
            history = "it was last seen active before the removal was due, and first seen removed after it"
        return ctx.finding(
            Status.MANUAL, **common, evidence=evidence, observed=observed, expected=expected,
            message=f"{who}: {system} account {names} is removed (confirmed {window}), but when it was removed is "
                    f"not known from this run's evidence ({history}); check it was by {last_day.isoformat()} "
                    f"(e.g. in the {system} admin audit log).")

    yield from ctx.each(PEOPLE, one)


@check(
    id=LEAVERS_WORKSPACE,
    reads=WORKSPACE_READS,
    source=SOURCE,
    description="Every roster leaver's Google Workspace account (by email and roster aliases, matched against "
    "each user's primary email and Workspace aliases) is suspended, archived or "
    "deleted, within offboard_within_days of left_on where the history shows when.",
    inventory=PEOPLE,
    requires=(SIGHTINGS,),
    params=OffboardParams,
    resource_type="GoogleWorkspace::User",
)
def leavers_workspace_removed(ctx: CheckContext[OffboardParams]) -> Iterator[Finding]:
    seen = workspace_seen(ctx)
    directory = directory_of(ctx)
    # every address a user answers to: a leaver's account renamed and kept, the old address an alias,
    # is still theirs
    users: dict[str, list[Item]] = {}
    for user in seen.items:
        for name in workspace_names(user):
            users.setdefault(name, []).append(user)

    def state(person: Person) -> AccountState:
        names = directory.names(directory.workspace, person)
        accounts: list[dict[str, Any]] = []
        evidence: list[Evidence] = []
        found: set[int] = set()
        for name in names:
            for user in users.get(name, []):
                if id(user) in found:
                    continue
                found.add(id(user))
                active = workspace_active(user)
                flags = {"suspended": user.need("suspended", bool), "archived": user.need("archived", bool)}
                alias = {} if user.name.lower() == name else {"matched_alias": name}
                accounts.append({"account": user.name, "active": active, **flags, **alias})
                evidence.append(user.ev)
        if any(a["active"] for a in accounts):
            return AccountState(ACTIVE, accounts, evidence)
        if seen.gap:
            return AccountState("", accounts, evidence, f"the Workspace users listing is incomplete ({seen.gap})")
        listed = {a["account"].lower() for a in accounts} | {a.get("matched_alias", "") for a in accounts}
        accounts += [{"account": n, "active": False, "listed": False} for n in names if n not in listed]
        return AccountState(REMOVED, accounts, evidence + seen.pages)

    yield from _offboard(ctx, "Google Workspace", seen.account, "GoogleWorkspace::User", state)


@check(
    id=LEAVERS_GITHUB,
    reads=GITHUB_READS,
    source=SOURCE,
    description="No roster leaver is a member of the GitHub organisation (by github_login), within "
    "offboard_within_days of left_on where the history shows when. GitHub has no aliases: a login renamed "
    "since is found only when the roster's github_login (or the aliases parameter) names the new login.",
    inventory=PEOPLE,
    requires=(SIGHTINGS,),
    params=OffboardParams,
    resource_type="github_member",
)
def leavers_github_removed(ctx: CheckContext[OffboardParams]) -> Iterator[Finding]:
    seen = github_seen(ctx)
    directory = directory_of(ctx)
    members: dict[str, Item] = {}
    for member in seen.items:
        members.setdefault(member.name.lower(), member)

    def state(person: Person) -> AccountState | str:
        names = directory.names(directory.github, person)
        if not names:
            return f"{person.email} has no github_login on the roster"
        found = [members[n] for n in names if n in members]
        accounts = [{"account": m.name, "active": True, "organization": m.account} for m in found]
        if found:
            return AccountState(ACTIVE, accounts, [m.ev for m in found])
        if seen.gap:
            return AccountState("", accounts, [], f"the GitHub members listing is incomplete ({seen.gap})")
        return AccountState(REMOVED, [{"account": n, "active": False, "member": False} for n in names],
                            seen.pages)

    yield from _offboard(ctx, "GitHub", seen.account, "github_member", state)


@check(
    id=LEAVERS_IAM,
    reads=IAM_READS,
    source=SOURCE,
    description="No roster leaver holds an IAM user (aws_iam_users) with a console password or an active "
    "access key, within offboard_within_days of left_on where the history shows when.",
    inventory=PEOPLE,
    requires=(SIGHTINGS,),
    params=OffboardParams,
    resource_type="AWS::IAM::User",
)
def leavers_iam_removed(ctx: CheckContext[OffboardParams]) -> Iterator[Finding]:
    seen = iam_seen(ctx)
    directory = directory_of(ctx)
    rows: dict[str, list[Item]] = {}
    for row in seen.items:
        if not is_root(row):
            rows.setdefault(row.need("user", str).lower(), []).append(row)

    def state(person: Person) -> AccountState | str:
        names = directory.names(directory.iam, person)
        if not names:
            return f"{person.email} has no aws_iam_users on the roster"
        accounts: list[dict[str, Any]] = []
        evidence: list[Evidence] = []
        for name in names:
            for row in rows.get(name, []):
                keys = active_keys(row)
                password = flag(row, "password_enabled")
                accounts.append({"account": row.resource_id, "active": password or bool(keys),
                                 "password_enabled": password, "active_access_keys": len(keys)})
                evidence.append(row.ev)
        if any(a["active"] for a in accounts):
            return AccountState(ACTIVE, accounts, evidence)
        if seen.gap:
            return AccountState("", accounts, evidence, f"the IAM credential report is incomplete ({seen.gap})")
        listed = {str(a["account"]).rsplit("/", 1)[-1].lower() for a in accounts}
        accounts += [{"account": n, "active": False, "listed": False} for n in names if n not in listed]
        return AccountState(REMOVED, accounts, evidence + seen.pages)

    yield from _offboard(ctx, "AWS IAM", "", "AWS::IAM::User", state)
