"""The people checks' shared reading: the roster as the checks read it (`Person`), who each account
name belongs to (`Directory`), and another system's listing as this run holds it, complete or not
(`Seen`). See `evidence.checks.people`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import Field

from evidence.checks.base import CheckContext
from evidence.checks.github_members import DISABLED, MEMBER_LIST
from evidence.checks.google_workspace import USERS as WORKSPACE_USERS
from evidence.checks.iam import REPORT_ROWS, active_keys, flag
from evidence.checks.inventory import FieldError, Inventory, Item, Listing
from evidence.checks.params import Params
from evidence.records import Evidence
from evidence.sources.github import MEMBERS
from evidence.sources.google_workspace import USERS_LIST
from evidence.sources.people import (
    ROSTER,
)

PERSON_TYPE = "people::Person"
ROSTER_TYPE = "people::Roster"
#: every person of the roster, named by email
PEOPLE = Inventory(ROSTER, items="people", id="email", resource_type=PERSON_TYPE)
#: the roster as a whole (one record), named by its file
ROSTER_FILE = Inventory(ROSTER, items=None, resource_type=ROSTER_TYPE)

CREDENTIAL_REPORT = ("iam.GetCredentialReport", "iam.GenerateCredentialReport")
#: what the people checks read of the other sources (`Check.reads`)
WORKSPACE_READS = (USERS_LIST,)
GITHUB_READS = (MEMBERS,)
IAM_READS = CREDENTIAL_REPORT


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


def roster_people(ctx: CheckContext[Any]) -> list[Person]:
    out: list[Person] = []
    for item in ctx.items(PEOPLE):
        try:
            out.append(Person.of(item))
        except FieldError:
            continue  # that person's own finding reports the unreadable field
    return out


def directory_of(ctx: CheckContext[Any]) -> Directory:
    return Directory.build(roster_people(ctx), dict(ctx.params.aliases))


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
    return _seen(ctx, "AWS IAM", REPORT_ROWS, CREDENTIAL_REPORT)


def workspace_active(user: Item) -> bool:
    return not (user.need("suspended", bool) or user.need("archived", bool))


def iam_credentialed(row: Item) -> bool:
    return flag(row, "password_enabled") or bool(active_keys(row))


def workspace_names(user: Item) -> list[str]:
    """Every address a Workspace user answers to, lower-cased: its primary email, then its aliases
    (`aliases`, `nonEditableAliases`), so an account renamed but kept (the old address an alias)
    is still its person's."""
    names = [user.name.lower()]
    for key in ("aliases", "nonEditableAliases"):
        try:
            extra = user.need(key, list, [])
        except FieldError:  # not a list: the checks reading the user's other fields report it
            continue
        names += [a.strip().lower() for a in extra if isinstance(a, str) and a.strip()]
    return list(dict.fromkeys(names))


def owner_of(table: dict[str, Person], names: Iterable[str]) -> Person | None:
    """The person the first of `names` (in order) belongs to in `table`, if any."""
    return next((table[n.lower()] for n in names if n.lower() in table), None)
