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
from evidence.checks.inventory import FieldError, Inventory, Item, Listing, read_listing
from evidence.checks.params import Params
from evidence.records import Evidence, EvidenceIndex
from evidence.sources.github import MEMBERS
from evidence.sources.google_workspace import USERS_LIST
from evidence.sources.people import (
    ROSTER,
    SYSTEM_GITHUB,
    SYSTEM_IAM,
    SYSTEM_WORKSPACE,
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
    return read_roster(ctx.index, ctx.listing(PEOPLE))[0]


def read_roster(index: EvidenceIndex, found: Listing | None = None) -> tuple[list[Person], str]:
    """The roster's people in one run's evidence (a person whose fields cannot be read is left
    out: that person's own finding reports it), and why the roster is not there ('' when it is:
    not collected, failed or malformed; `seen_in`'s rule)."""
    seen = seen_in(index, ROSTER_LISTING, found=found)
    people: list[Person] = []
    for item in seen.items:
        try:
            people.append(Person.of(item))
        except FieldError:
            continue
    return people, seen.gap


def directory_of(ctx: CheckContext[Any]) -> Directory:
    return Directory.build(roster_people(ctx), dict(ctx.params.aliases))


# --- another system's listing, complete or not ------------------------------------------------


def _every(ev: Evidence) -> bool:
    return True


def _not_2fa_disabled(ev: Evidence) -> bool:
    # every member (filter=all); the 2fa_disabled listing is CODEHOST-MFA's
    return ev.parameters.get("filter") != DISABLED


@dataclass(frozen=True)
class SystemListing:
    """Where one system's accounts are in a run's evidence: `inv` (its pages `keys`, whose
    failures count), the pages of it that are this listing (`keep`), and how a gap names it."""

    system: str
    what: str
    source: str
    inv: Inventory
    keys: tuple[str, ...]
    keep: Callable[[Evidence], bool] = _every


WORKSPACE_LISTING = SystemListing(SYSTEM_WORKSPACE, f"{SYSTEM_WORKSPACE} users listing", "google_workspace",
                                  WORKSPACE_USERS, (USERS_LIST,))
GITHUB_LISTING = SystemListing(SYSTEM_GITHUB, f"{SYSTEM_GITHUB} members listing", "github", MEMBER_LIST, (MEMBERS,),
                               _not_2fa_disabled)
IAM_LISTING = SystemListing(SYSTEM_IAM, f"{SYSTEM_IAM} credential report", "aws", REPORT_ROWS, CREDENTIAL_REPORT)
ROSTER_LISTING = SystemListing("HR roster", "people roster", "people", PEOPLE, (ROSTER,))


@dataclass
class Seen:
    """One system's accounts as this run listed them."""

    system: str
    items: list[Item]
    pages: list[Evidence]
    #: why the listing is not complete (empty when every page was collected and well formed)
    gaps: list[str] = field(default_factory=list)

    @property
    def gap(self) -> str:
        """The gaps in one line ('' when the listing is complete): a check must not pass on a gap."""
        return "; ".join(self.gaps)

    @property
    def account(self) -> str:
        return self.pages[0].account if self.pages else ""


def seen_in(index: EvidenceIndex, of: SystemListing, *, found: Listing | None = None,
            empty_is_gap: bool = False) -> Seen:
    """`of`'s accounts in one run's evidence (`index`; `found`: its listing already read), and
    its gaps, the one rule of the people checks and the access review: a failed page of the
    listing is a gap; no page of it at all (only pages `keep` drops, say) is a gap ("not
    collected"); a page not holding its items is a gap; and, with `empty_is_gap` (the review's
    population), a listing of no account at all is a gap too."""
    listing = found if found is not None else read_listing(of.inv, index)
    pages = [ev for ev in listing.pages if of.keep(ev)]
    failed = [ev for key in of.keys for ev in (index.load(e) for e in index.entries_for(key) if not e.ok)
              if of.keep(ev)]
    problems = [p for p in listing.problems if of.keep(p.ev)]
    items = [i for i in listing.items if of.keep(i.ev)]
    gaps = [f"{of.what}: {ev.path} could not be collected ({ev.error.code if ev.error else 'error'})"
            for ev in failed]
    gaps += [f"{of.what}: {p.ev.path} does not hold its items at '{p.path}' ({p.message})" for p in problems]
    if not pages and not failed:
        gaps.append(f"the run did not collect the {of.what}; run `evidence run` with {of.source} configured")
    elif empty_is_gap and not items and not failed and not problems:
        gaps.append(f"the {of.what} holds no accounts at all (every page empty)")
    return Seen(of.system, items, pages, gaps)


def _seen(ctx: CheckContext[Any], of: SystemListing) -> Seen:
    return seen_in(ctx.index, of, found=ctx.listing(of.inv))


def workspace_seen(ctx: CheckContext[Any]) -> Seen:
    return _seen(ctx, WORKSPACE_LISTING)


def github_seen(ctx: CheckContext[Any]) -> Seen:
    return _seen(ctx, GITHUB_LISTING)


def iam_seen(ctx: CheckContext[Any]) -> Seen:
    return _seen(ctx, IAM_LISTING)


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
