"""Drift: what changed between two runs, what went wrong since the last run (or a baseline),
and which alerts to send without crying wolf.

Conditions
    Every run has a set of *conditions*, each with a stable key:
    a control whose verdict is `fail` or `error` (`verdict:ENC-TRANSIT:fail`), a failing
    finding (`finding:<control>|<check>|<resource>|<account>|<region>`), a waiver expiring
    within `warn_days` or expired (`waiver:<id>:expiring|expired`), manual evidence expiring or
    expired (`manual:<control>:<requirement>:expiring|expired`).

Drift
    The conditions of a run that the reference run (the previous run with the same sources,
    or the baseline) did not have. Any drift makes `evidence drift` and `evidence run` exit
    non-zero (`EXIT_DRIFT` when nothing else does, see `compose_exit`).

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from evidence.config import AlertsConfig
from evidence.history import (
    AlertState,
    History,
    HistoryError,
    RunInfo,
    Snapshot,
    parse_time,
)
from evidence.judge import Judging
from evidence.models import ControlVerdict, Finding, Status, iso
from evidence.notify import Delivery, Message
from evidence.notify import send as notify_send

EXIT_DRIFT = 4
Against = Literal["last", "baseline"]
AGAINST: tuple[str, ...] = ("last", "baseline")
_BAD = (Status.FAIL, Status.ERROR)
_MAX_LISTED = 50
_SETTING_EVALUATED = "alerts_evaluated_until"


class DriftError(Exception):
    """Drift cannot be computed (no run, no baseline, an unreadable bundle); one line."""


# -- conditions -----------------------------------------------------------------------------


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


def _days(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def conditions(snap: Snapshot, warn_days: int) -> dict[str, Condition]:
    """Every alert-worthy condition of a run, by key."""
    today = snap.run.reference_time.date()
    out: dict[str, Condition] = {}
    for v in snap.verdicts.values():
        if v.verdict in _BAD:
            bad = sorted({f.resource_id for f in snap.findings if f.control_id == v.control_id and f.status in _BAD})
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
                f"waiver {w.id} for {w.resource} expires on {w.expires.isoformat()} (in {_days(left)}; "
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
                    f"(in {_days(left)})"
                )
            else:
                continue
            key = f"manual:{v.control_id}:{req}:{state}"
            out[key] = Condition(key, "manual", v.control_id, "manual", state, text, (req,))
    return out


def _judged(cond_control: str, cond_source: str, snap: Snapshot) -> bool:
    """Whether `snap` judged what a condition is about (so its absence there means it cleared)."""
    return cond_control in snap.verdicts and (not cond_source or cond_source in snap.run.sources)


# -- drift ----------------------------------------------------------------------------------


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
    cleared = [c for k, c in sorted(before.items()) if k not in now and _judged(c.control_id, c.source, run)]
    changes = verdict_changes(reference, run) if reference is not None else []
    return Drift(run, reference, against, new, cleared, changes)


def compose_exit(run_code: int, drifted: bool) -> int:
    """`evidence run`'s exit code: DESIGN.md's 0/1/2/3 win (a failing control already makes it
    non-zero); when they say 0 and there is drift (e.g. manual evidence or a waiver expired or
    expiring, which leave controls `manual` or passing), it is `EXIT_DRIFT` (4)."""
    if run_code == 0 and drifted:
        return EXIT_DRIFT
    return run_code


# -- alerts ---------------------------------------------------------------------------------


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
                f"reminder every {_days(repeat_after)})"
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
        detail = f"observed {_short(f.observed)}, expected {_short(f.expected)}"
        was = f"; was {prev.status.value}" if prev is not None else ""
        prefix = "failing resource (earlier alert reached no one)" if reason == "pending" else "new failing resource"
        return f"{prefix} {f.resource_id} ({f.check_id}): {f.message} ({detail}{was})"
    suffix = ""
    if reason == "repeat" and state is not None:
        suffix = f" (reminder; last alerted {state.last_alerted_at})"
    elif reason == "pending":
        suffix = " (the earlier alert reached no one)"
    return cond.text + suffix


def _short(value: Any, limit: int = 200) -> str:
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
                and _judged(st.control_id, st.source, snap)
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
         if f.control_id == control_id and f.status in _BAD}
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


# -- the whole step: drift, alerts, notifications -------------------------------------------


@dataclass
class Outcome:
    """What `evidence run` / `evidence drift` did after judging: drift, alerts, deliveries."""

    run: RunInfo
    drift: Drift
    alerts: list[Alert]
    suppressed: list[Condition]
    deliveries: list[Delivery]
    urls: int
    stale: bool = False
    recorded: bool = False
    released: list[str] = field(default_factory=list)
    #: False when only the drift was reported (`--no-notify`): no alert decided or sent
    decided: bool = True

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.ok]


Sender = Callable[[Sequence[Message], Sequence[str]], list[Delivery]]


def reference_for(history: History, run: RunInfo, against: str) -> RunInfo | None:
    if against == "last":
        return history.previous(run)
    if against == "baseline":
        base = history.baseline()
        if base is None:
            raise DriftError(f"{history.path}: no baseline set; set one with `evidence baseline RUN`")
        return base
    raise DriftError(f"--against must be one of {', '.join(AGAINST)} (got {against!r})")


def evaluate(
    history: History,
    run: RunInfo,
    *,
    out: Path,
    alerts: AlertsConfig,
    against: str = "last",
    notify: bool = True,
    sender: Sender = notify_send,
) -> Outcome:
    """Drift of `run` against its reference, alerts decided and (if `notify`) sent to
    `alerts.urls`; every decision and delivery recorded in the history."""
    # drift and alerts are about failing and erroring findings: only those are loaded
    snap = history.snapshot(run, statuses=_BAD)
    ref_info = reference_for(history, run, against)
    reference: Snapshot | None = None
    if ref_info is not None:
        reference = snap if ref_info.run_id == run.run_id else history.snapshot(ref_info, statuses=_BAD)
    # one failing resource is one condition: computed once, for drift and for the alerts
    conds = conditions(snap, alerts.warn_days)
    drift = compute_drift(snap, reference, against, alerts.warn_days, now=conds)
    bundle = str(snap.bundle_path(out).resolve())
    if not notify:
        return Outcome(run, drift, [], [], [], len(alerts.urls), decided=False)
    decision = decide_alerts(history, snap, reference, conds, alerts.repeat_after_days, bundle)
    deliveries = sender([a.message() for a in decision.alerts], alerts.urls) if alerts.urls and decision.alerts else []
    released: list[str] = []
    for d in deliveries:
        history.add_delivery(decision.ids[d.key], d.target, d.ok, d.error)
    if alerts.urls:
        for a in decision.alerts:
            if not any(d.ok for d in deliveries if d.key == a.control_id):
                released.append(a.control_id)
                for claim in decision.claims.get(a.control_id, []):
                    history.unclaim_alert(claim.key, run.run_id, claim.previous_at, claim.previous_run)
    return Outcome(
        run, drift, decision.alerts, decision.suppressed, deliveries, len(alerts.urls), decision.stale,
        released=released,
    )


def after_run(
    result: Any, alerts: AlertsConfig, *, out: Path | None = None, notify: bool = True, sender: Sender = notify_send
) -> Outcome:
    """Record a finished run in `<out>/history.sqlite`, then drift against the last run with
    the same scope and alerts. `result` is a `RunResult` whose bundle is committed."""
    if result.bundle is None:
        raise HistoryError(f"run {result.run_id} has no bundle; nothing to record")
    out = out or Path(result.bundle).parents[1]
    with History.open(out) as history:
        # findings are streamed from the bundle into the history, never all held
        info = history.record(Snapshot.from_result(result, out, with_findings=False), result.iter_findings())
        outcome = evaluate(history, info, out=out, alerts=alerts, against="last", notify=notify, sender=sender)
    outcome.recorded = True
    return outcome


# -- diff -----------------------------------------------------------------------------------


def snapshot_from_bundle(bundle: Path) -> Snapshot:
    """A run read from its bundle (manifest, findings, controls, judging input)."""
    from evidence.runner import exit_code_for

    def load(name: str) -> Any:
        path = bundle / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DriftError(f"{bundle}: not a complete bundle (no {name})") from None
        except (OSError, ValueError) as exc:
            raise DriftError(f"{path}: unreadable ({exc})") from None

    manifest = load("manifest.json")
    verdicts = [ControlVerdict.model_validate(v) for v in load("controls.json")]
    findings = [Finding.model_validate(f) for f in load("findings.json")]
    judging = Judging.model_validate(load("judging.json"))
    return Snapshot.from_parts(
        manifest, verdicts, findings, bundle=str(bundle.resolve()), exit_code=exit_code_for(verdicts),
        waivers=judging.waivers, attachments=judging.attachments,
    )


@dataclass(frozen=True)
class FindingDelta:
    key: str
    before: Finding
    after: Finding
    fields: list[str]


@dataclass
class RunDiff:
    a: Snapshot
    b: Snapshot
    verdicts: list[VerdictChange]
    new: list[Finding]
    resolved: list[Finding]
    changed: list[FindingDelta]


_COMPARED = ("status", "observed", "expected", "message", "evidence", "waiver", "resource_type", "source")


def diff_runs(a: Snapshot, b: Snapshot) -> RunDiff:
    """Controls whose verdict changed, and findings new, resolved and changed, from `a` to `b`."""
    before = a.keyed
    after = b.keyed
    changes = [c for c in verdict_changes(a, b)]
    changes += [VerdictChange(cid, v.title, v.verdict.value, None) for cid, v in sorted(a.verdicts.items())
                if cid not in b.verdicts]
    changed: list[FindingDelta] = []
    for key in sorted(set(before) & set(after)):
        fa, fb = before[key], after[key]
        fields = [name for name in _COMPARED if getattr(fa, name) != getattr(fb, name)]
        if fields:
            changed.append(FindingDelta(key, fa, fb, fields))
    return RunDiff(
        a, b, sorted(changes, key=lambda c: c.control_id),
        [after[k] for k in sorted(set(after) - set(before))],
        [before[k] for k in sorted(set(before) - set(after))],
        changed,
    )


_ABSENT = object()


def _mentions(value: Any, needle: str) -> bool:
    return value is not _ABSENT and needle in json.dumps(value, default=str, ensure_ascii=False)


def json_diff(a: Any, b: Any, path: str = "$", focus: str | None = None) -> list[tuple[str, Any, Any]]:
    """Leaf values that differ between two JSON documents, as (JSON path, old, new); a side
    where the value does not exist is `ABSENT`. With `focus` (a resource id), a list whose
    elements mention it is compared on those elements only (a listing of every user or
    listener then shows what changed for that one)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[str, Any, Any]] = []
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{k}" if str(k).isidentifier() else f"{path}[{json.dumps(str(k))}]"
            out += json_diff(a.get(k, _ABSENT), b.get(k, _ABSENT), sub, focus)
        return out
    if isinstance(a, list) and isinstance(b, list):
        pairs = [
            (i, a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT) for i in range(max(len(a), len(b)))
        ]
        if focus:
            mentioned = [p for p in pairs if _mentions(p[1], focus) or _mentions(p[2], focus)]
            pairs = mentioned or pairs
        out = []
        for i, x, y in pairs:
            out += json_diff(x, y, f"{path}[{i}]", focus)
        return out
    if a is _ABSENT and b is _ABSENT:
        return []
    if type(a) is not type(b) or a != b:
        return [(path, a, b)]
    return []


ABSENT = _ABSENT

#: record fields that differ on every run without saying anything about the estate
_VOLATILE = ("collected_at", "sha256")


@dataclass(frozen=True)
class EvidenceChange:
    path: str
    status: Literal["changed", "identical", "only_before", "only_after", "missing"]
    fields: list[tuple[str, Any, Any]]


def evidence_changes(
    bundle_a: Path | None, bundle_b: Path | None, paths: Iterable[str], focus: str | None = None
) -> list[EvidenceChange]:
    """For each evidence path, the JSON paths whose values differ between the two bundles
    (ignoring `collected_at` and the response digest), focused on resource `focus`."""
    out: list[EvidenceChange] = []
    for rel in sorted(set(paths)):
        docs: list[Any] = []
        for bundle in (bundle_a, bundle_b):
            p = bundle / rel if bundle is not None else None
            if p is None or not p.is_file():
                docs.append(_ABSENT)
                continue
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                docs.append(_ABSENT)
                continue
            if isinstance(doc, dict):
                doc = {k: v for k, v in doc.items() if k not in _VOLATILE}
            docs.append(doc)
        old, new = docs
        if old is _ABSENT and new is _ABSENT:
            out.append(EvidenceChange(rel, "missing", []))
        elif old is _ABSENT:
            out.append(EvidenceChange(rel, "only_after", []))
        elif new is _ABSENT:
            out.append(EvidenceChange(rel, "only_before", []))
        else:
            fields = json_diff(old, new, focus=focus)
            out.append(EvidenceChange(rel, "changed" if fields else "identical", fields))
    return out


# -- rendering ------------------------------------------------------------------------------


def show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else _short(value)


def _run_label(s: Snapshot) -> str:
    return f"run {s.run.run_id} ({s.run.period}, {iso(s.run.reference_time)})"


def render_diff(
    d: RunDiff, bundle_a: Path | None = None, bundle_b: Path | None = None, max_fields: int = 20
) -> list[str]:
    lines = [f"A: {_run_label(d.a)}", f"B: {_run_label(d.b)}", ""]
    lines.append(f"controls whose verdict changed: {len(d.verdicts)}")
    for v in d.verdicts:
        lines.append(f"  {v.control_id:<20} {v.before or '(not judged)'} → {v.after or '(not judged)'}")
    lines.append(f"findings new: {len(d.new)}")
    for f in d.new:
        lines.append(f"  + {f.status.value:<8} {f.control_id} {f.check_id} {f.resource_id}: {f.message}")
    lines.append(f"findings resolved: {len(d.resolved)}")
    for f in d.resolved:
        lines.append(f"  - {f.status.value:<8} {f.control_id} {f.check_id} {f.resource_id}: {f.message}")
    lines.append(f"findings changed: {len(d.changed)}")
    for c in d.changed:
        a, b = c.before, c.after
        lines.append(f"  ~ {b.control_id} {b.check_id} {b.resource_id}")
        for name in c.fields:
            if name == "evidence":
                continue
            lines.append(f"      {name}: {show(getattr(a, name))} → {show(getattr(b, name))}")
        if bundle_a is None and bundle_b is None:
            continue
        for ev in evidence_changes(bundle_a, bundle_b, [*a.evidence, *b.evidence], focus=b.resource_id):
            if ev.status == "identical":
                continue
            if ev.status != "changed":
                lines.append(f"      evidence {ev.path}: {ev.status.replace('_', ' ')}")
                continue
            lines.append(f"      evidence {ev.path}:")
            for path, old, new in ev.fields[:max_fields]:
                lines.append(f"        {path}: {show(old)} → {show(new)}")
            if len(ev.fields) > max_fields:
                lines.append(f"        ... and {len(ev.fields) - max_fields} more")
    return lines


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
        lines += [f"    {t}" for t in details[:max_lines]]
        if len(details) > max_lines:
            lines.append(f"    ... and {len(details) - max_lines} more (evidence diff, findings.json)")
    resolved = [f"{c.control_id} no longer {c.state}" if c.kind == "verdict" else c.text for c in drift.cleared]
    lines += [f"  resolved: {t}" for t in resolved[:max_lines]]
    if len(resolved) > max_lines:
        lines.append(f"  ... and {len(resolved) - max_lines} more resolved")
    return lines


def render_outcome(o: Outcome) -> tuple[list[str], list[str]]:
    """(lines for stdout, lines for stderr) describing alerts and their deliveries."""
    out: list[str] = []
    err: list[str] = []
    if not o.decided:
        out.append("alerts: not decided (--no-notify)")
        return out, err
    if o.stale:
        out.append("alerts: a newer run has already been evaluated; this one sends none")
        return out, err
    n = len(o.alerts)
    out.append(f"alerts: {n} to send" + (f", {len(o.suppressed)} condition(s) already alerted" if o.suppressed else ""))
    if n and not o.urls:
        out.append("  (no [alerts] urls configured: alerts are shown here only)")
    for a in o.alerts:
        out.append(f"  {a.subject()}")
        for d in o.deliveries:
            if d.key != a.control_id:
                continue
            if d.ok:
                out.append(f"    sent to {d.target}")
            else:
                err.append(f"evidence: alert {a.control_id} NOT delivered to {d.target}: {d.error}")
    for cid in o.released:
        err.append(f"evidence: alert {cid} reached no URL; recorded, and it will be sent again on the next run")
    return out, err
