"""Helpers shared by the AWS checks: ARNs, timestamps, per-account grouping and per-resource
evidence lookup.

Not a plugin (it defines no checks). Every helper is pure: it reads the evidence index only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evidence.checks.base import CheckContext
from evidence.checks.inventory import FieldError, Inventory, Item, Listing, need
from evidence.records import Evidence
from evidence.sources.aws import LIST_PROTECTIONS, NO_SHIELD, account_arn, answer_code

#: the resource type of account-level settings (as AWS Config names it)
ACCOUNT_TYPE = "AWS::::Account"


def account_resource(_: str, ev: Evidence) -> str:
    """`Inventory.resource_id` of a per-account record (items=None): the account's ARN."""
    return account_arn(ev.account)


def age_days(now: datetime, then: datetime) -> int:
    """Whole days from `then` to `now`."""
    return (now - then).days


def failed_subjects(ctx: CheckContext[Any], *keys: str) -> set[tuple[str, str]]:
    """(account, subject) of every failed call of `keys`: the judge already reports each as
    an error, so a check does not report those resources again."""
    out: set[tuple[str, str]] = set()
    for key in keys:
        for entry in ctx.index.entries_for(key):
            if not entry.ok:
                ev = ctx.index.load(entry)
                out.add((ev.account, ev.record.subject))
    return out


def failed_scopes(ctx: CheckContext[Any], *keys: str) -> set[tuple[str, str]]:
    """(account, region) pairs where a call of `keys` failed: there, absence proves nothing."""
    return {(e.account, e.region) for key in keys for e in ctx.index.entries_for(key) if not e.ok}


def failed_accounts(ctx: CheckContext[Any], *keys: str) -> set[str]:
    return {account for account, _ in failed_scopes(ctx, *keys)}


def accounts_seen(ctx: CheckContext[Any], key: str) -> list[str]:
    """Accounts with any record (ok or failed) of `key`, sorted."""
    return sorted({e.account for e in ctx.index.entries_for(key) if e.account})


def problem_pages(ctx: CheckContext[Any], *invs: Inventory) -> list[Evidence]:
    """Pages of `invs` whose items are not where declared (the judge reports each as an
    error; a check must not read their absence as "nothing there")."""
    return [p.ev for inv in invs for p in ctx.listing(inv).problems]


def problem_scopes(ctx: CheckContext[Any], *invs: Inventory) -> set[tuple[str, str]]:
    """(account, region) of every malformed page of `invs`."""
    return {(ev.account, ev.region) for ev in problem_pages(ctx, *invs)}


def problem_accounts(ctx: CheckContext[Any], *invs: Inventory) -> set[str]:
    return {account for account, _ in problem_scopes(ctx, *invs)}


def by_account(found: Iterable[Item]) -> dict[str, list[Item]]:
    """Items grouped by account, in listing order."""
    out: dict[str, list[Item]] = {}
    for item in found:
        out.setdefault(item.account, []).append(item)
    return out


def count_by_subject(listing: Listing) -> dict[tuple[str, str], tuple[int | None, list[str]]]:
    """(account, subject) -> (items over all its pages, or None when one of its pages is
    malformed; the pages' paths), for per-resource child listings (selections of a plan...)."""
    bad = {p.ev.path for p in listing.problems}
    per_page: dict[str, int] = {}
    for item in listing.items:
        per_page[item.ev.path] = per_page.get(item.ev.path, 0) + 1
    out: dict[tuple[str, str], tuple[int | None, list[str]]] = {}
    for ev in listing.pages:
        key = (ev.account, ev.record.subject)
        count, paths = out.get(key, (0, []))
        here = None if ev.path in bad or count is None else count + per_page.get(ev.path, 0)
        out[key] = (here, [*paths, ev.path])
    return out


def unbound(exc: FieldError) -> FieldError:
    """`exc` without the resource it was raised for, so `ctx.field_error(exc, item)` reports it
    on `item` (an account-level finding about a field of one of its records)."""
    return FieldError(exc.field, exc.expected, exc.found, exc.record)


def items(ctx: CheckContext[Any], key: str, *path: str) -> Iterator[tuple[dict[str, Any], Evidence]]:
    """Each item of the list at `path` in every successful page of `key`, with its record.

    Deprecated for checks: declare an `Inventory` and read `ctx.items(...)` instead, so a page
    of the wrong shape is an error rather than an empty list."""
    for ev in ctx.evidence(key):
        node: Any = ev.response
        for part in path:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        for item in node or []:
            if isinstance(item, dict):
                yield item, ev


def error_answer(ev: Evidence) -> str:
    """The error code a call answered with (see `Caller.call(answers=...)`), or ''."""
    return answer_code(ev.response)


@dataclass
class Shield:
    """What `shield.ListProtections` says: the protected resources, and the accounts whose
    protections could not be read (a failed call or a page of the wrong shape)."""

    #: (account, protected resource ARN) -> the page naming it
    protected: dict[tuple[str, str], Evidence] = field(default_factory=dict)
    #: account -> why its protections are unknown
    unknown: dict[str, str] = field(default_factory=dict)


def shield_protections(ctx: CheckContext[Any]) -> Shield:
    """Shield Advanced protections by account. A `ResourceNotFoundException` answer means "no
    protection"; a page without its `Protections` list, or a protection without its
    `ResourceArn`, makes the account's protections unknown (never "none")."""
    out = Shield()
    for entry in ctx.index.entries_for(LIST_PROTECTIONS):
        if not entry.ok:
            out.unknown.setdefault(entry.account, "ListProtections failed")
    for ev in ctx.evidence(LIST_PROTECTIONS):
        if error_answer(ev) == NO_SHIELD:
            continue
        try:
            protections = need(ev.response, "Protections", list)
        except FieldError as exc:
            out.unknown.setdefault(ev.account, f"{ev.path}: {exc.describe()}")
            continue
        for n, protection in enumerate(protections):
            try:
                out.protected[(ev.account, need(protection, "ResourceArn", str))] = ev
            except FieldError as exc:
                bad = FieldError(f"Protections[{n}].{exc.field}", exc.expected, exc.found, ev.path)
                out.unknown.setdefault(ev.account, bad.describe())
    return out


__all__ = [
    "ACCOUNT_TYPE",
    "NO_SHIELD",
    "Shield",
    "account_arn",
    "account_resource",
    "accounts_seen",
    "age_days",
    "by_account",
    "count_by_subject",
    "error_answer",
    "failed_accounts",
    "failed_scopes",
    "failed_subjects",
    "items",
    "problem_accounts",
    "problem_pages",
    "problem_scopes",
    "shield_protections",
    "unbound",
]
