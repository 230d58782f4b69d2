"""The view models: how a value is shown, and what a check or waiver counts beyond its rows."""

from __future__ import annotations

from datetime import date

from evidence.models import Status
from evidence.reports.views import MAX_VALUE_CHARS, CheckView, Row, WaiverView, format_value


def _row(status: Status) -> Row:
    return Row(status=status, check_id="c", resource_id="r", where="", message="", observed="", expected="",
               evidence=[], waiver=None)


def test_format_value_shows_text_as_is_objects_by_key_and_cuts_long_values() -> None:
    assert format_value(None) == "—"
    assert format_value("TLSv1 & <b>") == "TLSv1 & <b>"
    assert format_value({"b": [1, 2], "a": "é"}) == 'a: "é"\nb: [1, 2]'
    assert format_value({}) == "{}"
    assert format_value([1, "é"]) == '[1, "é"]'
    assert format_value(3) == "3"
    assert format_value("x" * MAX_VALUE_CHARS) == "x" * MAX_VALUE_CHARS
    assert format_value("x" * (MAX_VALUE_CHARS + 1)) == (
        "x" * MAX_VALUE_CHARS + f"… (cut at {MAX_VALUE_CHARS} characters; the whole value is in findings.json)"
    )


def test_a_check_counts_the_findings_it_does_not_list() -> None:
    view = CheckView(id="c", description="", source="aws", params="", verdict=None,
                     counts={"fail": 3, "error": 1, "pass": 5, "not_applicable": 2, "manual": 1, "waived": 4})
    view.problems.append(_row(Status.FAIL))
    view.passing += [_row(Status.PASS), _row(Status.NOT_APPLICABLE)]
    assert (view.problem_total, view.problems_more) == (4, 3)
    assert (view.passing_total, view.passing_more) == (7, 5)
    assert view.others_more == 1
    waiver = WaiverView(id="W", resource="*", check_id="any check", reason="r", approver="a",
                        expires=date(2027, 1, 1), expired=False, rows=[_row(Status.WAIVED)], total=4)
    assert waiver.more == 3
