"""The data every other module exchanges: evidence records, findings and control verdicts.

These shapes are contracts (see DESIGN.md): other tools read `findings.json`, `controls.json`
and the evidence records of a bundle, so fields are only ever added, never renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    """The outcome of one check on one resource."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"
    WAIVED = "waived"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: the form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_of(value: Any) -> str:
    """SHA-256 of a value's canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def utc_now() -> datetime:
    """The current time, timezone-aware, truncated to the second."""
    return datetime.now(UTC).replace(microsecond=0)


#: the environment variable that sets a run's reference time, for tests and backfills
NOW_VARIABLE = "EVIDENCE_NOW"


def reference_now() -> datetime:
    """A run's reference time: `EVIDENCE_NOW` (ISO-8601 UTC, e.g. `2026-10-15T06:00:00Z`) when
    it is set, else the clock. It decides judging, the run id, the history's time and the
    default period; collection still talks to the live systems, and records when it did. This
    is the only place `EVIDENCE_NOW` is read. A value that is not a UTC time is a ValueError."""
    raw = os.environ.get(NOW_VARIABLE, "").strip()
    if not raw:
        return utc_now()
    parsed = parse_time(raw) if raw.endswith(("Z", "+00:00")) else None
    if parsed is None:
        raise ValueError(f"{NOW_VARIABLE}={raw!r}: not an ISO-8601 UTC time such as 2026-10-15T06:00:00Z")
    return parsed.astimezone(UTC).replace(microsecond=0)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp (`Z` or an offset; naive taken as UTC) as an aware datetime; None
    for anything absent or unreadable (e.g. the IAM credential report's `N/A`)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def iso(ts: datetime) -> str:
    """An ISO-8601 UTC timestamp ending in Z."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Period(BaseModel):
    """An audit period such as `2026-Q4`, with its first and last day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    start: date
    end: date

    @classmethod
    def parse(cls, name: str) -> Period:
        """`2026-Q4` (a quarter) or `2026` (a year); ValueError otherwise."""
        m = re.fullmatch(r"(\d{4})(?:-Q([1-4]))?", name.strip())
        if not m:
            raise ValueError(f"period {name!r} is not YYYY-QN or YYYY (e.g. 2026-Q4)")
        year = int(m.group(1))
        if m.group(2) is None:
            return cls(name=name, start=date(year, 1, 1), end=date(year, 12, 31))
        q = int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return cls(name=name, start=start, end=end - timedelta(days=1))

    @classmethod
    def current(cls, today: date | None = None) -> Period:
        today = today or reference_now().date()
        return cls.parse(f"{today.year}-Q{(today.month - 1) // 3 + 1}")


class CollectionError(BaseModel):
    """Why a call yielded no response: the provider's code and message, and what to do about it."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    remedy: str = ""


class EvidenceRecord(BaseModel):
    """One API call (or one page of one) exactly as a collector saw it.

    A failed call is recorded too, with `error` set and `response` null, so that a check
    judging a stored bundle offline sees the failure just as the live run did.
    """

    model_config = ConfigDict(extra="forbid")

    schema_: str = Field(default="evidence.record/1", alias="schema")
    source: str
    service: str
    operation: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    account: str = ""
    region: str = ""
    identity: str = ""
    #: the resource the call was about, when it names one (an ARN, `owner/repo`, an email)
    subject: str = ""
    collected_at: str
    ttl_seconds: int = 86400
    error: CollectionError | None = None
    response: Any = None
    sha256: str = ""

    @property
    def key(self) -> str:
        """`service.Operation`, the name checks ask for."""
        return f"{self.service}.{self.operation}"

    @property
    def ok(self) -> bool:
        return self.error is None


class Finding(BaseModel):
    """The judgement of one check on one resource (DESIGN.md, "A finding")."""

    model_config = ConfigDict(extra="forbid")

    control_id: str
    check_id: str
    status: Status
    source: str
    resource_id: str
    resource_type: str = ""
    account: str = ""
    region: str = ""
    observed: Any = None
    expected: Any = None
    message: str
    evidence: list[str] = Field(default_factory=list)
    waiver: str | None = None

    def sort_key(self) -> tuple[str, str, str, str, str, str]:
        return (self.control_id, self.check_id, self.resource_id, self.account, self.region, self.status)


def finding_key(f: Finding) -> str:
    """What identifies a finding across runs: control, check, resource, account, region."""
    return "|".join((f.control_id, f.check_id, f.resource_id, f.account, f.region))


class ControlVerdict(BaseModel):
    """One control's verdict with the counts of its findings by status."""

    model_config = ConfigDict(extra="forbid")

    control_id: str
    title: str
    statement: str
    criteria: list[str]
    verdict: Status
    counts: dict[str, int]
    checks: list[str]
    manual: list[str] = Field(default_factory=list)


def verdict_totals(verdicts: Iterable[ControlVerdict]) -> dict[str, int]:
    """The number of controls per verdict."""
    totals: dict[str, int] = {}
    for v in verdicts:
        totals[v.verdict.value] = totals.get(v.verdict.value, 0) + 1
    return totals


def verdict_of(findings: Iterable[Finding]) -> Status:
    """A control's verdict from its findings (DESIGN.md's precedence).

    fail > error > manual > not_applicable (only when every finding is) > pass; waived counts
    as passing. A control with no findings at all cannot be shown to hold, so it is an error.
    """
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.status.value] = counts.get(f.status.value, 0) + 1
    return verdict_from_counts(counts)


def verdict_from_counts(counts: Mapping[str, int]) -> Status:
    """`verdict_of` from the number of findings by status value."""
    statuses = {Status(s) for s, n in counts.items() if n}
    if not statuses:
        return Status.ERROR
    if Status.FAIL in statuses:
        return Status.FAIL
    if Status.ERROR in statuses:
        return Status.ERROR
    if Status.MANUAL in statuses:
        return Status.MANUAL
    if statuses == {Status.NOT_APPLICABLE}:
        return Status.NOT_APPLICABLE
    return Status.PASS
