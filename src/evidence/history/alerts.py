"""Alerts: which to send, without crying wolf.

Alerts
    Decided from the conditions and the alert state kept in the history
    (`alert_state`): a condition alerts when it appears (or reappears after clearing); a
    failing control, an expiring waiver or manual evidence that persists alerts again only
    once `repeat_after_days` have passed since its last alert; a failing resource alerts once.
    One alert per control: its subject is one sentence saying what changed, where, and the
    first resource concerned ("ENC-TRANSIT now fails: ... (eu-west-2)", "AUDIT-LOG could not
    be checked: ..."); its body names the control, its statement, what changed, the resources
    (the first few, then how many more) and the bundle.

Delivery
    A condition counts as alerted only once its alert reached at least one configured URL.
    Claims are taken in a write transaction so two runs at once never send the same alert
    twice; a claim whose notification reached no URL is released, and with no URL configured
    nothing is claimed at all: such an alert stays *pending* and is sent by the first later
    run (or `evidence drift`) that has a URL that works.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from evidence.history.conditions import BAD, Condition, days, judged
from evidence.history.snapshot import Snapshot, parse_time
from evidence.history.store import AlertState, History
from evidence.models import ControlVerdict, Finding, Status, iso
from evidence.notify import Message

#: changes and resources listed in an alert's body (then "... and K more")
_MAX_LISTED = 50
#: characters in an alert's subject
_MAX_SUBJECT = 160
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
    #: what changed, one line each: the first `_MAX_LISTED` of them
    changes: list[str]
    #: the control's failing and erroring resources (and the waivers' or manual evidence's),
    #: one line each: the first `_MAX_LISTED` of them
    resources: list[str]
    keys: list[str]
    #: the subject: one sentence saying what changed, where, and the first resource concerned,
    #: e.g. "ENC-TRANSIT now fails: Listener policy X allows TLSv1 (eu-west-2, account 1)"
    headline: str = ""
    #: how many changes and resources there are in all (the lists above hold the first few)
    changes_total: int = 0
    resources_total: int = 0

    def subject(self) -> str:
        return _clip(self.headline or f"{self.control_id}: {self.verdict}", _MAX_SUBJECT)

    def body(self) -> str:
        lines = [
            f"Control: {self.control_id} ({self.title})",
            f"Statement: {self.statement}",
            f"Verdict: {self.verdict} (run {self.run_id}, period {self.period})",
            "What changed:",
            *[f"  - {c}" for c in self.changes],
        ]
        if self.changes_total > len(self.changes):
            lines.append(f"  ... and {self.changes_total - len(self.changes)} more (see findings.json)")
        lines.append(f"Resources ({self.resources_total}):" if self.resources_total else "Resources:")
        lines += [f"  - {r}" for r in self.resources]
        if self.resources_total > len(self.resources):
            lines.append(f"  ... and {self.resources_total - len(self.resources)} more (see findings.json)")
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
    #: control id -> the alert's row id in the history (only for claimed alerts)
    ids: dict[str, int] = field(default_factory=dict)
    stale: bool = False
    #: False when the alerts were decided without claiming them (no URL to send them to):
    #: they stay pending
    claimed: bool = True


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
    *,
    claim: bool = True,
) -> Decision:
    """Decide this run's alerts and update the alert state (one write transaction). With
    `claim` (there is a URL to send them to) the alerts are claimed, marked as sent by this
    run, and recorded; without, they are only decided and stay pending for a later run."""
    now = snap.run.reference_time
    now_s = iso(now)
    repeat = timedelta(days=repeat_after_days)
    run_id = snap.run.run_id
    with history.write() as db:
        row = db.execute("SELECT value FROM settings WHERE key = ?", (_SETTING_EVALUATED,)).fetchone()
        if row is not None and row["value"] > now_s:
            # a newer run already decided; this older one must not reopen what it cleared
            return Decision([], list(conds.values()), {}, stale=True, claimed=claim)
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
            alerted_at, alerted_run = prev_at, prev_run
            if reason is None:
                suppressed.append(cond)
            else:
                triggered.setdefault(cond.control_id, []).append((cond, reason, st if st and st.active else None))
                if claim:
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
        bad: dict[str, list[Finding]] = {}
        for f in snap.findings:
            if f.control_id in triggered and f.status in BAD:
                bad.setdefault(f.control_id, []).append(f)
        alerts = [
            _build_alert(snap, reference, cid, items, repeat_after_days, bundle, bad.get(cid, []))
            for cid, items in sorted(triggered.items())
        ]
        ids = (
            {a.control_id: history.add_alert(run_id, a.control_id, a.subject(), a.body(), a.keys) for a in alerts}
            if claim
            else {}
        )
    return Decision(alerts, suppressed, claims, ids, claimed=claim)


# -- what an alert says ---------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


def _sentence(message: str) -> str:
    """A finding's message as a clause: one line, without its final full stop."""
    return " ".join(message.split()).rstrip(".")


def _where(f: Finding) -> str:
    parts = [f.region] if f.region else []
    if f.account:
        parts.append(f"account {f.account}")
    return f" ({', '.join(parts)})" if parts else ""


def _headline(head: str, first: Finding | None, others: int, extras: Sequence[str]) -> str:
    """`head`, then the first resource's message and where it is, how many more, and the
    other changes; the message is what gives way when the subject would be too long."""
    tail = ""
    if first is not None:
        tail = _where(first) + (f", and {others} more" if others else "")
    if extras:
        tail += "; " + "; ".join(extras)
    if first is None:
        return head + tail
    # the remedy of a failed call is for the body; the subject says what went wrong
    message = _sentence(first.message.split(" Remedy: ", 1)[0]) or f"{first.resource_id} ({first.check_id})"
    room = _MAX_SUBJECT - len(head) - 2 - len(tail)
    return f"{head}: {_clip(message, max(room, 40))}{tail}"


def _waiver_phrase(cond: Condition, snap: Snapshot) -> str:
    wid = cond.key.removeprefix("waiver:").rsplit(":", 1)[0]
    waiver = next((w for w in snap.waivers if w.id == wid), None)
    if waiver is None:
        return f"waiver {wid} {cond.state}"
    if cond.state == "expired":
        return f"waiver {wid} expired on {waiver.expires.isoformat()}"
    left = (waiver.expires - snap.run.reference_time.date()).days
    return f"waiver {wid} expires on {waiver.expires.isoformat()} (in {days(left)})"


def _manual_phrase(cond: Condition, snap: Snapshot) -> str:
    req = cond.resources[0] if cond.resources else cond.key.split(":")[2]
    attached = [a for a in snap.attachments if a.control_id == cond.control_id and a.requirement == req]
    if not attached:
        return f"manual evidence {req} {cond.state}"
    until = max(a.valid_until for a in attached)
    if cond.state == "expired":
        return f"manual evidence {req} expired on {until.isoformat()}"
    left = (until - snap.run.reference_time.date()).days
    return f"manual evidence {req} expires on {until.isoformat()} (in {days(left)})"


def _distinct(findings: Sequence[Finding]) -> int:
    return len({f.resource_id for f in findings})


def _compose_headline(
    snap: Snapshot,
    reference: Snapshot | None,
    control_id: str,
    items: list[tuple[Condition, str, AlertState | None]],
    bad: Sequence[Finding],
) -> str:
    """One sentence: what changed, where, the first resource concerned ("ENC-TRANSIT now
    fails: ... (eu-west-2, account 1), and 2 more"; "AUDIT-LOG could not be checked: ...")."""
    verdict = next(((c, r) for c, r, _ in items if c.kind == "verdict"), None)
    new_keys = [c.key.removeprefix("finding:") for c, _, _ in items if c.kind == "finding"]
    new = [f for k in new_keys if (f := snap.keyed.get(k)) is not None]
    extras = [
        _waiver_phrase(c, snap) if c.kind == "waiver" else _manual_phrase(c, snap)
        for c, _, _ in items
        if c.kind in ("waiver", "manual")
    ]
    if verdict is not None:
        cond, reason = verdict
        if cond.state == Status.ERROR.value:
            errors = [f for f in bad if f.status is Status.ERROR]
            head = f"{control_id} {'still ' if reason == 'repeat' else ''}could not be checked"
            # one source that could not be read errs every check of it on the same resource: count errors
            if len(errors) > 1:
                head += f" ({len(errors)} errors)"
            return _headline(head, errors[0] if errors else None, max(len(errors) - 1, 0), extras)
        failing = [f for f in bad if f.status is Status.FAIL]
        before = reference.verdicts.get(control_id) if reference is not None else None
        if reason == "repeat":
            head = f"{control_id} still fails"
        elif before is not None and before.verdict.value != cond.state:
            head = f"{control_id} now fails"
        else:
            head = f"{control_id} fails"
        n = _distinct(failing)
        if n > 1:
            head += f" on {n} resources"
        first = new[0] if new else (failing[0] if failing else None)
        return _headline(head, first, max(n - 1, 0), extras)
    if new:
        n = _distinct(new)
        head = f"{control_id} fails on " + ("a new resource" if n == 1 else f"{n} new resources")
        return _headline(head, new[0], n - 1, extras)
    if extras:
        return f"{control_id}: " + "; ".join(extras)
    return f"{control_id}: " + "; ".join(c.text for c, _, _ in items)


def _resource_line(f: Finding) -> str:
    where = ", ".join(p for p in (f.status.value, f.region, f"account {f.account}" if f.account else "") if p)
    return f"{f.resource_id} ({where}): {_clip(_sentence(f.message), 300)}"


def _build_alert(
    snap: Snapshot,
    reference: Snapshot | None,
    control_id: str,
    items: list[tuple[Condition, str, AlertState | None]],
    repeat_after: int,
    bundle: str,
    bad: Sequence[Finding],
) -> Alert:
    order = {"verdict": 0, "finding": 1, "waiver": 2, "manual": 3}
    items = sorted(items, key=lambda i: (order[i[0].kind], i[0].key))
    verdict: ControlVerdict | None = snap.verdicts.get(control_id)
    # failing resources first, then erroring ones; each resource and message once
    listed = sorted(bad, key=lambda f: (f.status is not Status.FAIL, f.resource_id, f.check_id))
    lines = list(dict.fromkeys(_resource_line(f) for f in listed))
    seen = {f.resource_id for f in bad}
    extra = sorted({r for c, _, _ in items if c.kind in ("waiver", "manual") for r in c.resources} - seen)
    resources = lines + extra
    return Alert(
        control_id=control_id,
        title=verdict.title if verdict else control_id,
        statement=verdict.statement if verdict else "",
        verdict=verdict.verdict.value if verdict else "unknown",
        run_id=snap.run.run_id,
        period=snap.run.period,
        bundle=bundle,
        # a finding's change reads the whole finding from the history: only the listed ones
        changes=[
            _change_text(c, reason, st, snap, reference, repeat_after) for c, reason, st in items[:_MAX_LISTED]
        ],
        changes_total=len(items),
        resources=resources[:_MAX_LISTED],
        resources_total=len(resources),
        keys=[c.key for c, _, _ in items],
        headline=_compose_headline(snap, reference, control_id, items, bad),
    )
