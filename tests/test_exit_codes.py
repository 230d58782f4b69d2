"""A run's exit code from its verdicts: a usage error wins, then a failing control, then missing
evidence (errors, or a plugin that failed to load)."""

from __future__ import annotations

import pytest

from evidence.exit_codes import EXIT_ERRORS, EXIT_FAIL, EXIT_OK, EXIT_USAGE, exit_code_for
from evidence.models import ControlVerdict, Status


def verdict(status: Status, control_id: str = "C") -> ControlVerdict:
    return ControlVerdict(control_id=control_id, title=control_id, statement="s", criteria=[], verdict=status,
                          counts={status.value: 1}, checks=[])


@pytest.mark.parametrize(("statuses", "code"), [
    ([], EXIT_OK),
    ([Status.PASS, Status.MANUAL, Status.NOT_APPLICABLE, Status.WAIVED], EXIT_OK),
    ([Status.PASS, Status.ERROR], EXIT_ERRORS),
    ([Status.ERROR, Status.FAIL], EXIT_FAIL),
])
def test_the_code_follows_the_worst_verdict(statuses: list[Status], code: int) -> None:
    assert exit_code_for(verdict(s, f"C{n}") for n, s in enumerate(statuses)) == code


def test_a_usage_error_wins_and_a_plugin_error_is_missing_evidence() -> None:
    assert exit_code_for([verdict(Status.FAIL)], user_errors=["bad key"]) == EXIT_USAGE == 2
    assert exit_code_for([verdict(Status.PASS)], plugin_errors=["plugin:x"]) == EXIT_ERRORS == 3
    assert exit_code_for([verdict(Status.FAIL)], plugin_errors=["plugin:x"]) == EXIT_FAIL == 1
    # a generator of user errors counts too (it is read once)
    assert exit_code_for([], user_errors=(e for e in ["bad"])) == EXIT_USAGE
