"""The view models the report templates render (computed in `context`, so the templates stay
simple)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from evidence.models import Status

#: the order findings are shown in: what needs action first
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.MANUAL, Status.WAIVED, Status.NOT_APPLICABLE, Status.PASS)
STATUS_LABEL = {
    Status.PASS: "Pass",
    Status.FAIL: "Fail",
    Status.ERROR: "Error",
    Status.MANUAL: "Manual",
    Status.NOT_APPLICABLE: "N/A",
    Status.WAIVED: "Waived",
}
#: values longer than this are cut in the HTML and PDF (findings.json and the CSV keep them whole)
MAX_VALUE_CHARS = 2000


@dataclass(frozen=True)
class Link:
    """A file of the bundle a report points at; `href` is None when it is not in the bundle."""

    path: str
    label: str
    detail: str
    href: str | None


@dataclass(frozen=True)
class Row:
    status: Status
    check_id: str
    resource_id: str
    where: str
    message: str
    observed: str
    expected: str
    evidence: list[Link]
    waiver: str | None


@dataclass
class CheckView:
    id: str
    description: str
    source: str
    params: str
    verdict: Status | None
    counts: dict[str, int]
    problems: list[Row] = field(default_factory=list)
    others: list[Row] = field(default_factory=list)
    #: passing and not-applicable findings
    passing: list[Row] = field(default_factory=list)

    def _total(self, *statuses: Status) -> int:
        return sum(self.counts.get(s.value, 0) for s in statuses)

    @property
    def problem_total(self) -> int:
        return self._total(Status.FAIL, Status.ERROR)

    @property
    def problems_more(self) -> int:
        """Failures and errors counted but not listed (beyond the report's row limit)."""
        return self.problem_total - len(self.problems)

    @property
    def passing_total(self) -> int:
        return self._total(Status.PASS, Status.NOT_APPLICABLE)

    @property
    def passing_more(self) -> int:
        return self.passing_total - len(self.passing)

    @property
    def others_more(self) -> int:
        return self._total(Status.MANUAL) - len(self.others)


@dataclass(frozen=True)
class AttachmentView:
    link: Link
    valid_until: date
    valid: bool
    attached_by: str
    attached_at: str


@dataclass(frozen=True)
class ManualView:
    id: str
    description: str
    valid_for_days: int
    status: Status
    observed: str
    attachments: list[AttachmentView]


@dataclass
class WaiverView:
    id: str
    resource: str
    check_id: str
    reason: str
    approver: str
    expires: date
    expired: bool
    rows: list[Row]
    #: findings the waiver covers (`rows` lists up to the report's row limit of them)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass
class ControlView:
    id: str
    anchor: str
    title: str
    statement: str
    section: str
    criteria: list[str]
    verdict: Status
    counts: dict[str, int]
    checks: list[CheckView]
    manual: list[ManualView]
    waivers: list[WaiverView]
    notes: list[Row]

    @property
    def nonzero(self) -> list[tuple[str, int]]:
        return [(s, n) for s, n in self.counts.items() if n]

    @property
    def problem_count(self) -> int:
        return sum(c.problem_total for c in self.checks)

    @property
    def passing_count(self) -> int:
        return sum(c.passing_total for c in self.checks)


@dataclass(frozen=True)
class CriterionGroup:
    title: str
    criteria: list[tuple[str, list[ControlView]]]


def format_value(value: Any) -> str:
    """A finding's observed or expected value as shown: text as is, an object one `key: value`
    line per key (values as JSON), anything else as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict) and value:
        text = "\n".join(f"{k}: {json.dumps(v, sort_keys=True, ensure_ascii=False)}" for k, v in sorted(value.items()))
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + f"… (cut at {MAX_VALUE_CHARS} characters; the whole value is in findings.json)"
    return text
