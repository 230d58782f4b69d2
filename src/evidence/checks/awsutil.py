"""Helpers shared by the AWS checks: ARNs, timestamps, and per-resource evidence lookup.

Not a plugin (it defines no checks). Every helper is pure: it reads the evidence index only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from evidence.checks.base import CheckContext
from evidence.records import Evidence

#: the resource type of account-level settings (as AWS Config names it)
ACCOUNT_TYPE = "AWS::::Account"


def account_arn(account: str) -> str:
    """The ARN AWS uses for an account as a whole (and for its root user)."""
    return f"arn:aws:iam::{account}:root"




def age_days(now: datetime, then: datetime) -> int:
    """Whole days from `then` to `now`."""
    return (now - then).days


def failed_subjects(ctx: CheckContext, *keys: str) -> set[tuple[str, str]]:
    """(account, subject) of every failed call of `keys`: the judge already reports each as
    an error, so a check does not report those resources again."""
    out: set[tuple[str, str]] = set()
    for key in keys:
        for entry in ctx.index.entries_for(key):
            if not entry.ok:
                ev = ctx.index.load(entry)
                out.add((ev.account, ev.record.subject))
    return out


def failed_scopes(ctx: CheckContext, *keys: str) -> set[tuple[str, str]]:
    """(account, region) pairs where a call of `keys` failed: there, absence proves nothing."""
    return {(e.account, e.region) for key in keys for e in ctx.index.entries_for(key) if not e.ok}


def failed_accounts(ctx: CheckContext, *keys: str) -> set[str]:
    return {account for account, _ in failed_scopes(ctx, *keys)}


def accounts_seen(ctx: CheckContext, key: str) -> list[str]:
    """Accounts with any record (ok or failed) of `key`, sorted."""
    return sorted({e.account for e in ctx.index.entries_for(key) if e.account})


def items(ctx: CheckContext, key: str, *path: str) -> Iterator[tuple[dict[str, Any], Evidence]]:
    """Each item of the list at `path` in every successful page of `key`, with its record."""
    for ev in ctx.evidence(key):
        node: Any = ev.response
        for part in path:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        for item in node or []:
            if isinstance(item, dict):
                yield item, ev


def error_answer(ev: Evidence) -> str:
    """The error code a call answered with (see `Caller.call(answers=...)`), or ''."""
    resp = ev.response
    if isinstance(resp, dict) and isinstance(resp.get("Error"), dict):
        return str(resp["Error"].get("Code", ""))
    return ""


def shield_protected(ctx: CheckContext) -> dict[tuple[str, str], Evidence]:
    """(account, protected resource ARN) -> the ListProtections page naming it."""
    out: dict[tuple[str, str], Evidence] = {}
    for protection, ev in items(ctx, "shield.ListProtections", "Protections"):
        arn = protection.get("ResourceArn")
        if arn:
            out[(ev.account, str(arn))] = ev
    return out
