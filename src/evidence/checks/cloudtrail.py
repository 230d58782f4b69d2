"""CloudTrail checks: a multi-region trail that is logging with log file validation (AUDIT-LOG).

The judged resource is the account: its `DescribeTrails` record (one per account) is the item,
its `trailList` a declared listing, and each multi-region trail's `GetTrailStatus` record (its
subject the trail ARN) says whether the trail is logging.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import ACCOUNT_TYPE, account_resource, failed_subjects, problem_pages
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams
from evidence.models import Finding, Status

#: one DescribeTrails record per account (the call is global), as the account it is about
ACCOUNT_TRAILS = Inventory("cloudtrail.DescribeTrails", items=None, resource_type=ACCOUNT_TYPE,
                           resource_id=account_resource)
TRAILS = Inventory("cloudtrail.DescribeTrails", items="trailList", id="TrailARN",
                   resource_type="AWS::CloudTrail::Trail")
#: one GetTrailStatus record per multi-region trail, its subject the trail ARN
TRAIL_STATUS = Inventory("cloudtrail.GetTrailStatus", items=None)

_UNKNOWN = "unknown"


@check(
    id="aws.cloudtrail.multi_region_trail",
    source="aws",
    description="Each account has a multi-region CloudTrail trail that is logging and validates its log files.",
    inventory=ACCOUNT_TRAILS,
    listings=(TRAILS, TRAIL_STATUS),
)
def multi_region_trail(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    # (account, trail ARN) -> IsLogging (or why it is unknown), with the record
    status: dict[tuple[str, str], tuple[bool | FieldError, str]] = {}
    for st in ctx.items(TRAIL_STATUS):
        try:
            status[(st.account, st.name)] = (st.need("IsLogging", bool), st.ev.path)
        except FieldError as exc:
            status[(st.account, st.name)] = (exc, st.ev.path)
    unknown = failed_subjects(ctx, "cloudtrail.GetTrailStatus")
    trails: dict[str, list[Item]] = {}
    for trail in ctx.items(TRAILS):
        trails.setdefault(trail.ev.path, []).append(trail)
    malformed = {ev.path for ev in problem_pages(ctx, TRAILS)}
    expected = {"multi_region": True, "logging": True, "log_file_validation": True}

    def one(page: Item) -> Finding:
        seen: list[dict[str, Any]] = []
        paths = [page.ev.path]
        errors: list[FieldError] = []
        for trail in trails.get(page.ev.path, []):
            try:
                multi = trail.need("IsMultiRegionTrail", bool)
                validation = trail.need("LogFileValidationEnabled", bool)
            except FieldError as exc:
                errors.append(exc)
                continue
            logging: bool | str | None = None
            if multi:
                found, path = status.get((trail.account, trail.name), (None, ""))
                if isinstance(found, FieldError):
                    errors.append(found)
                    logging = _UNKNOWN
                elif found is None:
                    # failed (already an error finding) or never collected: not known to log
                    logging = _UNKNOWN if validation or (trail.account, trail.name) in unknown else None
                else:
                    logging = found
                if path:
                    paths.append(path)
            seen.append({"trail": trail.name, "multi_region": multi, "log_file_validation": validation,
                         "logging": logging})
        good = [t for t in seen if t["multi_region"] and t["log_file_validation"] and t["logging"] is True]
        maybe = [t for t in seen if t["multi_region"] and t["log_file_validation"] and t["logging"] == _UNKNOWN]
        where: dict[str, Any] = {"resource_id": page.resource_id, "account": page.account, "expected": expected,
                                 "observed": {"trails": seen}, "evidence": sorted(set(paths))}
        if good:
            return ctx.finding(Status.PASS, **where,
                               message=f"Trail {good[0]['trail'].rsplit('/', 1)[-1]} logs every region with log "
                               "file validation.")
        if errors:
            return ctx.finding(Status.ERROR, **where,
                               message=f"No trail is known to be multi-region, logging and validating log files, "
                               f"and a trail cannot be read: {errors[0].describe()}.")
        if page.ev.path in malformed:
            return ctx.finding(Status.ERROR, **where,
                               message="No trail is known to be multi-region, logging and validating log files: "
                               "the trail list cannot be read.")
        if maybe:
            return ctx.finding(Status.ERROR, **where,
                               message="A multi-region trail with log file validation exists but whether it is "
                               "logging could not be read.")
        problems = "no trail" if not seen else "no trail that is multi-region, logging and validating log files"
        return ctx.finding(Status.FAIL, **where, message=f"The account has {problems}.")

    yield from ctx.each(ACCOUNT_TRAILS, one)
