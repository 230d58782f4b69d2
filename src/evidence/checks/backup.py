"""AWS Backup checks: a backup plan that backs something up (BACKUP-PITR) and restores that
were actually tested (DR-TEST). Both are judged per account across the in-scope regions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from evidence.checks.awsutil import ACCOUNT_TYPE, account_arn, accounts_seen, failed_accounts, items
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status, iso, parse_time


@check(
    id="aws.backup.plan_with_rule",
    source="aws",
    description="Each account has at least one AWS Backup plan with a backup rule and a resource selection "
    "(a plan that selects nothing backs nothing up).",
    requires=("backup.ListBackupPlans", "backup.GetBackupPlan", "backup.ListBackupSelections"),
    resource_type=ACCOUNT_TYPE,
)
def plan_with_rule(ctx: CheckContext) -> Iterator[Finding]:
    rules: dict[tuple[str, str], tuple[int, str]] = {}
    for ev in ctx.evidence("backup.GetBackupPlan"):
        plan = ev.response.get("BackupPlan", {}) or {}
        rules[(ev.account, ev.record.subject)] = (len(plan.get("Rules", []) or []), ev.path)
    selections: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for ev in ctx.evidence("backup.ListBackupSelections"):
        count, seen_paths = selections.get((ev.account, ev.record.subject), (0, []))
        selections[(ev.account, ev.record.subject)] = (
            count + len(ev.response.get("BackupSelectionsList", []) or []), [*seen_paths, ev.path],
        )
    unknown_accounts = failed_accounts(ctx, "backup.ListBackupPlans", "backup.GetBackupPlan",
                                       "backup.ListBackupSelections")
    plans: dict[str, list[dict[str, Any]]] = {}
    paths: dict[str, list[str]] = {}
    for plan, ev in items(ctx, "backup.ListBackupPlans", "BackupPlansList"):
        arn = str(plan.get("BackupPlanArn") or plan.get("BackupPlanId"))
        n_rules, rule_path = rules.get((ev.account, arn), (-1, ""))
        n_sel, sel_paths = selections.get((ev.account, arn), (-1, []))
        plans.setdefault(ev.account, []).append({
            "plan": arn, "name": plan.get("BackupPlanName"), "region": ev.region,
            "rules": n_rules if n_rules >= 0 else "unknown",
            "selections": n_sel if n_sel >= 0 else "unknown",
        })
        paths.setdefault(ev.account, []).extend([ev.path, *([rule_path] if rule_path else []), *sel_paths])
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


@check(
    id="aws.backup.restore_tested",
    source="aws",
    description="Each account completed at least one AWS Backup restore job within the last within_days days "
    "(a data restoration test).",
    requires=("backup.ListRestoreJobs",),
    params={"within_days": 365},
    resource_type=ACCOUNT_TYPE,
)
def restore_tested(ctx: CheckContext) -> Iterator[Finding]:
    window = int(ctx.params["within_days"])
    since = ctx.now - timedelta(days=window)
    latest: dict[str, tuple[str, str, str]] = {}
    counts: dict[str, int] = {}
    for job, ev in items(ctx, "backup.ListRestoreJobs", "RestoreJobs"):
        if job.get("Status") != "COMPLETED":
            continue
        done = parse_time(job.get("CompletionDate"))
        if done is None or done < since or done > ctx.now:
            continue
        counts[ev.account] = counts.get(ev.account, 0) + 1
        stamp = iso(done)
        if ev.account not in latest or stamp > latest[ev.account][0]:
            latest[ev.account] = (stamp, str(job.get("RestoreJobId", "")), ev.path)
    unknown = failed_accounts(ctx, "backup.ListRestoreJobs")
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
        else:
            yield ctx.finding(
                Status.FAIL, **where, evidence=listing, observed={"completed_restores": 0},
                message=f"No AWS Backup restore job completed in the last {window} days.",
            )
