"""People orphan checks (ACCESS-LIFECYCLE): every active account belongs to an active roster person or
is a declared service account. See `evidence.checks.people`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.iam import is_root
from evidence.checks.inventory import Item
from evidence.checks.people_common import (
    GITHUB_READS,
    IAM_READS,
    ROSTER_FILE,
    WORKSPACE_READS,
    Directory,
    OrphanParams,
    Person,
    Seen,
    directory_of,
    github_seen,
    iam_credentialed,
    iam_seen,
    owner_of,
    workspace_active,
    workspace_names,
    workspace_seen,
)
from evidence.models import Finding, Status
from evidence.sources.people import (
    SOURCE,
)

# --- orphans ------------------------------------------------------------------------------------


def _orphans(
    ctx: CheckContext[OrphanParams], seen: Seen, table: Callable[[Directory], dict[str, Person]],
    judge: Callable[[Item], tuple[str, str] | str], also: Callable[[Item], list[str]] = lambda item: [],
) -> Iterator[Finding]:
    """One finding per listed account (`judge`: (its name, its kind), or why it is not judged:
    skipped), each account once, and one for the roster: the reconciliation as a whole."""
    directory = directory_of(ctx)
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
        ordered = [name.lower(), account.resource_id.lower(), *also(account)]
        keys = set(ordered)
        if keys & allowed:
            services += 1
            return ctx.finding(Status.PASS, **where, observed={"service_account": True},
                               message=f"{seen.system} account {name} is a declared service account.")
        owner = owner_of(owners, ordered)  # the account's own name first, then its aliases
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
    description="Every active Google Workspace user belongs to an active roster person (its primary email or "
    "any of its Workspace aliases is the person's email or roster alias) or is a declared service account.",
    inventory=ROSTER_FILE,
    params=OrphanParams,
)
def orphan_workspace_users(ctx: CheckContext[OrphanParams]) -> Iterator[Finding]:
    def judge(user: Item) -> tuple[str, str] | str:
        return (user.name, "GoogleWorkspace::User") if workspace_active(user) else \
            "suspended or archived user, who cannot sign in"

    yield from _orphans(ctx, workspace_seen(ctx), lambda d: d.workspace, judge, also=workspace_names)


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
        if not iam_credentialed(row):
            return "no console password and no active access key: the user cannot sign in"
        return row.need("user", str), "AWS::IAM::User"

    yield from _orphans(ctx, iam_seen(ctx), lambda d: d.iam, judge)
