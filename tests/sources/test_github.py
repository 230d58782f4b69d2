"""The audit window the GitHub collector pages back to and the checks judge by."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from evidence.sources.github import PULLS, merged_in_window, operation, window_bounds

Q4 = (date(2026, 10, 1), date(2026, 12, 31))


def test_window_bounds_are_the_period_days_in_utc() -> None:
    assert window_bounds(*Q4) == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert window_bounds(date(2026, 2, 28), date(2026, 2, 28)) == (
        datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


@pytest.mark.parametrize(("merged_at", "inside"), [
    ("2026-10-01T00:00:00Z", True),  # the first instant of the period
    ("2026-12-31T23:59:59Z", True),  # the last second of its last day
    ("2027-01-01T00:00:00Z", False),  # the day after
    ("2026-09-30T23:59:59Z", False),
    ("2026-10-01T01:30:00+02:00", False),  # 23:30 UTC on 30 September
    ("2026-12-31T23:30:00-01:00", False),  # 00:30 UTC on 1 January
    (None, False),  # closed without merging
    ("not a time", False),
])
def test_merged_in_window(merged_at: str | None, inside: bool) -> None:
    assert merged_in_window({"number": 1, "merged_at": merged_at}, *Q4) is inside


def test_merged_in_window_without_a_merge_time() -> None:
    assert merged_in_window({"number": 1}, *Q4) is False


def test_operation_of_a_key() -> None:
    assert operation(PULLS) == "pulls/list"
