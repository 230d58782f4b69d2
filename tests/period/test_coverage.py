"""Coverage per control per day: the worst verdict of the runs covering a day, gaps, schedules."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from evidence.models import ControlVerdict, Status
from evidence.period.coverage import GAP, compute_coverage, coverage_csv, worst
from evidence.period.runs import RunRef


def _run(out: Path, day: int, verdicts: dict[str, Status], n: int = 0) -> RunRef:
    run_id = f"run-{day:02d}-{n}"
    folder = out / "2026-Q4" / run_id
    folder.mkdir(parents=True)
    rows = [ControlVerdict(control_id=c, title=c.title(), statement="s", criteria=["CC1.1"], verdict=v,
                           counts={}, checks=[]).model_dump(mode="json") for c, v in verdicts.items()]
    (folder / "controls.json").write_text(json.dumps(rows), encoding="utf-8")
    return RunRef(run_id, date(2026, 10, day), f"2026-Q4/{run_id}", "0" * 64)


def test_the_worst_verdict_of_a_day_wins() -> None:
    assert worst(["pass", "manual", "fail", "error"]) == "fail"
    assert worst(["pass", "error"]) == "error"
    assert worst(["not_applicable", "pass"]) == "pass"


def test_daily_days_without_a_run_are_gaps_and_two_runs_a_day_give_the_worst(tmp_path: Path) -> None:
    runs = [_run(tmp_path, 1, {"A": Status.PASS}), _run(tmp_path, 2, {"A": Status.PASS}, 0),
            _run(tmp_path, 2, {"A": Status.FAIL}, 1), _run(tmp_path, 4, {"A": Status.PASS})]
    [a] = compute_coverage(tmp_path, runs, date(2026, 10, 1), date(2026, 10, 5), "daily")
    assert [v for _, (v, _) in sorted(a.days.items())] == ["pass", "fail", GAP, "pass", GAP]
    assert a.days[date(2026, 10, 2)][1] == ["run-02-0", "run-02-1"]
    summary = a.summary()
    assert (summary["days_passed"], summary["days_failed"], summary["days_not_covered"]) == (2, 1, 2)
    assert summary["longest_gap_days"] == 1 and not summary["operated_throughout"]
    assert coverage_csv([a]).splitlines()[:3] == [
        "control_id,date,verdict,run_ids", "A,2026-10-01,pass,run-01-0", "A,2026-10-02,fail,run-02-0;run-02-1"]


def test_weekly_a_run_covers_its_day_and_the_six_after(tmp_path: Path) -> None:
    runs = [_run(tmp_path, 1, {"A": Status.PASS}), _run(tmp_path, 15, {"A": Status.PASS})]
    [a] = compute_coverage(tmp_path, runs, date(2026, 10, 1), date(2026, 10, 21), "weekly")
    gaps = sorted(d.day for d, (v, _) in a.days.items() if v == GAP)
    assert gaps == list(range(8, 15))  # the second week had no run
    assert a.summary()["longest_gap_days"] == 7


@pytest.mark.parametrize(("days", "throughout"), [
    (["pass", "pass"], True), (["pass", "waived"], True), (["pass", "not_applicable"], True),
    (["pass", "manual"], False), (["pass", "error"], False), (["pass", "fail"], False),
])
def test_operated_throughout_only_without_a_gap_failure_error_or_missing_manual_evidence(
    tmp_path: Path, days: list[str], throughout: bool
) -> None:
    runs = [_run(tmp_path, n + 1, {"A": Status(v)}) for n, v in enumerate(days)]
    [a] = compute_coverage(tmp_path, runs, date(2026, 10, 1), date(2026, 10, len(days)), "daily")
    assert a.summary()["operated_throughout"] is throughout
