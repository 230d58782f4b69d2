"""The check interface: a pure function from evidence records to findings.

A check never calls an API. It declares the evidence it reads (`requires`, as
`service.Operation` keys, the listing first) and its parameters with their defaults; the
judge (`evidence.judge`) turns collection failures into `error` findings and an empty
result into an explicit `not_applicable`, so a check body only judges what was seen.

    @check(
        id="aws.acm.certificate_key_strength",
        source="aws",
        description="ACM certificates use RSA >= min_rsa_bits and SHA-256 or stronger.",
        requires=("acm.ListCertificates", "acm.DescribeCertificate"),
        params={"min_rsa_bits": 2048},
    )
    def certificate_key_strength(ctx: CheckContext) -> Iterator[Finding]:
        for ev in ctx.evidence("acm.DescribeCertificate"):
            ...
            yield ctx.finding(Status.PASS, resource_id=arn, ...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evidence.models import Finding, Status
from evidence.records import Evidence, EvidenceIndex

CheckFn = Callable[["CheckContext"], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    """A check's metadata and its judging function."""

    id: str
    source: str
    description: str
    requires: tuple[str, ...]
    fn: CheckFn
    params: Mapping[str, Any] = field(default_factory=dict)
    resource_type: str = ""

    def __call__(self, ctx: CheckContext) -> Iterable[Finding]:
        return self.fn(ctx)


def check(
    *,
    id: str,
    source: str,
    description: str,
    requires: tuple[str, ...],
    params: Mapping[str, Any] | None = None,
    resource_type: str = "",
) -> Callable[[CheckFn], Check]:
    """Declare a check. The decorated function becomes a `Check`; nothing is registered
    globally: the module is listed under the `evidence.checks` entry point instead."""

    def wrap(fn: CheckFn) -> Check:
        return Check(
            id=id,
            source=source,
            description=description,
            requires=requires,
            fn=fn,
            params=dict(params or {}),
            resource_type=resource_type,
        )

    return wrap


@dataclass
class CheckContext:
    """What a check sees: its parameters, the reference time and the evidence."""

    check: Check
    control_id: str
    params: dict[str, Any]
    now: datetime
    index: EvidenceIndex

    def evidence(self, key: str) -> Iterator[Evidence]:
        """Records of `key` that were collected successfully (failed ones are judged for you)."""
        for entry in self.index.entries_for(key):
            if entry.ok:
                yield self.index.load(entry)

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
