"""The whole step after a run: record it, drift against its reference, decide, send and record
the alerts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence.config import AlertsConfig
from evidence.history.alerts import Alert, decide_alerts
from evidence.history.conditions import BAD, Condition, conditions
from evidence.history.database import HistoryError
from evidence.history.drift import AGAINST, Drift, DriftError, compute_drift
from evidence.history.snapshot import RunInfo, Snapshot
from evidence.history.store import History
from evidence.notify import Delivery, Message
from evidence.notify import send as notify_send


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
    #: the alerts that reached none of the configured URLs (released: a later run sends them)
    released: list[str] = field(default_factory=list)
    #: False when only the drift was reported (`--no-notify`): no alert decided or sent
    decided: bool = True

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.ok]

    @property
    def sent(self) -> list[Alert]:
        """The alerts delivered to at least one URL."""
        ok = {d.key for d in self.deliveries if d.ok}
        return [a for a in self.alerts if a.control_id in ok]


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
    snap = history.snapshot(run, statuses=BAD)
    ref_info = reference_for(history, run, against)
    reference: Snapshot | None = None
    if ref_info is not None:
        reference = snap if ref_info.run_id == run.run_id else history.snapshot(ref_info, statuses=BAD)
    # one failing resource is one condition: computed once, for drift and for the alerts
    conds = conditions(snap, alerts.warn_days)
    drift = compute_drift(snap, reference, against, alerts.warn_days, now=conds)
    bundle = str(snap.bundle_path(out).resolve())
    if not notify:
        return Outcome(run, drift, [], [], [], len(alerts.urls), decided=False)
    # an alert counts as sent only once it reached a URL: with none configured, nothing is
    # claimed and every alert stays pending for the first run that has one
    sending = bool(alerts.urls)
    decision = decide_alerts(history, snap, reference, conds, alerts.repeat_after_days, bundle, claim=sending)
    deliveries = sender([a.message() for a in decision.alerts], alerts.urls) if sending and decision.alerts else []
    released: list[str] = []
    for d in deliveries:
        history.add_delivery(decision.ids[d.key], d.target, d.ok, d.error)
    if sending:
        for a in decision.alerts:
            if not any(d.ok for d in deliveries if d.key == a.control_id):
                # it reached no URL: released, so the next run (or `evidence drift`) sends it
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
