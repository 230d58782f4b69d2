"""Episodes of failing resources across runs, and the SLA each is held to."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from evidence.judge import findings_json
from evidence.models import Finding, Status
from evidence.period.deviations import deviations_csv, episodes
from evidence.period.runs import RunRef


def _run(out: Path, day: int, statuses: dict[str, Status], waiver: str | None = None) -> RunRef:
    run_id = f"run-{day:02d}"
    folder = out / "2026-Q4" / run_id
    folder.mkdir(parents=True)
    findings = [Finding(control_id="C", check_id="c.check", status=s, source="aws", resource_id=rid, message="m",
                        waiver=waiver if s is Status.WAIVED else None) for rid, s in sorted(statuses.items())]
    (folder / "findings.json").write_text(findings_json(findings), encoding="utf-8")
    return RunRef(run_id, date(2026, 10, day), f"2026-Q4/{run_id}", "0" * 64)


def test_an_episode_ends_when_the_resource_passes_and_an_error_does_not_end_it(tmp_path: Path) -> None:
    runs = [_run(tmp_path, 1, {"r": Status.PASS}), _run(tmp_path, 2, {"r": Status.FAIL}),
            _run(tmp_path, 4, {"r": Status.ERROR}), _run(tmp_path, 6, {"r": Status.PASS})]
    [ep] = list(episodes(tmp_path, runs))
    assert (ep.first_failed, ep.fixed_on, ep.days(date(2026, 10, 31))) == (date(2026, 10, 2), date(2026, 10, 6), 4)


def test_a_resource_no_longer_listed_is_fixed_when_its_check_still_judged(tmp_path: Path) -> None:
    runs = [_run(tmp_path, 1, {"gone": Status.FAIL, "other": Status.PASS}), _run(tmp_path, 3, {"other": Status.PASS})]
    [ep] = list(episodes(tmp_path, runs))
    assert ep.fixed_on == date(2026, 10, 3)


def test_sla_open_episodes_and_waivers(tmp_path: Path) -> None:
    runs = [_run(tmp_path, 1, {"late": Status.FAIL, "open": Status.PASS, "waived": Status.WAIVED}, waiver="w-1"),
            _run(tmp_path, 9, {"late": Status.PASS, "open": Status.FAIL, "waived": Status.PASS})]
    text = deviations_csv(episodes(tmp_path, runs), {"C": 5}, date(2026, 10, 10))
    assert text.splitlines() == [
        "control_id,check_id,resource_id,first_failed,fixed_on,days,within_sla,waiver",
        "C,c.check,late,2026-10-01,2026-10-09,8,no,",
        "C,c.check,open,2026-10-09,,2,open,",
        "C,c.check,waived,2026-10-01,2026-10-09,8,no,w-1",
    ]


def test_an_error_in_the_check_leaves_an_absent_resource_failing(tmp_path: Path) -> None:
    """A failed listing (an error of the check) says nothing about what it did not list."""
    runs = [_run(tmp_path, 1, {"bucket-a": Status.FAIL}),
            _run(tmp_path, 2, {"arn:aws:s3:::*": Status.ERROR, "bucket-b": Status.PASS}),
            _run(tmp_path, 5, {"bucket-a": Status.PASS, "bucket-b": Status.PASS})]
    [ep] = list(episodes(tmp_path, runs))
    assert ep.fixed_on == date(2026, 10, 5)
