"""History and drift: every run indexed in `<out>/history.sqlite`, what changed since the last
run (or a baseline), and the alerts that change calls for.

    database    the SQLite file: connection, transactions, schema (`migrations`)
    store       `History`: runs, findings, settings and alert state in that file
    snapshot    `RunInfo` and `Snapshot`: one run as drift reads it (`keyed`: findings by key)
    conditions  what is wrong in a run; `drift`: the conditions new since a reference run
    alerts      which alerts to send; `outcome`: the whole step after a run
    diff        `evidence diff`: what changed between two runs, down to the evidence fields
    render      all of the above as lines of text

The function `conditions` is not re-exported here, where it would hide its module: import it
from `evidence.history.conditions`.
"""

from evidence.history.alerts import Alert, Decision, decide_alerts
from evidence.history.conditions import Condition
from evidence.history.database import DEFAULT_TIMEOUT, HistoryError
from evidence.history.diff import (
    ABSENT,
    EvidenceChange,
    FindingDelta,
    RunDiff,
    diff_runs,
    evidence_changes,
    json_diff,
    snapshot_from_bundle,
)
from evidence.history.drift import (
    AGAINST,
    EXIT_DRIFT,
    Against,
    Drift,
    DriftError,
    VerdictChange,
    compose_exit,
    compute_drift,
    verdict_changes,
)
from evidence.history.keyed import finding_key, iter_keyed, keyed_findings
from evidence.history.migrations import MIGRATIONS, Migration
from evidence.history.outcome import Outcome, Sender, after_run, evaluate, reference_for
from evidence.history.render import render_diff, render_drift, render_outcome
from evidence.history.snapshot import RunInfo, Snapshot, parse_time
from evidence.history.store import HISTORY_FILE, AlertState, DeliveryRow, History

__all__ = [
    "ABSENT",
    "AGAINST",
    "DEFAULT_TIMEOUT",
    "EXIT_DRIFT",
    "HISTORY_FILE",
    "MIGRATIONS",
    "Against",
    "Alert",
    "AlertState",
    "Condition",
    "Decision",
    "DeliveryRow",
    "Drift",
    "DriftError",
    "EvidenceChange",
    "FindingDelta",
    "History",
    "HistoryError",
    "Migration",
    "Outcome",
    "RunDiff",
    "RunInfo",
    "Sender",
    "Snapshot",
    "VerdictChange",
    "after_run",
    "compose_exit",
    "compute_drift",
    "decide_alerts",
    "diff_runs",
    "evaluate",
    "evidence_changes",
    "finding_key",
    "iter_keyed",
    "json_diff",
    "keyed_findings",
    "parse_time",
    "reference_for",
    "render_diff",
    "render_drift",
    "render_outcome",
    "snapshot_from_bundle",
    "verdict_changes",
]
