"""Alerts: which to send, without crying wolf.

Alerts
    Decided from the conditions and the alert state kept in the history
    (`alert_state`): a condition alerts when it appears (or reappears after clearing); a
    failing control, an expiring waiver or manual evidence that persists alerts again only
    once `repeat_after_days` have passed since its last alert; a failing resource alerts once.
    One alert per control, naming the control, its statement, what changed, the resources
    and the bundle. Claims are taken in a write transaction so two runs at once never send
    the same alert twice; a claim whose notification reached no URL is released, so the next
    run tries again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from evidence.history.conditions import BAD, Condition, days, judged
from evidence.history.snapshot import Snapshot, parse_time
from evidence.history.store import AlertState, History
from evidence.models import ControlVerdict, iso
from evidence.notify import Message

_MAX_LISTED = 50
_SETTING_EVALUATED = "alerts_evaluated_until"


@dataclass
class Alert:
    """One alert about one control."""

    control_id: str
    title: str
    statement: str
    verdict: str
    run_id: str
    period: str
    bundle: str
    changes: list[str]
    resources: list[str]
    keys: list[str]
    #: short phrases for the subject, e.g. "pass → fail", "1 new failing resource"
    summary: list[str] = field(default_factory=list)

    def subject(self) -> str:
        text = f"evidence: {self.control_id} {self.verdict}: {', '.join(self.summary) or 'changed'}"
        return text if len(text) <= 160 else text[:157] + "..."

    def body(self) -> str:
        lines = [
            f"Control: {self.control_id} ({self.title})",
            f"Statement: {self.statement}",
            f"Verdict: {self.verdict} (run {self.run_id}, period {self.period})",
            "What changed:",
            *[f"  - {c}" for c in self.changes],
            "Resources:",
            *[f"  - {r}" for r in self.resources[:_MAX_LISTED]],
        ]
        if len(self.resources) > _MAX_LISTED:
            lines.append(f"  ... and {len(self.resources) - _MAX_LISTED} more (see findings.json)")
        if not self.resources:
            lines.append("  (none)")
        lines.append(f"Bundle: {self.bundle}")
        return "\n".join(lines) + "\n"

    def message(self) -> Message:
        return Message(self.control_id, self.subject(), self.body())


@dataclass(frozen=True)
class _Claim:
    key: str
    previous_at: str | None
    previous_run: str | None


@dataclass
class Decision:
    alerts: list[Alert]
    suppressed: list[Condition]
    claims: dict[str, list[_Claim]]
    #: control id -> the alert's row id in the history
    ids: dict[str, int] = field(default_factory=dict)
    stale: bool = False


def _change_text(
    cond: Condition, reason: str, state: AlertState | None, snap: Snapshot, reference: Snapshot | None,
    repeat_after: int,
) -> str:
    if cond.kind == "verdict":
        if reason == "repeat" and state is not None:
            return (
                f"still {cond.state} since {state.first_seen_at} (last alerted {state.last_alerted_at}; "
                f"reminder every {days(repeat_after)})"
            )
        if reason == "pending" and state is not None:
            return f"{cond.state} since {state.first_seen_at} (the earlier alert reached no one)"
        if reference is None:
            return f"verdict {cond.state} (no earlier run to compare with)"
        before = reference.verdicts.get(cond.control_id)
        if before is None:
            return f"verdict {cond.state} (not judged in run {reference.run.run_id})"
        if before.verdict.value == cond.state:
            return f"verdict {cond.state} (first alert; already {cond.state} in run {reference.run.run_id})"
        return f"verdict {before.verdict.value} → {cond.state} (since run {reference.run.run_id})"
    if cond.kind == "finding":
        fkey = cond.key.removeprefix("finding:")
        prev = reference.find(fkey) if reference is not None else None
        f = snap.whole(fkey) or snap.keyed[fkey]
        detail = f"observed {short(f.observed)}, expected {short(f.expected)}"
        was = f"; was {prev.status.value}" if prev is not None else ""
        prefix = "failing resource (earlier alert reached no one)" if reason == "pending" else "new failing resource"
        return f"{prefix} {f.resource_id} ({f.check_id}): {f.message} ({detail}{was})"
    suffix = ""
    if reason == "repeat" and state is not None:
        suffix = f" (reminder; last alerted {state.last_alerted_at})"
    elif reason == "pending":
        suffix = " (the earlier alert reached no one)"
    return cond.text + suffix


def short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decide_alerts(
    history: History,
    snap: Snapshot,
    reference: Snapshot | None,
    conds: dict[str, Condition],
    repeat_after_days: int,
    bundle: str,
) -> Decision:
    """Decide and claim this run's alerts, updating the alert state (one write transaction)."""
    now = snap.run.reference_time
    now_s = iso(now)
    repeat = timedelta(days=repeat_after_days)
    run_id = snap.run.run_id
    with history.write() as db:
        row = db.execute("SELECT value FROM settings WHERE key = ?", (_SETTING_EVALUATED,)).fetchone()
        if row is not None and row["value"] > now_s:
            # a newer run already decided; this older one must not reopen what it cleared
            return Decision([], list(conds.values()), {}, stale=True)
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (_SETTING_EVALUATED, now_s),
        )
        states = history.alert_states()
        triggered: dict[str, list[tuple[Condition, str, AlertState | None]]] = {}
        suppressed: list[Condition] = []
        claims: dict[str, list[_Claim]] = {}
        for key, cond in sorted(conds.items()):
            st = states.get(key)
            reason: str | None
            if st is None or not st.active:
                reason = "new"
                first_at, first_run = now_s, run_id
                prev_at: str | None = None
                prev_run: str | None = None
            else:
                first_at, first_run = st.first_seen_at, st.first_seen_run
                prev_at, prev_run = st.last_alerted_at, st.last_alerted_run
                if st.last_alerted_at is None:
                    reason = "pending"
                elif cond.repeats and parse_time(st.last_alerted_at) + repeat <= now:
                    reason = "repeat"
                else:
                    reason = None
            last_seen_at = max(now_s, st.last_seen_at) if st is not None and st.active else now_s
            last_seen_run = run_id if st is None or not st.active or now_s >= st.last_seen_at else st.last_seen_run
            if reason is None:
                suppressed.append(cond)
                alerted_at, alerted_run = prev_at, prev_run
            else:
                triggered.setdefault(cond.control_id, []).append((cond, reason, st if st and st.active else None))
                claims.setdefault(cond.control_id, []).append(_Claim(key, prev_at, prev_run))
                alerted_at, alerted_run = now_s, run_id
            history.put_alert_state(
                AlertState(
                    key=key, kind=cond.kind, control_id=cond.control_id, source=cond.source, active=True,
                    first_seen_at=first_at, first_seen_run=first_run, last_seen_at=last_seen_at,
                    last_seen_run=last_seen_run, last_alerted_at=alerted_at, last_alerted_run=alerted_run,
                )
            )
        for key, st in states.items():
            if (
                st.active
                and key not in conds
                and judged(st.control_id, st.source, snap)
                and st.last_seen_at <= now_s
            ):
                db.execute("UPDATE alert_state SET active = 0 WHERE key = ?", (key,))
        alerts = [
            _build_alert(snap, reference, cid, items, repeat_after_days, bundle)
            for cid, items in sorted(triggered.items())
        ]
        ids = {a.control_id: history.add_alert(run_id, a.control_id, a.subject(), a.body(), a.keys) for a in alerts}
    return Decision(alerts, suppressed, claims, ids)


def _build_alert(
    snap: Snapshot,
    reference: Snapshot | None,
    control_id: str,
    items: list[tuple[Condition, str, AlertState | None]],
    repeat_after: int,
    bundle: str,
) -> Alert:
    order = {"verdict": 0, "finding": 1, "waiver": 2, "manual": 3}
    items = sorted(items, key=lambda i: (order[i[0].kind], i[0].key))
    verdict: ControlVerdict | None = snap.verdicts.get(control_id)
    failing = sorted(
        {f"{f.resource_id} ({f.status.value})" for f in snap.findings
         if f.control_id == control_id and f.status in BAD}
    )
    extra = [r for c, _, _ in items if c.kind in ("waiver", "manual") for r in c.resources]
    summary: list[str] = []
    for c, reason, _ in items:
        if c.kind == "verdict":
            before = reference.verdicts.get(control_id) if reference is not None else None
            if reason == "repeat":
                summary.append(f"still {c.state}")
            elif before is not None and before.verdict.value != c.state:
                summary.append(f"{before.verdict.value} → {c.state}")
            else:
                summary.append(c.state)
        elif c.kind == "waiver":
            summary.append(f"waiver {c.key.removeprefix('waiver:').rsplit(':', 1)[0]} {c.state}")
        elif c.kind == "manual":
            summary.append(f"manual evidence {c.resources[0]} {c.state}")
    new_failing = sum(1 for c, _, _ in items if c.kind == "finding")
    if new_failing:
        summary.insert(
            1 if items[0][0].kind == "verdict" else 0,
            f"{new_failing} new failing resource" + ("s" if new_failing > 1 else ""),
        )
    return Alert(
        control_id=control_id,
        title=verdict.title if verdict else control_id,
        statement=verdict.statement if verdict else "",
        verdict=verdict.verdict.value if verdict else "unknown",
        run_id=snap.run.run_id,
        period=snap.run.period,
        bundle=bundle,
        changes=[_change_text(c, reason, st, snap, reference, repeat_after) for c, reason, st in items],
        resources=failing + sorted(set(extra) - set(failing)),
        keys=[c.key for c, _, _ in items],
        summary=summary,
    )
