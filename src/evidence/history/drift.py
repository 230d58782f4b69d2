"""Drift: what changed between two runs, what went wrong since the last run (or a baseline).

Drift
    The conditions of a run that the reference run (the previous run with the same sources,
    or the baseline) did not have. Any drift makes `evidence drift` and `evidence run` exit
    non-zero (`EXIT_DRIFT` when nothing else does, see `compose_exit`).

Conditions are in `evidence.history.conditions`, the alerts drift sends in
`evidence.history.alerts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evidence.history.conditions import Condition, conditions, judged
from evidence.history.snapshot import Snapshot

EXIT_DRIFT = 4
Against = Literal["last", "baseline"]
AGAINST: tuple[str, ...] = ("last", "baseline")


class DriftError(Exception):
    """Drift cannot be computed (no run, no baseline, an unreadable bundle); one line."""


@dataclass(frozen=True)
class VerdictChange:
    control_id: str
    title: str
    before: str | None
    after: str | None


def verdict_changes(a: Snapshot | None, b: Snapshot) -> list[VerdictChange]:
    """Controls judged in `b` whose verdict differs from `a`'s (None: not judged there)."""
    out: list[VerdictChange] = []
    before = a.verdicts if a is not None else {}
    for cid in sorted(b.verdicts):
        old = before.get(cid)
        new = b.verdicts[cid]
        if old is None or old.verdict != new.verdict:
            out.append(VerdictChange(cid, new.title, old.verdict.value if old else None, new.verdict.value))
    return out


@dataclass
class Drift:
    """A run's conditions against a reference run's."""

    run: Snapshot
    reference: Snapshot | None
    against: str
    new: list[Condition]
    cleared: list[Condition]
    verdicts: list[VerdictChange]

    @property
    def drifted(self) -> bool:
        return bool(self.new)


def compute_drift(
    run: Snapshot, reference: Snapshot | None, against: str, warn_days: int, now: dict[str, Condition] | None = None
) -> Drift:
    """What is new and what cleared since `reference`; `now`: the run's conditions, when known."""
    now = conditions(run, warn_days) if now is None else now
    before = conditions(reference, warn_days) if reference is not None else {}
    new = [c for k, c in sorted(now.items()) if k not in before]
    cleared = [c for k, c in sorted(before.items()) if k not in now and judged(c.control_id, c.source, run)]
    changes = verdict_changes(reference, run) if reference is not None else []
    return Drift(run, reference, against, new, cleared, changes)


def compose_exit(run_code: int, drifted: bool) -> int:
    """`evidence run`'s exit code: DESIGN.md's 0/1/2/3 win (a failing control already makes it
    non-zero); when they say 0 and there is drift (e.g. manual evidence or a waiver expired or
    expiring, which leave controls `manual` or passing), it is `EXIT_DRIFT` (4)."""
    if run_code == 0 and drifted:
        return EXIT_DRIFT
    return run_code
