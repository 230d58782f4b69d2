"""CloudTrail checks: a multi-region trail that is logging with log file validation (AUDIT-LOG)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import ACCOUNT_TYPE, account_arn, accounts_seen, failed_accounts, failed_subjects, items
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status


@check(
    id="aws.cloudtrail.multi_region_trail",
    source="aws",
    description="Each account has a multi-region CloudTrail trail that is logging and validates its log files.",
    requires=("cloudtrail.DescribeTrails", "cloudtrail.GetTrailStatus"),
    resource_type=ACCOUNT_TYPE,
)
def multi_region_trail(ctx: CheckContext) -> Iterator[Finding]:
    status: dict[tuple[str, str], tuple[bool, str]] = {
        (ev.account, ev.record.subject): (ev.response.get("IsLogging") is True, ev.path)
        for ev in ctx.evidence("cloudtrail.GetTrailStatus")
    }
    unknown = failed_subjects(ctx, "cloudtrail.GetTrailStatus")
    trails: dict[str, list[dict[str, Any]]] = {}
    paths: dict[str, list[str]] = {}
    for trail, ev in items(ctx, "cloudtrail.DescribeTrails", "trailList"):
        arn = str(trail.get("TrailARN") or trail.get("Name"))
        logging, path = status.get((ev.account, arn), (None, ""))
        if logging is None and (ev.account, arn) in unknown:
            logging_state: Any = "unknown"
        else:
            logging_state = logging
        trails.setdefault(ev.account, []).append({
            "trail": arn,
            "multi_region": trail.get("IsMultiRegionTrail") is True,
            "log_file_validation": trail.get("LogFileValidationEnabled") is True,
            "logging": logging_state,
        })
        paths.setdefault(ev.account, []).extend([ev.path] + ([path] if path else []))
    unlisted = failed_accounts(ctx, "cloudtrail.DescribeTrails")
    expected = {"multi_region": True, "logging": True, "log_file_validation": True}
    for account in accounts_seen(ctx, "cloudtrail.DescribeTrails"):
        seen = trails.get(account, [])
        good = [t for t in seen if t["multi_region"] and t["log_file_validation"] and t["logging"] is True]
        maybe = [t for t in seen if t["multi_region"] and t["log_file_validation"] and t["logging"] == "unknown"]
        listing = [e.path for e in ctx.index.entries_for("cloudtrail.DescribeTrails") if e.account == account and e.ok]
        where: dict[str, Any] = {"resource_id": account_arn(account), "account": account, "expected": expected,
                                 "observed": {"trails": seen}, "evidence": sorted(set(paths.get(account, listing)))}
        if good:
            yield ctx.finding(Status.PASS, **where,
                              message=f"Trail {good[0]['trail'].rsplit('/', 1)[-1]} logs every region with log "
                              "file validation.")
        elif account in unlisted:
            continue  # the failed DescribeTrails is already an error finding
        elif maybe:
            yield ctx.finding(Status.ERROR, **where,
                              message="A multi-region trail with log file validation exists but whether it is "
                              "logging could not be read.")
        else:
            problems = "no trail" if not seen else "no trail that is multi-region, logging and validating log files"
            yield ctx.finding(Status.FAIL, **where, message=f"The account has {problems}.")
