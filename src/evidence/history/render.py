"""Drift, diffs and alert outcomes as lines of text for the command line."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evidence.history.alerts import short
from evidence.history.conditions import Condition
from evidence.history.diff import ABSENT, RunDiff, evidence_changes, read_record
from evidence.history.drift import Drift
from evidence.history.outcome import Outcome
from evidence.history.snapshot import Snapshot
from evidence.models import Status, iso


def show(value: Any) -> str:
    return "(absent)" if value is ABSENT else short(value)


def _run_label(s: Snapshot) -> str:
    return f"run {s.run.run_id} ({s.run.period}, {iso(s.run.reference_time)})"


def render_diff(
    d: RunDiff, bundle_a: Path | None = None, bundle_b: Path | None = None, max_fields: int = 20
) -> Iterator[str]:
    """The diff as lines of text, one at a time (a diff of large runs is never held whole)."""
    # the same record is compared for many findings (one listing of every user): parsed once
    read = functools.lru_cache(maxsize=16)(read_record)
    yield from (f"A: {_run_label(d.a)}", f"B: {_run_label(d.b)}", "")
    yield f"controls whose verdict changed: {len(d.verdicts)}"
    for v in d.verdicts:
        yield f"  {v.control_id:<20} {v.before or '(not judged)'} → {v.after or '(not judged)'}"
    yield f"findings new: {d.new_count}"
    for f in d.new():
        yield f"  + {f.status.value:<8} {f.control_id} {f.check_id} {f.resource_id}: {f.message}"
    yield f"findings resolved: {d.resolved_count}"
    for f in d.resolved():
        yield f"  - {f.status.value:<8} {f.control_id} {f.check_id} {f.resource_id}: {f.message}"
    yield f"findings changed: {d.changed_count}"
    for c in d.changed():
        a, b = c.before, c.after
        yield f"  ~ {b.control_id} {b.check_id} {b.resource_id}"
        for name in c.fields:
            if name != "evidence":
                yield f"      {name}: {show(getattr(a, name))} → {show(getattr(b, name))}"
        if bundle_a is None and bundle_b is None:
            continue
        for ev in evidence_changes(bundle_a, bundle_b, [*a.evidence, *b.evidence], focus=b.resource_id, read=read):
            if ev.status == "identical":
                continue
            if ev.status != "changed":
                yield f"      evidence {ev.path}: {ev.status.replace('_', ' ')}"
                continue
            yield f"      evidence {ev.path}:"
            for path, old, new in ev.fields[:max_fields]:
                yield f"        {path}: {show(old)} → {show(new)}"
            if len(ev.fields) > max_fields:
                yield f"        ... and {len(ev.fields) - max_fields} more"


def render_drift(drift: Drift, max_lines: int = 10) -> list[str]:
    if drift.reference is None:
        head = f"drift of {_run_label(drift.run)}: no earlier run with the same sources; every condition is new"
    else:
        head = f"drift of {_run_label(drift.run)} against {drift.against} {_run_label(drift.reference)}"
    lines = [head]
    if not drift.new:
        lines.append("  no drift")
    by_control: dict[str, list[Condition]] = {}
    for c in drift.new:
        by_control.setdefault(c.control_id, []).append(c)
    changes = {v.control_id: v for v in drift.verdicts}
    for cid, conds in sorted(by_control.items()):
        v = changes.get(cid)
        now = drift.run.verdicts.get(cid)
        verdict = (
            f"{v.before or '(not judged)'} → {v.after}" if v is not None else (now.verdict.value if now else "")
        )
        lines.append(f"  {cid:<20} {verdict}")
        details = [c.text for c in conds if c.kind != "verdict"]
        if any(c.kind == "verdict" and c.state == Status.ERROR.value for c in conds):
            # an erroring control has no failing resource to show: say what could not be judged
            errors = [f for f in drift.run.findings if f.control_id == cid and f.status is Status.ERROR]
            if errors:
                f = errors[0]
                lines.append(f"    could not be checked: {f.resource_id} ({f.check_id}): {f.message}")
            if len(errors) > 1:
                lines.append(f"    ... and {len(errors) - 1} more errors (findings.json)")
        lines += [f"    {t}" for t in details[:max_lines]]
        if len(details) > max_lines:
            lines.append(f"    ... and {len(details) - max_lines} more (evidence diff, findings.json)")
    resolved = [f"{c.control_id} no longer {c.state}" if c.kind == "verdict" else c.text for c in drift.cleared]
    lines += [f"  resolved: {t}" for t in resolved[:max_lines]]
    if len(resolved) > max_lines:
        lines.append(f"  ... and {len(resolved) - max_lines} more resolved")
    return lines


def render_outcome(o: Outcome) -> tuple[list[str], list[str]]:
    """(lines for stdout, lines for stderr) describing alerts and their deliveries. The first
    line says what happened to them in all: sent, not delivered, or pending for want of a URL."""
    out: list[str] = []
    err: list[str] = []
    if not o.decided:
        out.append("alerts: not decided (--no-notify)")
        return out, err
    if o.stale:
        out.append("alerts: a newer run has already been evaluated; this one sends none")
        return out, err
    n = len(o.alerts)
    already = f"{len(o.suppressed)} condition(s) already alerted" if o.suppressed else ""
    if not n:
        head = "alerts: none to send" + (f" ({already})" if already else "")
    elif not o.urls:
        head = f"alerts: {n} pending (no [alerts] urls configured; they will be sent once one is)"
    else:
        sent = len(o.sent)
        parts = [f"{sent} sent"] if sent else []
        if n - sent:
            parts.append(f"{n - sent} not delivered (will retry)")
        head = "alerts: " + ", ".join(parts)
    if n and already:
        head += f"; {already}"
    out.append(head)
    for a in o.alerts:
        out.append(f"  {a.subject()}")
        for d in o.deliveries:
            if d.key != a.control_id:
                continue
            if d.ok:
                out.append(f"    sent to {d.target}")
            else:
                out.append(f"    not delivered to {d.target}")
                err.append(f"evidence: alert {a.control_id} NOT delivered to {d.target}: {d.error}")
    for cid in o.released:
        err.append(
            f"evidence: alert {cid} reached no URL; it stays pending and will be sent again on the next run "
            "(or evidence drift)"
        )
    return out, err
