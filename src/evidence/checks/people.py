"""People checks (ACCESS-LIFECYCLE): leavers' access is removed everywhere, in time, and every
account belongs to a current person.

They judge the HR roster (`people.Roster`) against the evidence the other collectors gather in
the same run: the Google Workspace users listing, the GitHub organisation's members and the IAM
credential report. Those records are read, never required: a check declares the evidence of its
own source only (`requires`), so another system's listing that is missing, failed or malformed
is judged here, as an `error` saying so, never as "no account".

Offboarding (one finding per leaver and system, `observed.state` `active` or `removed`): a
leaver's account passes only when it is removed (Workspace: suspended, archived or not listed;
GitHub: not a member; IAM: no user of theirs with a console password or an active access key),
and only when the removal is shown to be within `offboard_within_days` of `left_on`:

* removed, and this run (or the first earlier run that saw it removed) is before the deadline:
  `pass`;
* removed, and an earlier run saw it still active after the deadline: `fail` (removed late);
* removed, but no run shows whether that was before the deadline: `manual`, saying so (never a
  pass on assumption);
* still active: `fail`, before the deadline too (the message says whether it is overdue).

"Earlier runs" are `people.Sightings`, which the people collector reads from the history: these
findings' own `observed.state`, run by run (see `evidence.collectors.people`).

Orphans (one finding per account, and one for the roster as a whole): every active Workspace
user, GitHub member and IAM user with a credential maps to an active roster person (by email,
alias, GitHub login or IAM user name, or through the `aliases` parameter) or is a declared
service account (`service_accounts`); any other account fails, named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import Field

from evidence.checks.base import CheckContext, check
from evidence.checks.github_members import DISABLED, MEMBER_LIST
from evidence.checks.google_workspace import USERS as WORKSPACE_USERS
from evidence.checks.iam import REPORT_ROWS, active_keys, flag, is_root, last_activity
from evidence.checks.inventory import FieldError, Inventory, Item, Listing, read_listing
from evidence.checks.params import Params
from evidence.models import Finding, Status, iso, parse_time
from evidence.records import Evidence, EvidenceIndex
from evidence.sources.github import MEMBERS
from evidence.sources.google_workspace import USERS_LIST
from evidence.sources.people import (
    ACCESS_REVIEW,
    ACTIVE,
    LEAVERS_GITHUB,
    LEAVERS_IAM,
    LEAVERS_WORKSPACE,
    REMOVED,
    ROSTER,
    SIGHTINGS,
    SOURCE,
    SYSTEM_GITHUB,
    SYSTEM_IAM,
    SYSTEM_WORKSPACE,
    sighting_key,
)

PERSON_TYPE = "people::Person"
ROSTER_TYPE = "people::Roster"
#: every person of the roster, named by email
PEOPLE = Inventory(ROSTER, items="people", id="email", resource_type=PERSON_TYPE)
#: the roster as a whole (one record), named by its file
ROSTER_FILE = Inventory(ROSTER, items=None, resource_type=ROSTER_TYPE)

_CREDENTIAL_REPORT = ("iam.GetCredentialReport", "iam.GenerateCredentialReport")
#: what the people checks read of the other sources (`Check.reads`)
WORKSPACE_READS = (USERS_LIST,)
GITHUB_READS = (MEMBERS,)
IAM_READS = _CREDENTIAL_REPORT


# --- parameters -------------------------------------------------------------------------------


class _AliasParams(Params):
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Further accounts of roster people: account (Workspace email, GitHub login or IAM user "
        "name) -> the person's roster email.",
    )


class OffboardParams(_AliasParams):
    offboard_within_days: int = Field(
        1, ge=0, le=3650, description="Days after left_on by which a leaver's access must be removed.",
    )


class OrphanParams(_AliasParams):
    service_accounts: list[str] = Field(
        default_factory=list,
        description="Accounts that belong to no person on purpose (Workspace emails, GitHub logins, IAM user "
        "names or ARNs); each is allowed without a roster person.",
    )


# --- the roster as the checks read it ---------------------------------------------------------


@dataclass(frozen=True)
class Person:
    email: str
    status: str
    left_on: date | None
    github_login: str
    aws_iam_users: tuple[str, ...]
    aliases: tuple[str, ...]

    @classmethod
    def of(cls, item: Item) -> Person:
        left = item.need("left_on", str, None)
        when = None
        if left is not None:
            try:
                when = date.fromisoformat(left)
            except ValueError:
                raise FieldError(f"{item.at}.left_on", "a date (YYYY-MM-DD)", repr(left), item.ev.path,
                                 item.resource_id) from None
        return cls(
            email=item.need("email", str),
            status=item.need("status", str),
            left_on=when,
            github_login=item.need("github_login", str, ""),
            aws_iam_users=tuple(item.need("aws_iam_users", list, [])),
            aliases=tuple(item.need("aliases", list, [])),
        )

    @property
    def left(self) -> bool:
        return self.status == "left"


@dataclass
class Directory:
    """Who each account name (lower-cased) belongs to, per system, from the roster and the
    `aliases` parameter; and the problems of that mapping (an alias naming nobody)."""

    people: dict[str, Person] = field(default_factory=dict)
    workspace: dict[str, Person] = field(default_factory=dict)
    github: dict[str, Person] = field(default_factory=dict)
    iam: dict[str, Person] = field(default_factory=dict)
    #: account -> the roster email an `aliases` entry names that is not on the roster
    dangling: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, people: Iterable[Person], aliases: dict[str, str]) -> Directory:
        out = cls()
        for p in people:
            out.people[p.email.lower()] = p
            for email in (p.email, *p.aliases):
                out.workspace.setdefault(email.lower(), p)
            if p.github_login:
                out.github.setdefault(p.github_login.lower(), p)
            for name in p.aws_iam_users:
                out.iam.setdefault(name.lower(), p)
        for account, email in sorted(aliases.items()):
            owner = out.people.get(email.strip().lower())
            if owner is None:
                out.dangling[account.lower()] = email
                continue
            name = account.strip().lower()
            # a GitHub login has no '@'; a Workspace account is an email; an IAM user name may be either
            for table in ((out.workspace,) if "@" in name else (out.github,)) + (out.iam,):
                table.setdefault(name, owner)
        return out

    def names(self, table: dict[str, Person], person: Person) -> list[str]:
        return sorted(n for n, p in table.items() if p.email.lower() == person.email.lower())


def _people(ctx: CheckContext[Any]) -> list[Person]:
    out: list[Person] = []
    for item in ctx.items(PEOPLE):
        try:
            out.append(Person.of(item))
        except FieldError:
            continue  # that person's own finding reports the unreadable field
    return out


def _directory(ctx: CheckContext[Any]) -> Directory:
    return Directory.build(_people(ctx), dict(ctx.params.aliases))


# --- another system's listing, complete or not ------------------------------------------------


@dataclass
class Seen:
    """One system's accounts as this run listed them."""

    system: str
    items: list[Item]
    pages: list[Evidence]
    #: why the listing is not complete ('' when every page was read and well formed)
    gap: str

    @property
    def account(self) -> str:
        return self.pages[0].account if self.pages else ""


def _seen(ctx: CheckContext[Any], system: str, inv: Inventory, keys: tuple[str, ...],
          keep: Callable[[Evidence], bool] = lambda ev: True) -> Seen:
    listing: Listing = ctx.listing(inv)
    pages = [ev for ev in listing.pages if keep(ev)]
    entries = [e for key in keys for e in ctx.index.entries_for(key)]
    failed = [ctx.index.load(e) for e in entries if not e.ok]
    failed = [ev for ev in failed if keep(ev)]
    problems = [p for p in listing.problems if keep(p.ev)]
    gaps: list[str] = []
    if not ctx.index.entries_for(inv.key):
        gaps.append(f"no {inv.key} evidence was collected in this run")
    gaps += [f"{ev.path} could not be collected ({ev.error.code if ev.error else 'error'})" for ev in failed]
    gaps += [f"{p.ev.path} does not hold its items at '{p.path}' ({p.message})" for p in problems]
    items = [i for i in listing.items if keep(i.ev)]
    return Seen(system, items, pages, "; ".join(gaps))


def workspace_seen(ctx: CheckContext[Any]) -> Seen:
    return _seen(ctx, "Google Workspace", WORKSPACE_USERS, (USERS_LIST,))


def github_seen(ctx: CheckContext[Any]) -> Seen:
    # every member (filter=all); the 2fa_disabled listing is CODEHOST-MFA's
    return _seen(ctx, "GitHub", MEMBER_LIST, (MEMBERS,), keep=lambda ev: ev.parameters.get("filter") != DISABLED)


def iam_seen(ctx: CheckContext[Any]) -> Seen:
    return _seen(ctx, "AWS IAM", REPORT_ROWS, _CREDENTIAL_REPORT)


def _workspace_active(user: Item) -> bool:
    return not (user.need("suspended", bool) or user.need("archived", bool))


def _iam_credentialed(row: Item) -> bool:
    return flag(row, "password_enabled") or bool(active_keys(row))


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
    description="Every roster leaver's Google Workspace account (email and aliases) is suspended, archived or "
    "deleted, within offboard_within_days of left_on where the history shows when.",
    inventory=PEOPLE,
    requires=(SIGHTINGS,),
    params=OffboardParams,
    resource_type="GoogleWorkspace::User",
)
def leavers_workspace_removed(ctx: CheckContext[OffboardParams]) -> Iterator[Finding]:
    seen = workspace_seen(ctx)
    directory = _directory(ctx)
    users: dict[str, list[Item]] = {}
    for user in seen.items:
        users.setdefault(user.name.lower(), []).append(user)

    def state(person: Person) -> AccountState:
        names = directory.names(directory.workspace, person)
        accounts: list[dict[str, Any]] = []
        evidence: list[Evidence] = []
        for name in names:
            for user in users.get(name, []):
                active = _workspace_active(user)
                flags = {"suspended": user.need("suspended", bool), "archived": user.need("archived", bool)}
                accounts.append({"account": user.name, "active": active, **flags})
                evidence.append(user.ev)
        if any(a["active"] for a in accounts):
            return AccountState(ACTIVE, accounts, evidence)
        if seen.gap:
            return AccountState("", accounts, evidence, f"the Workspace users listing is incomplete ({seen.gap})")
        listed = {a["account"].lower() for a in accounts}
        accounts += [{"account": n, "active": False, "listed": False} for n in names if n not in listed]
        return AccountState(REMOVED, accounts, evidence + seen.pages)

    yield from _offboard(ctx, "Google Workspace", seen.account, "GoogleWorkspace::User", state)


@check(
    id=LEAVERS_GITHUB,
    reads=GITHUB_READS,
    source=SOURCE,
    description="No roster leaver is a member of the GitHub organisation (by github_login), within "
    "offboard_within_days of left_on where the history shows when.",
    inventory=PEOPLE,
    requires=(SIGHTINGS,),
    params=OffboardParams,
    resource_type="github_member",
)
def leavers_github_removed(ctx: CheckContext[OffboardParams]) -> Iterator[Finding]:
    seen = github_seen(ctx)
    directory = _directory(ctx)
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
    directory = _directory(ctx)
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


# --- orphans ------------------------------------------------------------------------------------


def _orphans(
    ctx: CheckContext[OrphanParams], seen: Seen, table: Callable[[Directory], dict[str, Person]],
    judge: Callable[[Item], tuple[str, str] | str],
) -> Iterator[Finding]:
    """One finding per listed account (`judge`: (its name, its kind), or why it is not judged:
    skipped), each account once, and one for the roster: the reconciliation as a whole."""
    directory = _directory(ctx)
    owners = table(directory)
    allowed = {s.strip().lower() for s in ctx.params.service_accounts}
    orphans: list[str] = []
    mapped = services = 0

    def one(account: Item) -> Finding:
        nonlocal mapped, services
        verdict = judge(account)
        if isinstance(verdict, str):
            return ctx.skip(account, verdict)
        name, kind = verdict
        where: dict[str, Any] = {"resource_id": account.resource_id, "account": account.account,
                                 "region": account.region, "evidence": [account.ev], "resource_type": kind,
                                 "expected": "an active roster person, or a declared service account"}
        keys = {name.lower(), account.resource_id.lower()}
        if keys & allowed:
            services += 1
            return ctx.finding(Status.PASS, **where, observed={"service_account": True},
                               message=f"{seen.system} account {name} is a declared service account.")
        owner = next((owners[k] for k in sorted(keys) if k in owners), None)
        if owner is not None and not owner.left:
            mapped += 1
            return ctx.finding(Status.PASS, **where, observed={"person": owner.email, "status": owner.status},
                               message=f"{seen.system} account {name} belongs to {owner.email}, active on the roster.")
        orphans.append(name)
        if owner is not None:
            left = owner.left_on.isoformat() if owner.left_on else "?"
            return ctx.finding(Status.FAIL, **where,
                               observed={"person": owner.email, "status": owner.status, "left_on": left},
                               message=f"{seen.system} account {name} is active but belongs to {owner.email}, who "
                                       f"left on {left}.")
        dangling = next((directory.dangling[k] for k in sorted(keys) if k in directory.dangling), None)
        why = (f"its alias names {dangling}, who is not on the roster" if dangling
               else "it is not on the roster and is not a declared service account")
        return ctx.finding(Status.FAIL, **where, observed={"person": None},
                           message=f"{seen.system} account {name} is an orphan: {why}.")

    once: dict[tuple[str, str], Item] = {}
    for item in seen.items:
        once.setdefault((item.resource_id.lower(), item.account), item)
    yield from ctx.each(once.values(), one)
    for roster in ctx.items(ROSTER_FILE):
        counts = {"mapped_to_active_people": mapped, "service_accounts": services, "orphans": sorted(orphans)}
        where: dict[str, Any] = {"resource_id": roster.resource_id, "evidence": [roster.ev, *seen.pages],
                 "expected": f"every active {seen.system} account mapped to an active person or service account"}
        if seen.gap:
            yield ctx.finding(Status.ERROR, **where, observed={**counts, "incomplete": seen.gap},
                              message=f"Not every {seen.system} account could be reconciled with the roster: "
                                      f"{seen.gap}.")
        elif orphans:
            yield ctx.finding(Status.FAIL, **where, observed=counts,
                              message=f"{len(orphans)} active {seen.system} account(s) belong to no active person: "
                                      f"{', '.join(sorted(orphans))}.")
        else:
            yield ctx.finding(Status.PASS, **where, observed=counts,
                              message=f"Every active {seen.system} account belongs to an active person ({mapped}) "
                                      f"or is a declared service account ({services}).")


@check(
    id="people.orphan_workspace_users",
    reads=WORKSPACE_READS,
    source=SOURCE,
    description="Every active Google Workspace user belongs to an active roster person (email, alias) or is a "
    "declared service account.",
    inventory=ROSTER_FILE,
    params=OrphanParams,
)
def orphan_workspace_users(ctx: CheckContext[OrphanParams]) -> Iterator[Finding]:
    def judge(user: Item) -> tuple[str, str] | str:
        return (user.name, "GoogleWorkspace::User") if _workspace_active(user) else \
            "suspended or archived user, who cannot sign in"

    yield from _orphans(ctx, workspace_seen(ctx), lambda d: d.workspace, judge)


@check(
    id="people.orphan_github_members",
    reads=GITHUB_READS,
    source=SOURCE,
    description="Every member of the GitHub organisation belongs to an active roster person (github_login) or "
    "is a declared service account.",
    inventory=ROSTER_FILE,
    params=OrphanParams,
)
def orphan_github_members(ctx: CheckContext[OrphanParams]) -> Iterator[Finding]:
    yield from _orphans(ctx, github_seen(ctx), lambda d: d.github, lambda m: (m.name, "github_member"))


@check(
    id="people.orphan_iam_users",
    reads=IAM_READS,
    source=SOURCE,
    description="Every IAM user with a console password or an active access key belongs to an active roster "
    "person (aws_iam_users) or is a declared service account.",
    inventory=ROSTER_FILE,
    params=OrphanParams,
)
def orphan_iam_users(ctx: CheckContext[OrphanParams]) -> Iterator[Finding]:
    def judge(row: Item) -> tuple[str, str] | str:
        if is_root(row):
            return "the root user is no person's account (ROOT-ACCOUNT judges it)"
        if not _iam_credentialed(row):
            return "no console password and no active access key: the user cannot sign in"
        return row.need("user", str), "AWS::IAM::User"

    yield from _orphans(ctx, iam_seen(ctx), lambda d: d.iam, judge)


# --- the access review --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewAccount:
    """One account of an access review's population, as a run recorded it."""

    system: str
    account: str
    person: str
    last_activity: str
    admin_or_owner: str


def _or_unknown(read: Callable[[Item], str], item: Item) -> str:
    try:
        return read(item)
    except FieldError:
        return "unknown"


def _workspace_admin(user: Item) -> str:
    if user.need("isAdmin", bool, False):
        return "super admin"
    return "delegated admin" if user.need("isDelegatedAdmin", bool, False) else "no"


def _workspace_login(user: Item) -> str:
    last = user.need("lastLoginTime", str, "")
    return "never" if not last or last.startswith("1970-01-01") else last


def _iam_activity(row: Item) -> str:
    when, name = last_activity(row)
    return "unknown" if when is None else (f"never used (created {iso(when)})" if "never" in name else iso(when))


def review_population(index: EvidenceIndex) -> tuple[list[ReviewAccount], list[str]]:
    """The accounts an access review covers, from one run's evidence (`index`: its bundle): every
    active Workspace user, every GitHub organisation member and every IAM user with a console
    password or an active access key (the accounts the orphan checks reconcile), each with its
    roster person ('' when none); sorted. And why a listing is incomplete, if one is."""
    people: list[Person] = []
    for item in read_listing(PEOPLE, index).items:
        try:
            people.append(Person.of(item))
        except FieldError:
            continue
    directory = Directory.build(people, {})
    out: list[ReviewAccount] = []
    gaps: list[str] = []

    def person(table: dict[str, Person], *names: str) -> str:
        owner = next((table[n.lower()] for n in names if n.lower() in table), None)
        return owner.email if owner is not None else ""

    def listing(inv: Inventory, keys: tuple[str, ...], keep: Callable[[Evidence], bool]) -> list[Item]:
        found = read_listing(inv, index)
        failed = [e.path for key in keys for e in index.entries_for(key) if not e.ok]
        gaps.extend(f"{path} could not be collected" for path in failed)
        gaps.extend(f"{p.ev.path} does not hold its items at '{p.path}'" for p in found.problems if keep(p.ev))
        return [i for i in found.items if keep(i.ev)]

    for user in listing(WORKSPACE_USERS, (USERS_LIST,), lambda ev: True):
        try:
            if not _workspace_active(user):
                continue
        except FieldError:
            gaps.append(f"{user.ev.path}: {user.at} cannot be read")
            continue
        out.append(ReviewAccount(SYSTEM_WORKSPACE, user.name, person(directory.workspace, user.name),
                                 _or_unknown(_workspace_login, user), _or_unknown(_workspace_admin, user)))
    members: dict[str, Item] = {}
    for member in listing(MEMBER_LIST, (MEMBERS,), lambda ev: ev.parameters.get("filter") != DISABLED):
        members.setdefault(member.name.lower(), member)
    for member in members.values():
        # the organisation's roles are not collected (orgs/list-members without role=admin)
        out.append(ReviewAccount(SYSTEM_GITHUB, member.name, person(directory.github, member.name),
                                 "not collected", "unknown (org role not collected)"))
    for row in listing(REPORT_ROWS, _CREDENTIAL_REPORT, lambda ev: True):
        try:
            if is_root(row) or not _iam_credentialed(row):
                continue
            name = row.need("user", str)
        except FieldError:
            gaps.append(f"{row.ev.path}: {row.at} cannot be read")
            continue
        out.append(ReviewAccount(SYSTEM_IAM, row.resource_id, person(directory.iam, name, row.resource_id),
                                 _or_unknown(_iam_activity, row),
                                 "unknown (IAM policies not collected)"))
    order = {SYSTEM_WORKSPACE: 0, SYSTEM_GITHUB: 1, SYSTEM_IAM: 2}
    out.sort(key=lambda a: (order[a.system], a.account.lower(), a.account))
    return out, gaps


REVIEW_TYPE = "people::AccessReview"
#: the latest completed access review (one record), named by its subject
REVIEW = Inventory(ACCESS_REVIEW, items=None, resource_type=REVIEW_TYPE)


@check(
    id="people.access_review_revocations",
    reads=WORKSPACE_READS + GITHUB_READS + IAM_READS,
    source=SOURCE,
    description="Every account the latest completed access review marked `revoke` is no longer active (Workspace "
    "user suspended, archived or deleted; GitHub member removed; IAM user without a console password or active "
    "access key).",
    inventory=REVIEW,
)
def access_review_revocations(ctx: CheckContext[Any]) -> Iterator[Finding]:
    seen = {SYSTEM_WORKSPACE: workspace_seen(ctx), SYSTEM_GITHUB: github_seen(ctx), SYSTEM_IAM: iam_seen(ctx)}

    def still_active(system: str, account: str) -> tuple[bool, list[Evidence]]:
        name = account.lower()
        for item in seen[system].items:
            if system == SYSTEM_WORKSPACE and item.name.lower() == name and _workspace_active(item):
                return True, [item.ev]
            if system == SYSTEM_GITHUB and item.name.lower() == name:
                return True, [item.ev]
            if (system == SYSTEM_IAM and item.resource_id.lower() == name and not is_root(item)
                    and _iam_credentialed(item)):
                return True, [item.ev]
        return False, []

    def one(record: Item) -> list[Finding]:
        review = record.need("review", dict, None)
        if review is None:
            return [ctx.skip(record, "no completed access review is recorded (evidence access-review complete)")]
        name = f"{review.get('file', '?')} (sha256 {str(review.get('sha256', ''))[:12]}, completed by " \
               f"{review.get('attached_by', '?')} at {review.get('attached_at', '?')})"
        where: dict[str, Any] = {"expected": "no longer active", "resource_type": REVIEW_TYPE}
        found: list[Finding] = []
        revokes = record.parts("revoke")
        for part in revokes:
            system, account = part.need("system", str), part.need("account", str)
            rid = f"{system}:{account}"
            if system not in seen:
                found.append(ctx.finding(Status.ERROR, resource_id=rid, evidence=[record.ev], **where,
                                         observed={"system": system},
                                         message=f"The access review {name} revoked {account} in an unknown system "
                                                 f"'{system}'."))
                continue
            active, evidence = still_active(system, account)
            observed = {"system": system, "account": account, "active": active, "review": review}
            if active:
                found.append(ctx.finding(
                    Status.FAIL, resource_id=rid, evidence=[record.ev, *evidence], observed=observed, **where,
                    message=f"{system} account {account} is still active, but the access review {name} decided to "
                            f"revoke it."))
            elif seen[system].gap:
                found.append(ctx.finding(
                    Status.ERROR, resource_id=rid, evidence=[record.ev], observed=observed, **where,
                    message=f"Whether {system} account {account}, revoked by the access review {name}, was removed "
                            f"cannot be shown: {seen[system].gap}."))
            else:
                found.append(ctx.finding(
                    Status.PASS, resource_id=rid, evidence=[record.ev, *seen[system].pages], observed=observed,
                    **where, message=f"{system} account {account}, revoked by the access review {name}, is no "
                                     f"longer active."))
        # the review as a whole: every revoke carried out, or which were not
        accounts = [f.resource_id for f in found]
        failed = [f.resource_id for f in found if f.status is Status.FAIL]
        unknown = [f.resource_id for f in found if f.status is Status.ERROR]
        observed = {"review": review, "revoked": accounts, "still_active": failed, "unknown": unknown}
        if failed:
            status, message = Status.FAIL, (f"{len(failed)} account(s) the access review {name} revoked are still "
                                            f"active: {', '.join(failed)}.")
        elif unknown:
            status, message = Status.ERROR, (f"Whether {len(unknown)} account(s) the access review {name} revoked "
                                             f"were removed cannot be shown: {', '.join(unknown)}.")
        elif accounts:
            status, message = Status.PASS, (f"Every account the access review {name} revoked is no longer active "
                                            f"({len(accounts)}).")
        else:
            status, message = Status.PASS, f"The access review {name} revoked no account."
        found.append(ctx.finding(status, resource_id=record.resource_id, evidence=[record.ev], observed=observed,
                                 **where, message=message))
        return found

    yield from ctx.each(REVIEW, one)
