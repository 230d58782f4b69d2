"""The access review's population (`review_population`, read by `evidence.access_review`) and the
check that every account the latest completed review revoked is no longer active."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.iam import is_root, last_activity
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.people_common import (
    GITHUB_LISTING,
    GITHUB_READS,
    IAM_LISTING,
    IAM_READS,
    WORKSPACE_LISTING,
    WORKSPACE_READS,
    Directory,
    Person,
    SystemListing,
    github_seen,
    iam_credentialed,
    iam_seen,
    owner_of,
    read_roster,
    seen_in,
    workspace_active,
    workspace_names,
    workspace_seen,
)
from evidence.models import Finding, Status, iso
from evidence.records import EvidenceIndex
from evidence.sources.people import (
    ACCESS_REVIEW,
    SOURCE,
    SYSTEM_GITHUB,
    SYSTEM_IAM,
    SYSTEM_WORKSPACE,
)


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
    roster person ('' when none); sorted. And why a listing (or the roster) is incomplete, if one is
(`people_common.seen_in`: the rule the people checks judge by)."""
    people, roster_gap = read_roster(index)
    directory = Directory.build(people, {})
    out: list[ReviewAccount] = []
    # without the roster no account could be named with its person: the worksheet would be unusable
    gaps: list[str] = [roster_gap] if roster_gap else []

    def person(table: dict[str, Person], *names: str) -> str:
        owner = owner_of(table, names)
        return owner.email if owner is not None else ""

    def listing(of: SystemListing) -> list[Item]:
        seen = seen_in(index, of, empty_is_gap=True)
        gaps.extend(seen.gaps)
        return seen.items

    for user in listing(WORKSPACE_LISTING):
        try:
            if not workspace_active(user):
                continue
        except FieldError:
            gaps.append(f"{SYSTEM_WORKSPACE} users listing: {user.ev.path}: {user.at} cannot be read")
            continue
        out.append(ReviewAccount(SYSTEM_WORKSPACE, user.name, person(directory.workspace, *workspace_names(user)),
                                 _or_unknown(_workspace_login, user), _or_unknown(_workspace_admin, user)))
    members: dict[str, Item] = {}
    for member in listing(GITHUB_LISTING):
        members.setdefault(member.name.lower(), member)
    for member in members.values():
        # the organisation's roles are not collected (orgs/list-members without role=admin)
        out.append(ReviewAccount(SYSTEM_GITHUB, member.name, person(directory.github, member.name),
                                 "not collected", "unknown (org role not collected)"))
    for row in listing(IAM_LISTING):
        try:
            if is_root(row) or not iam_credentialed(row):
                continue
            name = row.need("user", str)
        except FieldError:
            gaps.append(f"{SYSTEM_IAM} credential report: {row.ev.path}: {row.at} cannot be read")
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

    # every account name -> the item that keeps it active (a Workspace user by its primary email and
    # each alias, so an account renamed but kept active still answers to the revoked address), and
    # the items whose state cannot be read; built once, not scanned per revoke
    active: dict[str, dict[str, Item]] = {system: {} for system in seen}
    unreadable: dict[str, dict[str, Item]] = {system: {} for system in seen}
    for system, listed in seen.items():
        for item in listed.items:
            if system == SYSTEM_WORKSPACE:
                names = workspace_names(item)
            elif system == SYSTEM_GITHUB:
                names = [item.name.lower()]
            else:
                names = [item.resource_id.lower()]
            try:
                on = (workspace_active(item) if system == SYSTEM_WORKSPACE
                      else system == SYSTEM_GITHUB or (not is_root(item) and iam_credentialed(item)))
            except FieldError:
                for name in names:
                    unreadable[system].setdefault(name, item)
                continue
            if on:
                for name in names:
                    active[system].setdefault(name, item)

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
            holder = active[system].get(account.strip().lower())
            observed = {"system": system, "account": account, "active": holder is not None, "review": review}
            if holder is not None:
                named = "" if holder.name.lower() == account.strip().lower() else f" (as {holder.name})"
                found.append(ctx.finding(
                    Status.FAIL, resource_id=rid, evidence=[record.ev, holder.ev], observed=observed, **where,
                    message=f"{system} account {account}{named} is still active, but the access review {name} "
                            f"decided to revoke it."))
            elif (odd := unreadable[system].get(account.strip().lower())) is not None:
                found.append(ctx.finding(
                    Status.ERROR, resource_id=rid, evidence=[record.ev, odd.ev], observed=observed, **where,
                    message=f"Whether {system} account {account}, revoked by the access review {name}, was removed "
                            f"cannot be shown: {odd.ev.path}: {odd.at} cannot be read."))
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
