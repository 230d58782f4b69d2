"""KMS checks: customer-managed keys rotate (ENC-REST)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.awsutil import failed_subjects, items
from evidence.checks.base import CheckContext, check
from evidence.collectors.aws_services import rotation_applies
from evidence.models import Finding, Status


@check(
    id="aws.kms.customer_key_rotation",
    source="aws",
    description=(
        "Every customer-managed symmetric KMS key (with KMS key material, enabled or disabled) has automatic "
        "rotation on. AWS-managed keys rotate on their own; asymmetric, HMAC and imported keys cannot."
    ),
    requires=("kms.ListKeys", "kms.DescribeKey", "kms.GetKeyRotationStatus"),
    resource_type="AWS::KMS::Key",
)
def customer_key_rotation(ctx: CheckContext) -> Iterator[Finding]:
    # only what decides, and where it came from: memory stays small however many keys there are
    status_of: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
        (ev.account, ev.record.subject): (dict(ev.response), ev.path) for ev in ctx.evidence("kms.GetKeyRotationStatus")
    }
    failed = failed_subjects(ctx, "kms.GetKeyRotationStatus")
    described: set[tuple[str, str]] = set()
    for ev in ctx.evidence("kms.DescribeKey"):
        described.add((ev.account, ev.record.subject))
        meta = ev.response.get("KeyMetadata", {}) or {}
        if not rotation_applies(meta):
            continue
        arn = str(meta.get("Arn") or ev.record.subject)
        where: dict[str, Any] = {"resource_id": arn, "account": ev.account, "region": ev.region,
                 "expected": {"KeyRotationEnabled": True}}
        if (ev.account, arn) in failed:
            continue
        found = status_of.get((ev.account, arn))
        if found is None:
            yield ctx.finding(Status.ERROR, **where, evidence=[ev], observed="not collected",
                              message=f"Rotation status of key {meta.get('KeyId', arn)} was not collected.")
            continue
        status, status_path = found
        enabled = status.get("KeyRotationEnabled") is True
        observed = {"KeyRotationEnabled": status.get("KeyRotationEnabled"), "KeyState": meta.get("KeyState")}
        if status.get("RotationPeriodInDays") is not None:
            observed["RotationPeriodInDays"] = status["RotationPeriodInDays"]
        yield ctx.finding(
            Status.PASS if enabled else Status.FAIL, **where, evidence=[ev, status_path], observed=observed,
            message=f"Customer-managed key {meta.get('KeyId', arn)} "
            + ("rotates automatically." if enabled else "does not rotate automatically."),
        )
    not_described = failed_subjects(ctx, "kms.DescribeKey")
    for key, ev in items(ctx, "kms.ListKeys", "Keys"):
        subject = str(key.get("KeyArn") or key.get("KeyId"))
        if (ev.account, subject) in described or (ev.account, subject) in not_described:
            continue
        yield ctx.finding(
            Status.ERROR, resource_id=subject, account=ev.account, region=ev.region, evidence=[ev],
            observed="not collected", expected="key described",
            message=f"Key {key.get('KeyId', subject)} is listed but was not described, so its rotation is unknown.",
        )
