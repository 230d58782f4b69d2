"""DynamoDB checks: point-in-time recovery on every table (BACKUP-PITR)."""

from __future__ import annotations

from collections.abc import Iterator

from evidence.checks.awsutil import failed_subjects
from evidence.checks.base import CheckContext, check
from evidence.models import Finding, Status


def table_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


@check(
    id="aws.dynamodb.point_in_time_recovery",
    source="aws",
    description="Every DynamoDB table has point-in-time recovery on, with a recovery period of at least "
    "min_retention_days where AWS reports one.",
    requires=("dynamodb.ListTables", "dynamodb.DescribeContinuousBackups"),
    params={"min_retention_days": 7},
    resource_type="AWS::DynamoDB::Table",
)
def point_in_time_recovery(ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.params["min_retention_days"])
    expected = {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": f">= {minimum}"}
    judged: set[tuple[str, str]] = set()
    for ev in ctx.evidence("dynamodb.DescribeContinuousBackups"):
        arn = ev.record.subject
        judged.add((ev.account, arn))
        name = arn.rsplit("/", 1)[-1]
        pitr = (ev.response.get("ContinuousBackupsDescription") or {}).get("PointInTimeRecoveryDescription") or {}
        status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
        period = pitr.get("RecoveryPeriodInDays")
        observed = {"PointInTimeRecoveryStatus": status, "RecoveryPeriodInDays": period}
        if status != "ENABLED":
            verdict, message = Status.FAIL, f"Table {name} has point-in-time recovery {str(status).lower()}."
        elif period is not None and int(period) < minimum:
            verdict, message = Status.FAIL, (
                f"Table {name} keeps point-in-time recovery for {period} days; at least {minimum} are required."
            )
        else:
            days = f" for {period} days" if period is not None else " (35 days, the AWS default)"
            verdict, message = Status.PASS, f"Table {name} has point-in-time recovery on{days}."
        yield ctx.finding(verdict, resource_id=arn, account=ev.account, region=ev.region, evidence=[ev],
                          observed=observed, expected=expected, message=message)
    failed = failed_subjects(ctx, "dynamodb.DescribeContinuousBackups")
    for ev in ctx.evidence("dynamodb.ListTables"):
        for name in ev.response.get("TableNames", []) or []:
            arn = table_arn(ev.region, ev.account, str(name))
            if (ev.account, arn) in judged or (ev.account, arn) in failed:
                continue
            yield ctx.finding(
                Status.ERROR, resource_id=arn, account=ev.account, region=ev.region, evidence=[ev],
                observed="not collected", expected=expected,
                message=f"Table {name} is listed but its continuous backups were not described.",
            )
