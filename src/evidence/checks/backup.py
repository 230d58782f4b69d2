"""AWS Backup checks: a backup plan that backs something up (BACKUP-PITR) and restores that
were actually tested (DR-TEST). Both are judged per account across the in-scope regions.

The judged resource is the account (one finding each); every page of the account's listing
(`ListBackupPlans`, `ListRestoreJobs`: one per region and page) is an item of it, covered by
that finding. The plans, rules, selections and restore jobs the verdict is made of are declared
listings, so a page that holds them under another key is an error, and such an account is never
judged "no plan" or "no restore".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from evidence.checks.awsutil import (
    ACCOUNT_TYPE,
    account_arn,
    account_resource,
    accounts_seen,
    by_account,
    count_by_subject,
    failed_accounts,
    problem_accounts,
)
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import FieldError, Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.models import Finding, Status, iso, parse_time

#: every ListBackupPlans page, as the account it is about
PLAN_PAGES = Inventory("backup.ListBackupPlans", items=None, resource_type=ACCOUNT_TYPE,
                       resource_id=account_resource)
PLANS = Inventory("backup.ListBackupPlans", items="BackupPlansList", id="BackupPlanArn",
                  resource_type="AWS::Backup::BackupPlan")
#: the rules of each plan (one GetBackupPlan record per listed plan, its subject the plan ARN)
PLAN_RULES = Inventory("backup.GetBackupPlan", items="BackupPlan.Rules", id="RuleName")
#: the resource selections of each plan (ListBackupSelections pages, their subject the plan ARN)
SELECTIONS = Inventory("backup.ListBackupSelections", items="BackupSelectionsList", id="SelectionId")
#: every ListRestoreJobs page, as the account it is about
RESTORE_PAGES = Inventory("backup.ListRestoreJobs", items=None, resource_type=ACCOUNT_TYPE,
                          resource_id=account_resource)
RESTORE_JOBS = Inventory("backup.ListRestoreJobs", items="RestoreJobs", id="RestoreJobId")

#: how far back the collector lists restore jobs (`aws_services.RESTORE_LOOKBACK_DAYS`): a longer
#: window would judge restores that were never collected
_LOOKBACK_DAYS = 400


@check(
    id="aws.backup.plan_with_rule",
    source="aws",
    description="Each account has at least one AWS Backup plan with a backup rule and a resource selection "
    "(a plan that selects nothing backs nothing up).",
    inventory=PLAN_PAGES,
    listings=(PLANS, PLAN_RULES, SELECTIONS),
)
def plan_with_rule(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    rules = count_by_subject(ctx.listing(PLAN_RULES))
    selections = count_by_subject(ctx.listing(SELECTIONS))
    # a failed call, or a plan list of the wrong shape, leaves plans unseen: never "no plan"
    unknown_accounts = failed_accounts(ctx, "backup.ListBackupPlans", "backup.GetBackupPlan",
                                       "backup.ListBackupSelections") | problem_accounts(ctx, PLANS)
    plans: dict[str, list[dict[str, Any]]] = {}
    paths: dict[str, list[str]] = {}
    for account, listed in by_account(ctx.items(PLANS)).items():
        for plan in listed:
            n_rules, rule_paths = rules.get((account, plan.name), (-1, []))
            n_sel, sel_paths = selections.get((account, plan.name), (-1, []))
            plans.setdefault(account, []).append({
                "plan": plan.name, "name": plan.need("BackupPlanName", str, None), "region": plan.region,
                "rules": "unknown" if n_rules is None or n_rules < 0 else n_rules,
                "selections": "unknown" if n_sel is None or n_sel < 0 else n_sel,
            })
            paths.setdefault(account, []).extend([plan.ev.path, *rule_paths, *sel_paths])
    for page in ctx.items(PLAN_PAGES):
        paths.setdefault(page.account, []).append(page.ev.path)
    for account in accounts_seen(ctx, "backup.ListBackupPlans"):
        seen = plans.get(account, [])
        good = [p for p in seen if isinstance(p["rules"], int) and p["rules"] > 0
                and isinstance(p["selections"], int) and p["selections"] > 0]
        maybe = [p for p in seen if p not in good and p["rules"] != 0 and p["selections"] != 0]
        where: dict[str, Any] = {
            "resource_id": account_arn(account), "account": account, "evidence": sorted(set(paths.get(account, []))),
            "observed": {"plans": seen}, "expected": "a backup plan with >= 1 rule and >= 1 resource selection",
        }
        if good:
            names = ", ".join(str(p["name"]) for p in good)
            yield ctx.finding(Status.PASS, **where, message=f"Backup plan(s) {names} have rules and select resources.")
        elif maybe or account in unknown_accounts:
            yield ctx.finding(
                Status.ERROR, **where,
                message="No backup plan is known to have both a rule and a resource selection: some plans, "
                "rules or selections could not be read.",
            )
        else:
            yield ctx.finding(
                Status.FAIL, **where,
                message="No AWS Backup plan in the in-scope regions has both a backup rule and a resource selection."
                if seen else "The account has no AWS Backup plan in the in-scope regions.",
            )


class RestoreParams(Params):
    within_days: int = Field(
        365, ge=1, le=_LOOKBACK_DAYS,
        description=f"A restore job must have completed within this many days (at most {_LOOKBACK_DAYS}, "
        "how far back restore jobs are collected).",
    )


def _completed(job: Item) -> datetime | None:
    """A job's completion time when it completed, else None; a FieldError when unreadable."""
    if job.need("Status", str) != "COMPLETED":
        return None
    raw = job.need("CompletionDate", str)
    done = parse_time(raw)
    if done is None:
        raise FieldError(f"{job.at}.CompletionDate", "an ISO-8601 time", repr(raw), job.ev.path, job.resource_id)
    return done


@check(
    id="aws.backup.restore_tested",
    source="aws",
    description="Each account completed at least one AWS Backup restore job within the last within_days days "
    "(a data restoration test).",
    inventory=RESTORE_PAGES,
    listings=(RESTORE_JOBS,),
    params=RestoreParams,
)
def restore_tested(ctx: CheckContext[RestoreParams]) -> Iterator[Finding]:
    window = ctx.params.within_days
    since = ctx.now - timedelta(days=window)
    latest: dict[str, tuple[str, str, str]] = {}
    counts: dict[str, int] = {}
    unreadable: dict[str, FieldError] = {}
    for job in ctx.items(RESTORE_JOBS):
        try:
            done = _completed(job)
        except FieldError as exc:
            # decisive only when no other job proves a restore (judged below)
            unreadable.setdefault(job.account, exc)
            continue
        if done is None or done < since or done > ctx.now:
            continue
        counts[job.account] = counts.get(job.account, 0) + 1
        stamp = iso(done)
        if job.account not in latest or stamp > latest[job.account][0]:
            latest[job.account] = (stamp, job.name, job.ev.path)
    unknown = failed_accounts(ctx, "backup.ListRestoreJobs") | problem_accounts(ctx, RESTORE_JOBS)
    expected = f"a completed restore job since {iso(since)}"
    for account in accounts_seen(ctx, "backup.ListRestoreJobs"):
        where: dict[str, Any] = {"resource_id": account_arn(account), "account": account, "expected": expected}
        listing = [e.path for e in ctx.index.entries_for("backup.ListRestoreJobs") if e.account == account and e.ok]
        if account in latest:
            stamp, job_id, path = latest[account]
            yield ctx.finding(
                Status.PASS, **where, evidence=[path],
                observed={"completed_restores": counts[account], "latest": stamp, "latest_job": job_id},
                message=f"{counts[account]} restore job(s) completed in the last {window} days, the latest on {stamp}.",
            )
        elif account in unknown:
            yield ctx.finding(
                Status.ERROR, **where, evidence=listing, observed="restore jobs not fully listed",
                message="Restore jobs could not be listed in every in-scope region, so no restore test is proven.",
            )
        elif account in unreadable:
            bad = unreadable[account]
            yield ctx.finding(
                Status.ERROR, **where, evidence=listing, observed=f"{bad.field}: {bad.found}",
                message=f"No restore job is proven in the last {window} days, and a restore job cannot be "
                f"read: {bad.describe()}.",
            )
        else:
            yield ctx.finding(
                Status.FAIL, **where, evidence=listing, observed={"completed_restores": 0},
                message=f"No AWS Backup restore job completed in the last {window} days.",
            )
