"""GitHub checks of two-factor authentication (CODEHOST-MFA): the organisation requires it,
and no member is without it.

The members are listed twice (`orgs/list-members`, `filter=all` and `filter=2fa_disabled`,
told apart by the record's `filter` parameter). A member is judged from the second listing:
listed there is a `fail`, absent from it a `pass`, but only when that listing was read in full;
when one of its pages failed or does not hold its members where declared, whether the others
have two-factor authentication is unknown, and each of them is an `error` saying why.
"""

from __future__ import annotations

from collections.abc import Iterator

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import TOP, Inventory, Item
from evidence.checks.params import NoParams
from evidence.models import Finding, Status
from evidence.records import Evidence
from evidence.sources.github import MEMBERS, ORG_GET, SOURCE

#: the organisation itself, named by its login
ORGANIZATION = Inventory(ORG_GET, items=None, id="login", resource_type="github_organization")
#: the organisation's members (both filters), by login
MEMBER_LIST = Inventory(MEMBERS, items=TOP, id="login", resource_type="github_member")

DISABLED = "2fa_disabled"


@check(
    id="github.org_2fa_required",
    source=SOURCE,
    description="The GitHub organisation requires two-factor authentication of its members.",
    inventory=ORGANIZATION,
)
def org_2fa_required(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(org: Item) -> Finding:
        login = org.name
        # GitHub leaves the field out for a token that is not an owner's: unknown, never a pass
        value = org.need("two_factor_requirement_enabled", bool, None)
        if value is True:
            status, message = Status.PASS, f"Organisation {login} requires two-factor authentication."
        elif value is False:
            status, message = Status.FAIL, f"Organisation {login} does not require two-factor authentication."
        else:
            status = Status.ERROR
            message = (
                f"GitHub did not show whether organisation {login} requires two-factor authentication. "
                "Remedy: it shows two_factor_requirement_enabled only to an organisation owner's token "
                "(classic: admin:org)."
            )
        return ctx.finding(
            status,
            resource_id=org.resource_id,
            message=message,
            observed={"two_factor_requirement_enabled": value},
            expected={"two_factor_requirement_enabled": True},
            evidence=[org.ev],
        )

    yield from ctx.each(ORGANIZATION, one)


def _filter(ev: Evidence) -> object:
    return ev.parameters.get("filter")


@check(
    id="github.members_without_2fa",
    source=SOURCE,
    description="No member of the GitHub organisation is without two-factor authentication.",
    inventory=MEMBER_LIST,
)
def members_without_2fa(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    listing = ctx.listing(MEMBER_LIST)
    everyone: dict[str, Evidence] = {}
    without: dict[str, Evidence] = {}
    for item in listing.items:
        (without if _filter(item.ev) == DISABLED else everyone).setdefault(item.name, item.ev)
    failed = any(_filter(ctx.index.load(e)) == DISABLED for e in ctx.index.entries_for(MEMBERS) if not e.ok)
    malformed = any(_filter(p.ev) == DISABLED for p in listing.problems)
    listed = any(_filter(ev) == DISABLED for ev in listing.pages)
    unknown = ""
    if failed:
        unknown = "the members without two-factor authentication (filter=2fa_disabled) could not all be listed"
    elif malformed:
        unknown = "a page of the members without two-factor authentication (filter=2fa_disabled) does not hold them"
    elif everyone and not listed:
        org = next(iter(everyone.values())).account
        unknown = "the members without two-factor authentication (filter=2fa_disabled) were not listed"
        yield ctx.finding(
            Status.ERROR,
            resource_id=org or SOURCE,
            account=org,
            message="The members without two-factor authentication (filter=2fa_disabled) were not listed, "
            "so the members cannot be judged.",
            observed="not collected",
            expected="members with filter=2fa_disabled listed",
            evidence=sorted({ev.path for ev in everyone.values()}),
        )
    for login in sorted(set(everyone) | set(without), key=str.lower):
        if login in without:
            yield ctx.finding(
                Status.FAIL,
                resource_id=login,
                account=without[login].account,
                message=f"{login} is a member of {without[login].account} without two-factor authentication.",
                observed={"two_factor": False},
                expected={"two_factor": True},
                evidence=[without[login], *([everyone[login]] if login in everyone else [])],
            )
        elif unknown:
            yield ctx.finding(
                Status.ERROR,
                resource_id=login,
                account=everyone[login].account,
                message=f"Whether {login} has two-factor authentication is unknown: {unknown}.",
                observed={"two_factor": "unknown"},
                expected={"two_factor": True},
                evidence=[everyone[login]],
            )
        else:
            yield ctx.finding(
                Status.PASS,
                resource_id=login,
                account=everyone[login].account,
                message=f"{login} is not among the members without two-factor authentication.",
                observed={"two_factor": True},
                expected={"two_factor": True},
                evidence=[everyone[login]],
            )
