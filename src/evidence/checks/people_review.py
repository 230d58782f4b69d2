"""The access review's population (`review_population`, read by `evidence.access_review`) and the
check that every account the latest completed review revoked is no longer active."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.github_members import DISABLED, MEMBER_LIST
from evidence.checks.google_workspace import USERS as WORKSPACE_USERS
from evidence.checks.iam import REPORT_ROWS, is_root, last_activity
from evidence.checks.inventory import FieldError, Inventory, Item, read_listing
from evidence.checks.people_common import (
    CREDENTIAL_REPORT,
    GITHUB_READS,
    IAM_READS,
    PEOPLE,
    WORKSPACE_READS,
    Directory,
    Person,
    github_seen,
    iam_credentialed,
    iam_seen,
    owner_of,
    workspace_active,
    workspace_names,
    workspace_seen,
)
from evidence.models import Finding, Status, iso
from evidence.records import Evidence, EvidenceIndex
from evidence.sources.github import MEMBERS
from evidence.sources.google_workspace import USERS_LIST
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
        owner = owner_of(table, names)
        return owner.email if owner is not None else ""

    def listing(what: str, source: str, inv: Inventory, keys: tuple[str, ...],
                keep: Callable[[Evidence], bool]) -> list[Item]:
        found = read_listing(inv, index)
        failed = [e.path for key in keys for e in index.entries_for(key) if not e.ok]
        pages = [ev for ev in found.pages if keep(ev)]
        items = [i for i in found.items if keep(i.ev)]
        problems = [p for p in found.problems if keep(p.ev)]
        gaps.extend(f"{what}: {path} could not be collected" for path in failed)
        gaps.extend(f"{what}: {p.ev.path} does not hold its items at '{p.path}'" for p in problems)
        # no records at all is a gap too: a population without a system's accounts is not complete
        if not pages and not failed:
            gaps.append(f"the run did not collect the {what}; run `evidence run` with {source} configured")
        elif not items and not failed and not problems:
            gaps.append(f"the {what} holds no accounts at all (every page empty)")
        return items

    for user in listing(f"{SYSTEM_WORKSPACE} users listing", "google_workspace", WORKSPACE_USERS, (USERS_LIST,),
                        lambda ev: True):
        try:
            if not workspace_active(user):
                continue
        except FieldError:
            gaps.append(f"{SYSTEM_WORKSPACE} users listing: {user.ev.path}: {user.at} cannot be read")
            continue
        out.append(ReviewAccount(SYSTEM_WORKSPACE, user.name, person(directory.workspace, *workspace_names(user)),
                                 _or_unknown(_workspace_login, user), _or_unknown(_workspace_admin, user)))
    members: dict[str, Item] = {}
    for member in listing(f"{SYSTEM_GITHUB} members listing", "github", MEMBER_LIST, (MEMBERS,),
                          lambda ev: ev.parameters.get("filter") != DISABLED):
        members.setdefault(member.name.lower(), member)
    for member in members.values():
        # the organisation's roles are not collected (orgs/list-members without role=admin)
        out.append(ReviewAccount(SYSTEM_GITHUB, member.name, person(directory.github, member.name),
                                 "not collected", "unknown (org role not collected)"))
    for row in listing(f"{SYSTEM_IAM} credential report", "aws", REPORT_ROWS, CREDENTIAL_REPORT, lambda ev: True):
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

    def still_active(system: str, account: str) -> tuple[bool, list[Evidence]]:
        name = account.lower()
        for item in seen[system].items:
            if system == SYSTEM_WORKSPACE and item.name.lower() == name and workspace_active(item):
                return True, [item.ev]
            if system == SYSTEM_GITHUB and item.name.lower() == name:
                return True, [item.ev]
            if (system == SYSTEM_IAM and item.resource_id.lower() == name and not is_root(item)
                    and iam_credentialed(item)):
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
