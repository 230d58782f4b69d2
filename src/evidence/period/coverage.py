"""Coverage: per control, per scheduled day, the worst verdict of the runs that cover it, or `gap`.

A day is covered under the `daily` schedule by the runs of that day, under `weekly` by the
runs of that day and the six days before it (weekly evidence is evidence for its week). A
control "operated throughout the period" only when no scheduled day is a gap and none fails
(a waived failure counts as passing, as in a run's verdict).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from evidence.models import Status
from evidence.period.runs import RunRef, read_verdicts

GAP = "gap"
SCHEDULES = {"daily": 1, "weekly": 7}
#: worst first: the verdict a day shows when its runs disagree
_WORST = [Status.FAIL.value, Status.ERROR.value, Status.MANUAL.value, Status.PASS.value, Status.WAIVED.value,
          Status.NOT_APPLICABLE.value]
COVERAGE_COLUMNS = ("control_id", "date", "verdict", "run_ids")


def worst(verdicts: Iterable[str]) -> str:
    return min(verdicts, key=lambda v: _WORST.index(v) if v in _WORST else len(_WORST))


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@dataclass
class ControlCoverage:
    """One control across the period: each day's verdict and the runs behind it."""

    control_id: str
    title: str
    days: dict[date, tuple[str, list[str]]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        verdicts = [v for v, _ in self.days.values()]
        longest = current = 0
        for v in verdicts:
            current = current + 1 if v == GAP else 0
            longest = max(longest, current)
        counts = {name: verdicts.count(name) for name in ("pass", "fail", "error", "manual", "not_applicable")}
        return {
            "control_id": self.control_id,
            "title": self.title,
            "days": len(verdicts),
            "days_passed": counts["pass"] + verdicts.count(Status.WAIVED.value),
            "days_failed": counts["fail"],
            "days_errored": counts["error"],
            "days_manual": counts["manual"],
            "days_not_applicable": counts["not_applicable"],
            "days_not_covered": verdicts.count(GAP),
            "longest_gap_days": longest,
            # every day covered, and none failing, erroring or awaiting manual evidence (a waived
            # failure passes; a day with nothing in scope does not count against it)
            "operated_throughout": bool(verdicts) and not {GAP, "fail", "error", "manual"} & set(verdicts),
        }


def compute_coverage(out: Path, runs: list[RunRef], start: date, end: date, schedule: str) -> list[ControlCoverage]:
    """Per control (every control any run judged), per day from `start` to `end`."""
    window = SCHEDULES[schedule]
    by_day: dict[date, list[tuple[str, dict[str, tuple[str, str]]]]] = {}
    titles: dict[str, str] = {}
    for run in runs:  # one run's verdicts at a time: memory grows with days × controls, not with findings
        judged = read_verdicts(run.path(out))
        by_day.setdefault(run.day, []).append((run.run_id, {v.control_id: (v.verdict.value, v.title) for v in judged}))
        titles.update({v.control_id: v.title for v in judged})
    out_rows: list[ControlCoverage] = []
    for control_id in sorted(titles):
        cov = ControlCoverage(control_id, titles[control_id])
        for day in days_between(start, end):
            seen: list[tuple[str, str]] = []
            for back in range(window):
                for run_id, verdicts in by_day.get(day - timedelta(days=back), []):
                    if control_id in verdicts:
                        seen.append((run_id, verdicts[control_id][0]))
            if not seen:
                cov.days[day] = (GAP, [])
            else:
                cov.days[day] = (worst(v for _, v in seen), sorted(r for r, _ in seen))
        out_rows.append(cov)
    return out_rows


def coverage_csv(rows: Iterable[ControlCoverage]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COVERAGE_COLUMNS)
    for cov in rows:
        for day, (verdict, run_ids) in sorted(cov.days.items()):
            writer.writerow([cov.control_id, day.isoformat(), verdict, ";".join(run_ids)])
    return buffer.getvalue()


def coverage_json(rows: Iterable[ControlCoverage], meta: Mapping[str, Any]) -> str:
    doc = {**meta, "controls": [cov.summary() for cov in rows]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
