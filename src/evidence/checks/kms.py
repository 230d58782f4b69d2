"""KMS checks: customer-managed keys rotate (ENC-REST).

The check judges every described key (`kms.DescribeKey`, one record per key listed by
`kms.ListKeys`); keys automatic rotation does not exist for (AWS-managed, asymmetric, HMAC,
imported or custom key store material, pending deletion) are skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import NoParams
from evidence.models import Finding, Status
from evidence.records import IndexEntry
from evidence.sources.aws import DESCRIBE_KEY, GET_KEY_ROTATION_STATUS, LIST_KEYS, rotation_applies

KEY_TYPE = "AWS::KMS::Key"
ROTATION = GET_KEY_ROTATION_STATUS

KEYS = Inventory(LIST_KEYS, items="Keys", id="KeyArn", resource_type=KEY_TYPE)
#: one DescribeKey record per listed key (its `subject` is the key ARN)
DESCRIBED = Inventory(DESCRIBE_KEY, items=None, id="KeyMetadata.Arn", resource_type=KEY_TYPE, parent=KEYS)


def _out_of_scope(meta: Item) -> str:
    """Why automatic rotation does not apply to a key ('' when it does), from its decisive fields;
    the same rule the collector asks GetKeyRotationStatus by (`rotation_applies`)."""
    manager = meta.need("KeyManager", str)
    # KeySpec is always returned (CustomerMasterKeySpec is its deprecated twin): missing is an error
    spec = meta.need("KeySpec", str)
    # absent is AWS_KMS, as for the collector: in scope, never a way out of it
    origin = meta.need("Origin", str, "AWS_KMS")
    state = meta.need("KeyState", str)
    if rotation_applies({"KeyManager": manager, "KeySpec": spec, "Origin": origin, "KeyState": state}):
        return ""
    if manager != "CUSTOMER":
        return f"{manager}-managed key: AWS rotates it"
    if spec != "SYMMETRIC_DEFAULT":
        return f"{spec} key: automatic rotation exists only for symmetric encryption keys"
    if origin != "AWS_KMS":
        return f"key material from {origin}: automatic rotation exists only for KMS key material"
    return f"key is {state}: rotation is judged for enabled and disabled keys"


@check(
    id="aws.kms.customer_key_rotation",
    source="aws",
    description=(
        "Every customer-managed symmetric KMS key (with KMS key material, enabled or disabled) has automatic "
        "rotation on. AWS-managed keys rotate on their own; asymmetric, HMAC and imported keys cannot."
    ),
    inventory=DESCRIBED,
    requires=(ROTATION,),
)
def customer_key_rotation(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    # where each rotation status is (not the records themselves): memory stays small however many keys
    status_of: dict[tuple[str, str], IndexEntry] = {(e.account, e.subject): e for e in ctx.index.entries_for(ROTATION)}
    expected = {"KeyRotationEnabled": True}

    def one(item: Item) -> list[Finding]:
        meta = item.part(item.need("KeyMetadata", dict), "KeyMetadata")
        why = _out_of_scope(meta)
        if why:
            return [ctx.skip(item, why)]
        key_id = meta.need("KeyId", str, item.name)
        where = {"resource_id": item.resource_id, "account": item.account, "region": item.region}
        entry = status_of.get((item.account, item.resource_id))
        if entry is None:
            return [ctx.finding(Status.ERROR, **where, evidence=[item.ev], observed="not collected", expected=expected,
                                message=f"Rotation status of key {key_id} was not collected.")]
        if not entry.ok:
            # the judge reports the failed call as this key's error
            return []
        rev = ctx.index.load(entry)
        status = Item(rev.response, rev, item.resource_id, item.name, "")
        enabled = status.need("KeyRotationEnabled", bool)
        observed: dict[str, object] = {"KeyRotationEnabled": enabled, "KeyState": meta.need("KeyState", str)}
        period = status.need("RotationPeriodInDays", int, None)
        if period is not None:
            observed["RotationPeriodInDays"] = period
        return [ctx.finding(
            Status.PASS if enabled else Status.FAIL, **where, evidence=[item.ev, rev], observed=observed,
            expected=expected,
            message=f"Customer-managed key {key_id} "
            + ("rotates automatically." if enabled else "does not rotate automatically."),
        )]

    yield from ctx.each(DESCRIBED, one)
