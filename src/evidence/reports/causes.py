"""Why a control is not passing, in a line: the first findings that decided its verdict, with
the cause and the remedy split apart (a finding's message says "<cause>. Remedy: <remedy>")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evidence.models import ControlVerdict, Finding, Status

#: the verdicts a reader must act on, and the finding statuses that explain each
EXPLAINED: dict[Status, tuple[Status, ...]] = {
    Status.FAIL: (Status.FAIL,),
    Status.ERROR: (Status.ERROR,),
    Status.MANUAL: (Status.MANUAL,),
}
_REMEDY = "Remedy:"


@dataclass(frozen=True)
class Cause:
    """One finding behind a control's verdict: what is wrong, and what to do (may be empty)."""

    finding: Finding
    cause: str
    remedy: str


def split_message(message: str) -> tuple[str, str]:
    """A finding's message as (cause, remedy); the remedy is empty when the message has none."""
    head, sep, tail = message.partition(_REMEDY)
    if not sep:
        return message.strip(), ""
    return head.strip().rstrip(".").strip() + ".", tail.strip()


def first_causes(
    verdicts: Iterable[ControlVerdict], findings: Iterable[Finding], per_control: int = 3, *,
    one_per_check: bool = False,
) -> dict[str, list[Cause]]:
    """For each control whose verdict is fail, error or manual, its first `per_control`
    findings of that status, in `findings.json` order (one streamed pass, bounded memory); with
    `one_per_check`, the first of each check (a control failing several ways shows each)."""
    wanted = {v.control_id: EXPLAINED[v.verdict] for v in verdicts if v.verdict in EXPLAINED}
    out: dict[str, list[Cause]] = {cid: [] for cid in wanted}
    seen: set[tuple[str, str]] = set()
    for f in findings:
        statuses = wanted.get(f.control_id)
        if statuses is None or f.status not in statuses or len(out[f.control_id]) >= per_control:
            continue
        if one_per_check:
            if (f.control_id, f.check_id) in seen:
                continue
            seen.add((f.control_id, f.check_id))
        cause, remedy = split_message(f.message)
        out[f.control_id].append(Cause(f, cause, remedy))
    return out


__all__ = ["EXPLAINED", "Cause", "first_causes", "split_message"]
