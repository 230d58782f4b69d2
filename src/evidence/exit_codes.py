"""The exit codes of `evidence` (DESIGN.md, "Exit codes"), and a run's code from its verdicts."""

from __future__ import annotations

from collections.abc import Iterable

from evidence.models import ControlVerdict, Status

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_ERRORS = 3


def exit_code_for(
    verdicts: Iterable[ControlVerdict], user_errors: Iterable[str] = (), plugin_errors: Iterable[str] = ()
) -> int:
    """0 all good; 1 a control fails; 3 evidence missing (errors) and no failure; 2 a usage error."""
    if list(user_errors):
        return EXIT_USAGE
    states = {v.verdict for v in verdicts}
    if Status.FAIL in states:
        return EXIT_FAIL
    if Status.ERROR in states or list(plugin_errors):
        return EXIT_ERRORS
    return EXIT_OK


__all__ = ["EXIT_ERRORS", "EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "exit_code_for"]
