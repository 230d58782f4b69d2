"""Conditions: what is wrong in a run that is worth an alert.

Conditions
    Every run has a set of *conditions*, each with a stable key:
    a control whose verdict is `fail` or `error` (`verdict:ENC-TRANSIT:fail`), a failing
    finding (`finding:<control>|<check>|<resource>|<account>|<region>`), a waiver expiring
    within `warn_days` or expired (`waiver:<id>:expiring|expired`), manual evidence expiring or
    expired (`manual:<control>:<requirement>:expiring|expired`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evidence.history.snapshot import Snapshot
from evidence.models import Status

#: the statuses drift and alerts are about (a snapshot loaded for drift holds only these)
BAD = (Status.FAIL, Status.ERROR)


@dataclass(frozen=True)
class Condition:
    """Something wrong in a run that is worth an alert."""

    key: str
    kind: Literal["verdict", "finding", "waiver", "manual"]
    control_id: str
    #: the finding's source (a condition is only cleared by a run that judged that source)
    source: str
    state: str
    text: str
    resources: tuple[str, ...]

    @property
    def repeats(self) -> bool:
        """Reminded every `repeat_after_days` while it lasts (a failing resource is not: its
        control's reminder lists it)."""
        return self.kind != "finding"


def days(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def conditions(snap: Snapshot, warn_days: int) -> dict[str, Condition]:
    """Every alert-worthy condition of a run, by key."""
    today = snap.run.reference_time.date()
    out: dict[str, Condition] = {}
    for v in snap.verdicts.values():
        if v.verdict in BAD:
            bad = sorted({f.resource_id for f in snap.findings if f.control_id == v.control_id and f.status in BAD})
            key = f"verdict:{v.control_id}:{v.verdict.value}"
            out[key] = Condition(
                key, "verdict", v.control_id, "", v.verdict.value, f"{v.control_id} is {v.verdict.value}", tuple(bad)
            )
    for fkey, f in snap.keyed.items():
        if f.status is Status.FAIL:
            key = f"finding:{fkey}"
            out[key] = Condition(
                key, "finding", f.control_id, f.source, "fail",
                f"failing resource {f.resource_id} ({f.check_id}): {f.message}", (f.resource_id,),
            )
    for w in snap.waivers:
        if w.control_id not in snap.verdicts:
            continue  # its control was not judged in this run (e.g. --only): neither was the waiver
        left = (w.expires - today).days
        if left < 0:
            state = "expired"
            text = (
                f"waiver {w.id} for {w.resource} expired on {w.expires.isoformat()} "
                f"(approved by {w.approver}: {w.reason}); matching findings count again"
            )
        elif left <= warn_days:
            state = "expiring"
            text = (
                f"waiver {w.id} for {w.resource} expires on {w.expires.isoformat()} (in {days(left)}; "
                f"approved by {w.approver}: {w.reason})"
            )
        else:
            continue
        key = f"waiver:{w.id}:{state}"
        out[key] = Condition(key, "waiver", w.control_id, "", state, text, (w.resource,))
    for v in snap.verdicts.values():
        for req in v.manual:
            attached = [a for a in snap.attachments if a.control_id == v.control_id and a.requirement == req]
            if not attached:
                continue
            best = max(attached, key=lambda a: a.valid_until)
            left = (best.valid_until - today).days
            if left < 0:
                state = "expired"
                text = f"manual evidence {req} ({best.path}) expired on {best.valid_until.isoformat()}"
            elif left <= warn_days:
                state = "expiring"
                text = (
                    f"manual evidence {req} ({best.path}) expires on {best.valid_until.isoformat()} "
                    f"(in {days(left)})"
                )
            else:
                continue
            key = f"manual:{v.control_id}:{req}:{state}"
            out[key] = Condition(key, "manual", v.control_id, "manual", state, text, (req,))
    return out


def judged(cond_control: str, cond_source: str, snap: Snapshot) -> bool:
    """Whether `snap` judged what a condition is about (so its absence there means it cleared)."""
    return cond_control in snap.verdicts and (not cond_source or cond_source in snap.run.sources)
