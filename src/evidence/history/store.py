"""History: a SQLite file in the output folder indexing every run and its findings.

    <out>/history.sqlite

Drift is a query over it (`evidence.history.drift`). The file is embedded (nothing to install) and
safe to share between runs started at the same time on the same folder:

* WAL journal, a busy timeout, and every write in a `BEGIN IMMEDIATE` transaction, so two
  writers queue instead of failing or interleaving, and readers see a consistent snapshot;
* a run is recorded in one transaction (its row, verdicts, findings, waivers and
  attachments), so the history never holds half a run;
* the schema is versioned in `schema_version`; `MIGRATIONS` upgrade older files in a
  transaction, and a file written by a newer release is refused rather than damaged.

Besides runs, the file keeps the alert state drift uses to alert once and then only every
`repeat_after_days` (`alert_state`), the alerts decided and their deliveries, and settings
such as the baseline run.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence.history.database import Database, HistoryError
from evidence.history.keyed import iter_keyed
from evidence.history.snapshot import RunInfo, Snapshot, parse_time
from evidence.judge import Attachment, Waiver
from evidence.models import ControlVerdict, Finding, Status, iso, reference_now, utc_now

HISTORY_FILE = "history.sqlite"

#: the fields a snapshot loaded for drift sets on each finding (one set shared by all of them)
_LIGHT_FIELDS = {"control_id", "check_id", "status", "source", "resource_id", "account", "region", "message", "waiver"}


@dataclass(frozen=True)
class AlertState:
    """What drift remembers about one alert condition (see `evidence.history.alerts`)."""

    key: str
    kind: str
    control_id: str
    source: str
    active: bool
    first_seen_at: str
    first_seen_run: str
    last_seen_at: str
    last_seen_run: str
    last_alerted_at: str | None
    last_alerted_run: str | None


@dataclass(frozen=True)
class DeliveryRow:
    alert_id: int
    run_id: str
    control_id: str
    target: str
    ok: bool
    error: str
    at: str


_RUN_COLUMNS = (
    "seq, run_id, period, period_start, period_end, started_at, finished_at, reference_time, recorded_at, "
    "bundle, sources, scope_key, scope, exit_code, tool_version, config_digest, catalog_digest"
)


def _run_from_row(row: sqlite3.Row) -> RunInfo:
    return RunInfo(
        seq=row["seq"],
        run_id=row["run_id"],
        period=row["period"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        reference_time=parse_time(row["reference_time"]),
        recorded_at=row["recorded_at"],
        bundle=row["bundle"],
        sources=tuple(json.loads(row["sources"])),
        scope_key=row["scope_key"],
        scope=json.loads(row["scope"]),
        exit_code=row["exit_code"],
        tool_version=row["tool_version"],
        config_digest=row["config_digest"],
        catalog_digest=row["catalog_digest"],
    )


def _state_from_row(row: sqlite3.Row) -> AlertState:
    return AlertState(
        key=row["key"], kind=row["kind"], control_id=row["control_id"], source=row["source"],
        active=bool(row["active"]), first_seen_at=row["first_seen_at"], first_seen_run=row["first_seen_run"],
        last_seen_at=row["last_seen_at"], last_seen_run=row["last_seen_run"],
        last_alerted_at=row["last_alerted_at"], last_alerted_run=row["last_alerted_run"],
    )


class History(Database):
    """The history file of one output folder: runs, their findings, settings and alert state.
    Use as a context manager, or `close()`."""

    @classmethod
    def open(cls, out: Path, **kwargs: Any) -> History:
        """The history of output folder `out` (`<out>/history.sqlite`)."""
        return cls(out / HISTORY_FILE, **kwargs)

    # -- runs -----------------------------------------------------------------------------

    def record(self, snap: Snapshot, findings: Iterable[Finding] | None = None) -> RunInfo:
        """Record a run with its verdicts, findings (`findings`, streamed, else the snapshot's),
        waivers and attachments, in one transaction. Recording a run already present returns it
        unchanged."""
        r = snap.run
        with self.write() as db:
            existing = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (r.run_id,)).fetchone()  # noqa: S608 - constant column list
            if existing is not None:
                return _run_from_row(existing)
            cur = db.execute(
                "INSERT INTO runs (run_id, period, period_start, period_end, started_at, finished_at, "
                "reference_time, recorded_at, bundle, sources, scope_key, scope, exit_code, tool_version, "
                "config_digest, catalog_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.run_id, r.period, r.period_start, r.period_end, r.started_at, r.finished_at,
                    iso(r.reference_time), iso(reference_now()), r.bundle, json.dumps(list(r.sources)), r.scope_key,
                    json.dumps(r.scope, sort_keys=True), r.exit_code, r.tool_version, r.config_digest,
                    r.catalog_digest,
                ),
            )
            seq = cur.lastrowid
            db.executemany(
                "INSERT INTO verdicts (run_id, control_id, verdict, data) VALUES (?, ?, ?, ?)",
                [(r.run_id, v.control_id, v.verdict.value, v.model_dump_json()) for v in snap.verdicts.values()],
            )
            db.executemany(
                "INSERT INTO findings (run_id, seq, finding_key, control_id, check_id, resource_id, account, "
                "region, source, status, waiver, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (r.run_id, i, key, f.control_id, f.check_id, f.resource_id, f.account, f.region, f.source,
                     f.status.value, f.waiver, f.model_dump_json())
                    for i, (key, f) in enumerate(iter_keyed(snap.findings if findings is None else findings))
                ),
            )
            db.executemany(
                "INSERT INTO waivers (run_id, waiver_id, control_id, expires, data) VALUES (?, ?, ?, ?, ?)",
                [(r.run_id, w.id, w.control_id, w.expires.isoformat(), w.model_dump_json()) for w in snap.waivers],
            )
            db.executemany(
                "INSERT INTO attachments (run_id, seq, control_id, requirement, sha256, valid_until, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.run_id, i, a.control_id, a.requirement, a.sha256, a.valid_until.isoformat(),
                     a.model_dump_json())
                    for i, a in enumerate(snap.attachments)
                ],
            )
            row = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE seq = ?", (seq,)).fetchone()  # noqa: S608 - constant column list
            return _run_from_row(row)

    def runs(self) -> list[RunInfo]:
        """Every recorded run, in the order they were recorded."""
        with self.read() as db:
            return [_run_from_row(r) for r in db.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY seq")]  # noqa: S608 - constant column list

    def latest(self) -> RunInfo | None:
        with self.read() as db:
            row = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY seq DESC LIMIT 1").fetchone()  # noqa: S608 - constant column list
        return None if row is None else _run_from_row(row)

    def previous(self, run: RunInfo) -> RunInfo | None:
        """The run recorded last before `run` with the same sources in scope (a run with
        `--only aws` is compared with the previous `--only aws` run, not a full one)."""
        with self.read() as db:
            row = db.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE scope_key = ? AND seq < ? ORDER BY seq DESC LIMIT 1",  # noqa: S608 - constant column list
                (run.scope_key, run.seq),
            ).fetchone()
        return None if row is None else _run_from_row(row)

    def find(self, ref: str) -> RunInfo:
        """A run by id, unique id prefix, `latest` or `baseline`."""
        if ref == "latest":
            found = self.latest()
            if found is None:
                raise HistoryError(f"{self.path}: no run recorded yet")
            return found
        if ref == "baseline":
            found = self.baseline()
            if found is None:
                raise HistoryError(f"{self.path}: no baseline set (set one with `evidence baseline RUN`)")
            return found
        with self.read() as db:
            rows = db.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\' ORDER BY seq",  # noqa: S608 - constant column list
                (ref, ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
            ).fetchall()
        exact = [r for r in rows if r["run_id"] == ref]
        if exact:
            return _run_from_row(exact[0])
        if len(rows) == 1:
            return _run_from_row(rows[0])
        if not rows:
            raise HistoryError(f"{self.path}: no recorded run '{ref}' (see `evidence history`)")
        raise HistoryError(f"{self.path}: '{ref}' matches {len(rows)} runs; give more of the run id")

    def snapshot(self, run: RunInfo | str, statuses: Collection[Status] | None = None) -> Snapshot:
        """A recorded run. With `statuses`, only findings of those statuses are loaded (drift
        needs the failing ones; a large run's passing findings stay on disk) and the others are
        looked up one by one when asked for (`Snapshot.find`)."""
        info = run if isinstance(run, RunInfo) else self.find(run)
        wanted = "" if statuses is None else f" AND status IN ({', '.join('?' for _ in statuses)})"
        args = (info.run_id, *(s.value for s in statuses or ()))
        with self.read() as db:
            verdicts = [
                ControlVerdict.model_validate_json(r["data"])
                for r in db.execute("SELECT data FROM verdicts WHERE run_id = ? ORDER BY control_id", (info.run_id,))
            ]
            if statuses is None:
                keyed = {
                    r["finding_key"]: Finding.model_validate_json(r["data"])
                    for r in db.execute(
                        "SELECT finding_key, data FROM findings WHERE run_id = ? ORDER BY seq", (info.run_id,)
                    )
                }
            else:
                # what drift reads of each (ids, status, message), not the whole finding: a run
                # with many failures stays small in memory; `Snapshot.whole` reads one in full
                keyed = {
                    r["finding_key"]: Finding.model_construct(
                        _LIGHT_FIELDS,
                        # the same few controls, checks, sources, accounts and regions, held once each
                        control_id=sys.intern(r["control_id"]), check_id=sys.intern(r["check_id"]),
                        status=Status(r["status"]), source=sys.intern(r["source"]), resource_id=r["resource_id"],
                        account=sys.intern(r["account"]), region=sys.intern(r["region"]),
                        message=r["message"], waiver=r["waiver"],
                    )
                    for r in db.execute(
                        "SELECT finding_key, control_id, check_id, status, source, resource_id, account, region, "  # noqa: S608 - placeholders only
                        f"waiver, json_extract(data, '$.message') AS message FROM findings WHERE run_id = ?{wanted} "
                        "ORDER BY seq",
                        args,
                    )
                }
            waivers = [
                Waiver.model_validate_json(r["data"])
                for r in db.execute("SELECT data FROM waivers WHERE run_id = ? ORDER BY waiver_id", (info.run_id,))
            ]
            attachments = [
                Attachment.model_validate_json(r["data"])
                for r in db.execute("SELECT data FROM attachments WHERE run_id = ? ORDER BY seq", (info.run_id,))
            ]
        snap = Snapshot(info, {v.control_id: v for v in verdicts}, list(keyed.values()), waivers, attachments,
                        _keyed=keyed)
        if statuses is not None:
            snap.lookup = lambda key: self.finding(info.run_id, key)
        return snap

    def finding(self, run_id: str, key: str) -> Finding | None:
        """One finding of a recorded run by its key."""
        with self.read() as db:
            row = db.execute(
                "SELECT data FROM findings WHERE run_id = ? AND finding_key = ?", (run_id, key)
            ).fetchone()
        return None if row is None else Finding.model_validate_json(row["data"])

    def count_findings(self, run_id: str) -> int:
        with self.read() as db:
            return int(db.execute("SELECT COUNT(*) FROM findings WHERE run_id = ?", (run_id,)).fetchone()[0])

    # -- settings -------------------------------------------------------------------------

    def set_baseline(self, run_id: str) -> RunInfo:
        with self.write() as db:
            info = self.find(run_id)
            db.execute(
                "INSERT INTO settings (key, value) VALUES ('baseline', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (info.run_id,),
            )
        return info

    def baseline(self) -> RunInfo | None:
        with self.read() as db:
            row = db.execute("SELECT value FROM settings WHERE key = 'baseline'").fetchone()
            if row is None:
                return None
            run = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (row["value"],)).fetchone()  # noqa: S608 - constant column list
        return None if run is None else _run_from_row(run)

    # -- alert state ----------------------------------------------------------------------

    def alert_states(self) -> dict[str, AlertState]:
        with self.read() as db:
            return {r["key"]: _state_from_row(r) for r in db.execute("SELECT * FROM alert_state")}

    def put_alert_state(self, state: AlertState) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO alert_state (key, kind, control_id, source, active, first_seen_at, first_seen_run, "
                "last_seen_at, last_seen_run, last_alerted_at, last_alerted_run) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "kind = excluded.kind, control_id = excluded.control_id, source = excluded.source, "
                "active = excluded.active, first_seen_at = excluded.first_seen_at, "
                "first_seen_run = excluded.first_seen_run, last_seen_at = excluded.last_seen_at, "
                "last_seen_run = excluded.last_seen_run, last_alerted_at = excluded.last_alerted_at, "
                "last_alerted_run = excluded.last_alerted_run",
                (
                    state.key, state.kind, state.control_id, state.source, int(state.active), state.first_seen_at,
                    state.first_seen_run, state.last_seen_at, state.last_seen_run, state.last_alerted_at,
                    state.last_alerted_run,
                ),
            )

    def unclaim_alert(self, key: str, run_id: str, previous_at: str | None, previous_run: str | None) -> None:
        """Undo an alert claim whose notification reached nobody, so the next run alerts again
        (only when no later evaluation has claimed it since)."""
        with self.write() as db:
            db.execute(
                "UPDATE alert_state SET last_alerted_at = ?, last_alerted_run = ? "
                "WHERE key = ? AND last_alerted_run = ?",
                (previous_at, previous_run, key, run_id),
            )

    def add_alert(self, run_id: str, control_id: str, title: str, body: str, keys: Sequence[str]) -> int:
        with self.write() as db:
            cur = db.execute(
                "INSERT INTO alerts (run_id, control_id, decided_at, title, body, keys) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, control_id, iso(utc_now()), title, body, json.dumps(list(keys))),
            )
            return int(cur.lastrowid or 0)

    def add_delivery(self, alert_id: int, target: str, ok: bool, error: str) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO deliveries (alert_id, target, ok, error, at) VALUES (?, ?, ?, ?, ?)",
                (alert_id, target, int(ok), error, iso(utc_now())),
            )

    def alerts(self, run_id: str | None = None) -> list[dict[str, Any]]:
        with self.read() as db:
            sql = "SELECT id, run_id, control_id, decided_at, title, body, keys FROM alerts"
            rows = (
                db.execute(sql + " WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
                if run_id
                else db.execute(sql + " ORDER BY id").fetchall()
            )
        return [dict(r) | {"keys": json.loads(r["keys"])} for r in rows]

    def deliveries(self, run_id: str | None = None) -> list[DeliveryRow]:
        with self.read() as db:
            sql = (
                "SELECT d.alert_id, a.run_id, a.control_id, d.target, d.ok, d.error, d.at FROM deliveries d "
                "JOIN alerts a ON a.id = d.alert_id"
            )
            rows = (
                db.execute(sql + " WHERE a.run_id = ? ORDER BY d.id", (run_id,)).fetchall()
                if run_id
                else db.execute(sql + " ORDER BY d.id").fetchall()
            )
        return [
            DeliveryRow(r["alert_id"], r["run_id"], r["control_id"], r["target"], bool(r["ok"]), r["error"], r["at"])
            for r in rows
        ]
