"""Deviations: each failing resource's episodes across the period's runs.

An episode starts on the day of the first run in which a (control, check, resource) fails (or
is waived) and ends on the day of the first later run that judges it passing or not
applicable, or no longer lists it while that check judged without any error in that run (an
error anywhere in the check, a failed listing say, leaves what is absent unknown); a run that
errors on it neither ends nor extends it. An episode longer than the control's `remediate_within_days` is a
deviation (`within_sla` "no"); one still open at the end of the period is "open" until it is
longer than that, then "no".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from evidence.judge import read_findings
from evidence.models import Status
from evidence.period.runs import RunRef

DEVIATION_COLUMNS = ("control_id", "check_id", "resource_id", "first_failed", "fixed_on", "days", "within_sla",
                     "waiver")
_FAILING = {Status.FAIL, Status.WAIVED}
_FIXED = {Status.PASS, Status.NOT_APPLICABLE}

Key = tuple[str, str, str]


@dataclass
class Episode:
    control_id: str
    check_id: str
    resource_id: str
    first_failed: date
    fixed_on: date | None = None
    waivers: set[str] = field(default_factory=set)

    def days(self, end: date) -> int:
        return ((self.fixed_on or end) - self.first_failed).days + (0 if self.fixed_on else 1)

    def within_sla(self, sla: int, end: date) -> str:
        if self.days(end) > sla:
            return "no"
        return "yes" if self.fixed_on else "open"


def episodes(out: Path, runs: list[RunRef]) -> Iterator[Episode]:
    """Every episode, in the order they end (open ones last), streaming each run's findings."""
    open_: dict[Key, Episode] = {}
    for run in runs:
        failing: dict[Key, str | None] = {}
        fixed: set[Key] = set()
        judged: set[tuple[str, str]] = set()
        doubtful: set[tuple[str, str]] = set()  # checks with an error in this run: what is absent is unknown
        for f in read_findings(run.path(out) / "findings.json"):
            key = (f.control_id, f.check_id, f.resource_id)
            if f.status is Status.ERROR:
                doubtful.add((f.control_id, f.check_id))
            else:
                judged.add((f.control_id, f.check_id))
            if f.status in _FAILING:
                failing[key] = f.waiver
            elif f.status in _FIXED:
                fixed.add(key)
        for key in sorted(open_):
            check = (key[0], key[1])
            gone = key not in failing and (key in fixed or (check in judged and check not in doubtful))
            if gone:
                ep = open_.pop(key)
                ep.fixed_on = run.day
                yield ep
        for key, waiver in sorted(failing.items(), key=lambda kv: kv[0]):
            ep = open_.setdefault(key, Episode(*key, first_failed=run.day))
            if waiver:
                ep.waivers.add(waiver)
    yield from (open_[k] for k in sorted(open_))


def deviations_csv(found: Iterator[Episode], sla: Mapping[str, int], end: date, default_sla: int = 30) -> str:
    """The episodes as CSV, sorted by control, check, resource and first day."""
    rows = sorted(found, key=lambda e: (e.control_id, e.check_id, e.resource_id, e.first_failed))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DEVIATION_COLUMNS)
    for ep in rows:
        limit = sla.get(ep.control_id, default_sla)
        writer.writerow([ep.control_id, ep.check_id, ep.resource_id, ep.first_failed.isoformat(),
                         ep.fixed_on.isoformat() if ep.fixed_on else "", str(ep.days(end)),
                         ep.within_sla(limit, end), ";".join(sorted(ep.waivers))])
    return buffer.getvalue()
