"""The check interface: a pure function from evidence records to findings.

A check never calls an API. It declares the inventory it judges (`evidence.checks.inventory`:
the listing key, where the items sit, the field that names each one), every evidence key it
reads (`requires`), and its parameters as a pydantic model (`evidence.checks.params`). The judge
(`evidence.judge`) turns collection failures and malformed pages into `error` findings, an
empty listing into an explicit `not_applicable`, and any listed resource the check left
without a finding into an `error`, so a check body only judges what was seen:

    LISTENERS = Inventory("elbv2.DescribeListeners", items="Listeners", id="ListenerArn", parent=LBS)

    class TlsParams(Params):
        min_tls: str = Field("1.2", pattern=r"^1[.][0-3]$", description="Lowest TLS version allowed.")

    @check(
        id="aws.elbv2.listener_tls_min_version",
        source="aws",
        description="HTTPS/TLS listeners use a policy whose protocols are all >= min_tls.",
        inventory=LISTENERS,
        requires=("elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners", "elbv2.DescribeSSLPolicies"),
        params=TlsParams,
    )
    def listener_tls_min_version(ctx: CheckContext[TlsParams]) -> Iterator[Finding]:
        def one(item: Item) -> Finding:
            if item.need("Protocol", str) not in {"HTTPS", "TLS"}:
                return ctx.skip(item, "plain HTTP/TCP listener: no TLS policy to judge")
            ...
        yield from ctx.each(LISTENERS, one)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from evidence.checks.inventory import FieldError, Inventory, Item, Listing, read_listing
from evidence.checks.params import NoParams, Params, defaults
from evidence.models import Finding, Status
from evidence.records import Evidence, EvidenceIndex

P = TypeVar("P", bound=Params)

CheckFn = Callable[["CheckContext[Any]"], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    """A check's metadata and its judging function."""

    id: str
    source: str
    description: str
    requires: tuple[str, ...]
    fn: CheckFn
    inventory: Inventory
    param_model: type[Params] = NoParams
    resource_type: str = ""
    #: further listings the check reads whose pages must hold their items where declared
    listings: tuple[Inventory, ...] = ()
    #: evidence keys of other sources the check reads when their collectors gathered them (the
    #: people checks read Workspace, GitHub and IAM listings); never required: the check judges
    #: their absence or failure itself
    reads: tuple[str, ...] = ()

    def __call__(self, ctx: CheckContext[Any]) -> Iterable[Finding]:
        return self.fn(ctx)

    def reads_of(self, collects: Collection[str]) -> set[str]:
        """The keys of `reads` that a collector which `collects` those keys gathers."""
        return {key for key in self.reads if key in collects}

    @property
    def params(self) -> Mapping[str, Any]:
        """The parameters' defaults (JSON values)."""
        return defaults(self.param_model)


def check(
    *,
    id: str,
    source: str,
    description: str,
    inventory: Inventory,
    requires: tuple[str, ...] = (),
    params: type[Params] = NoParams,
    resource_type: str = "",
    listings: tuple[Inventory, ...] = (),
    reads: tuple[str, ...] = (),
) -> Callable[[CheckFn], Check]:
    """Declare a check. The decorated function becomes a `Check`; nothing is registered
    globally: the module is listed under the `evidence.checks` entry point instead.

    `requires` is every evidence key of its own source the check reads; the keys of its inventory
    chain and listings are added when missing, the root listing first. `reads` names the keys of
    other sources it reads when they were collected (see `Check.reads`)."""
    keys = [inv.key for inv in inventory.chain()]
    for inv in listings:
        keys.extend(i.key for i in inv.chain())
    keys.extend(requires)

    def wrap(fn: CheckFn) -> Check:
        return Check(
            id=id,
            source=source,
            description=description,
            requires=tuple(dict.fromkeys(keys)),
            fn=fn,
            inventory=inventory,
            param_model=params,
            resource_type=resource_type or inventory.resource_type,
            listings=listings,
            reads=tuple(reads),
        )

    return wrap


@dataclass
class CheckContext(Generic[P]):
    """What a check sees: its parameters, the reference time and the evidence."""

    check: Check
    control_id: str
    params: P
    now: datetime
    index: EvidenceIndex
    _listings: dict[Inventory, Listing] = field(default_factory=dict, repr=False)

    def evidence(self, key: str) -> Iterator[Evidence]:
        """Records of `key` that were collected successfully (failed ones are judged for you)."""
        for entry in self.index.entries_for(key):
            if entry.ok:
                yield self.index.load(entry)

    def listing(self, inv: Inventory) -> Listing:
        """The items of `inv`'s pages (read once per check; malformed pages are judged for you)."""
        found = self._listings.get(inv)
        if found is None:
            found = self._listings[inv] = read_listing(inv, self.index)
        return found

    def items(self, inv: Inventory) -> list[Item]:
        return self.listing(inv).items

    def each(
        self, inv: Inventory | Iterable[Item], judge: Callable[[Item], Finding | Iterable[Finding]]
    ) -> Iterator[Finding]:
        """`judge` applied to every item of `inv` (or to the items given, when a check chooses
        them: each listed repository once, say); a decisive field missing from one item is an
        `error` for that item alone (`FieldError`), the others are judged as usual."""
        for item in self.items(inv) if isinstance(inv, Inventory) else inv:
            try:
                out = judge(item)
                if isinstance(out, Finding):
                    yield out
                else:
                    yield from list(out)
            except FieldError as exc:
                yield self.field_error(exc, item)

    def field_error(self, exc: FieldError, item: Item | None = None) -> Finding:
        """The `error` finding for a decisive field that is missing or of the wrong type."""
        if item is not None and not exc.record:
            at = f"{item.at}.{exc.field}" if item.at else exc.field
            exc = FieldError(at, exc.expected, exc.found, item.ev.path, item.resource_id)
        # judging `item`, a field of another record it depends on (its policy, say) may be the
        # unreadable one: the error is still this item's, and links both records
        rid = (item.resource_id if item else "") or exc.resource_id or self.check.source
        evidence: list[Evidence | str] = [item.ev] if item else []
        if exc.record and (item is None or exc.record != item.ev.path):
            evidence.append(exc.record)
        return self.finding(
            Status.ERROR,
            resource_id=rid,
            account=item.account if item else "",
            region=item.region if item else "",
            evidence=evidence,
            observed=f"{exc.field}: {exc.found}",
            expected=f"{exc.field}: {exc.expected}",
            message=f"Cannot judge this resource: {exc.describe()}.",
        )

    def skip(self, item: Item, reason: str, *, evidence: Iterable[Evidence | str] = ()) -> Finding:
        """A listed resource this check leaves out on purpose: `not_applicable`, with why."""
        return self.finding(
            Status.NOT_APPLICABLE,
            resource_id=item.resource_id,
            account=item.account,
            region=item.region,
            evidence=[item.ev, *evidence],
            observed="out of scope",
            expected="in scope of this check",
            message=f"Not judged by this check: {reason.rstrip('.')}.",
        )

    def finding(
        self,
        status: Status,
        *,
        resource_id: str,
        message: str,
        observed: Any = None,
        expected: Any = None,
        evidence: Iterable[Evidence | str] = (),
        account: str = "",
        region: str = "",
        resource_type: str | None = None,
    ) -> Finding:
        paths = sorted({e if isinstance(e, str) else e.path for e in evidence})
        return Finding(
            control_id=self.control_id,
            check_id=self.check.id,
            status=status,
            source=self.check.source,
            resource_id=resource_id,
            resource_type=self.check.resource_type if resource_type is None else resource_type,
            account=account,
            region=region,
            observed=observed,
            expected=expected,
            message=message,
            evidence=paths,
        )
