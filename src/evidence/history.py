"""History: a SQLite file in the output folder indexing every run and its findings.

    <out>/history.sqlite

Drift is a query over it (`evidence.drift`). The file is embedded (nothing to install) and
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
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidence.judge import Attachment, Judging, Waiver
from evidence.models import ControlVerdict, Finding, Status, iso, utc_now

if TYPE_CHECKING:
    from evidence.runner import RunResult

HISTORY_FILE = "history.sqlite"
#: seconds a writer waits for another one before giving up
DEFAULT_TIMEOUT = 60.0


class HistoryError(Exception):
    """The history file cannot be opened, migrated, read or written; names the file."""


@dataclass(frozen=True)
class Migration:
    """One step of the schema: applied once, in a transaction, in version order."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "runs, verdicts, findings, waivers, attachments; alert state, alerts, deliveries; settings",
        (
            """CREATE TABLE runs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL UNIQUE,
                period TEXT NOT NULL,
                period_start TEXT NOT NULL,
                period_end TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                reference_time TEXT NOT NULL,
                recorded_at TEXT NOT NULL,
                bundle TEXT NOT NULL,
                sources TEXT NOT NULL,
                scope_key TEXT NOT NULL,
                scope TEXT NOT NULL,
                exit_code INTEGER NOT NULL,
                tool_version TEXT NOT NULL,
                config_digest TEXT NOT NULL,
                catalog_digest TEXT NOT NULL
            )""",
            "CREATE INDEX runs_by_scope ON runs(scope_key, seq)",
            """CREATE TABLE verdicts (
                run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
                control_id TEXT NOT NULL,
                verdict TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (run_id, control_id)
            )""",
            """CREATE TABLE findings (
                run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                finding_key TEXT NOT NULL,
                control_id TEXT NOT NULL,
                check_id TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                account TEXT NOT NULL,
                region TEXT NOT NULL,
                source TEXT NOT NULL,
                status TEXT NOT NULL,
                waiver TEXT,
                data TEXT NOT NULL,
                PRIMARY KEY (run_id, seq),
                UNIQUE (run_id, finding_key)
            )""",
            "CREATE INDEX findings_by_resource ON findings(control_id, check_id, resource_id, account, region)",
            "CREATE INDEX findings_by_status ON findings(run_id, status)",
            """CREATE TABLE waivers (
                run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
                waiver_id TEXT NOT NULL,
                control_id TEXT NOT NULL,
                expires TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (run_id, waiver_id)
            )""",
            """CREATE TABLE attachments (
                run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                control_id TEXT NOT NULL,
                requirement TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                valid_until TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            )""",
            """CREATE TABLE alert_state (
                key TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                control_id TEXT NOT NULL,
                source TEXT NOT NULL,
                active INTEGER NOT NULL,
                first_seen_at TEXT NOT NULL,
                first_seen_run TEXT NOT NULL,
                last_seen_at TEXT NOT NULL,
                last_seen_run TEXT NOT NULL,
                last_alerted_at TEXT,
                last_alerted_run TEXT
            )""",
            """CREATE TABLE alerts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
                control_id TEXT NOT NULL,
                decided_at TEXT NOT NULL,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                keys TEXT NOT NULL
            )""",
            """CREATE TABLE deliveries (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
                target TEXT NOT NULL,
                ok INTEGER NOT NULL,
                error TEXT NOT NULL,
                at TEXT NOT NULL
            )""",
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
    ),
)


def parse_time(text: str) -> datetime:
    """An ISO-8601 timestamp as stored (`...Z`) back to an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def finding_key(f: Finding) -> str:
    """What identifies a finding across runs: control, check, resource, account, region."""
    return "|".join((f.control_id, f.check_id, f.resource_id, f.account, f.region))


#: the fields a snapshot loaded for drift sets on each finding (one set shared by all of them)
_LIGHT_FIELDS = {"control_id", "check_id", "status", "source", "resource_id", "account", "region", "message", "waiver"}


def iter_keyed(findings: Iterable[Finding]) -> Iterator[tuple[str, Finding]]:
    """`keyed_findings` one finding at a time (only the keys seen are held)."""
    seen: dict[str, int] = {}
    for f in findings:
        base = finding_key(f)
        n = seen.get(base, 0) + 1
        seen[base] = n
        yield (base if n == 1 else f"{base}#{n}"), f


def keyed_findings(findings: Iterable[Finding]) -> dict[str, Finding]:
    """Findings by `finding_key`; a key seen again in the same run gets `#2`, `#3`..."""
    out: dict[str, Finding] = {}
    for f in findings:
        key = base = finding_key(f)
        n = 1
        while key in out:
            n += 1
            key = f"{base}#{n}"
        out[key] = f
    return out


@dataclass(frozen=True)
class RunInfo:
    """One row of `runs`: a run's identity, period, times and scope."""

    seq: int
    run_id: str
    period: str
    period_start: str
    period_end: str
    started_at: str
    finished_at: str
    reference_time: datetime
    recorded_at: str
    #: the bundle's folder relative to the output folder (posix), e.g. `2026-Q4/<run-id>`
    bundle: str
    sources: tuple[str, ...]
    scope_key: str
    scope: dict[str, Any]
    exit_code: int
    tool_version: str
    config_digest: str
    catalog_digest: str


@dataclass
class Snapshot:
    """Everything drift needs about one run."""

    run: RunInfo
    verdicts: dict[str, ControlVerdict]
    #: the run's findings; a snapshot loaded for drift holds only some statuses, and of those
    #: only the fields drift reads (`History.snapshot(run, statuses)`)
    findings: list[Finding]
    waivers: list[Waiver] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    #: for a partial snapshot: a finding of the run by its key, looked up in the history
    lookup: Callable[[str], Finding | None] | None = field(default=None, repr=False, compare=False)
    _keyed: dict[str, Finding] | None = field(default=None, repr=False, compare=False)

    @property
    def keyed(self) -> dict[str, Finding]:
        """`findings` by their key (computed once)."""
        if self._keyed is None:
            self._keyed = keyed_findings(self.findings)
        return self._keyed

    def find(self, key: str) -> Finding | None:
        """The run's finding with this key, whether or not this snapshot holds it (a partial
        snapshot holds the fields drift reads; `whole` has every field)."""
        hit = self.keyed.get(key)
        if hit is None and self.lookup is not None:
            return self.lookup(key)
        return hit

    def whole(self, key: str) -> Finding | None:
        """The run's finding with this key, every field of it."""
        return self.lookup(key) if self.lookup is not None else self.keyed.get(key)

    @classmethod
    def from_parts(
        cls,
        manifest: dict[str, Any],
        verdicts: Sequence[ControlVerdict],
        findings: Sequence[Finding],
        *,
        bundle: str,
        exit_code: int,
        waivers: Sequence[Waiver] = (),
        attachments: Sequence[Attachment] = (),
    ) -> Snapshot:
        """A snapshot from a run's manifest metadata and results (not yet in any history)."""
        scope = manifest.get("scope", {})
        sources = tuple(sorted(scope.get("sources", {})))
        period = manifest.get("period", {})
        run = RunInfo(
            seq=0,
            run_id=manifest["run_id"],
            period=period.get("name", ""),
            period_start=str(period.get("start", "")),
            period_end=str(period.get("end", "")),
            started_at=manifest.get("started_at", ""),
            finished_at=manifest.get("finished_at", ""),
            reference_time=parse_time(manifest["reference_time"]),
            recorded_at="",
            bundle=bundle,
            sources=sources,
            scope_key=",".join(sources),
            scope=scope,
            exit_code=exit_code,
            tool_version=manifest.get("tool", {}).get("version", ""),
            config_digest=manifest.get("config_digest", ""),
            catalog_digest=manifest.get("catalog_digest", ""),
        )
        return cls(run, {v.control_id: v for v in verdicts}, list(findings), list(waivers), list(attachments))

    @classmethod
    def from_result(cls, result: RunResult, out: Path, *, with_findings: bool = True) -> Snapshot:
        """The snapshot of a committed run; its waivers and attachments come from the bundle's
        `judging.json`, exactly what was judged. Without `with_findings` it holds none: record
        it with `History.record(snap, result.iter_findings())`, which streams them."""
        if result.bundle is None:
            raise HistoryError(f"run {result.run_id} has no bundle; only complete runs are recorded")
        judging_path = result.bundle / "judging.json"
        try:
            judging = Judging.model_validate_json(judging_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HistoryError(f"{judging_path}: cannot read the run's judging input ({exc})") from None
        try:
            rel = result.bundle.resolve().relative_to(out.resolve()).as_posix()
        except ValueError:
            rel = str(result.bundle.resolve())
        return cls.from_parts(
            result.manifest, result.verdicts, result.findings if with_findings else [], bundle=rel,
            exit_code=result.exit_code,
            waivers=judging.waivers, attachments=judging.attachments,
        )

    def bundle_path(self, out: Path) -> Path:
        p = Path(self.run.bundle)
        return p if p.is_absolute() else out / p


@dataclass(frozen=True)
class AlertState:
    """What drift remembers about one alert condition (see `evidence.drift`)."""

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


class History:
    """The history file of one output folder. Use as a context manager, or `close()`."""

    def __init__(
        self,
        path: Path,
        *,
        create: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.path = path
        if not create and not path.is_file():
            raise HistoryError(f"{path}: no history here yet (it is written by `evidence run`)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"{path}: cannot open the history ({exc})") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise HistoryError(f"{path}: the history needs SQLite's WAL journal (got {mode!r})")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = FULL")
            self._migrate(migrations)
        except sqlite3.Error as exc:
            self.conn.close()
            raise HistoryError(f"{path}: {exc}") from None
        except HistoryError:
            self.conn.close()
            raise

    @classmethod
    def open(cls, out: Path, **kwargs: Any) -> History:
        """The history of output folder `out` (`<out>/history.sqlite`)."""
        return cls(out / HISTORY_FILE, **kwargs)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front (`BEGIN IMMEDIATE`): concurrent writers queue
        for up to the busy timeout instead of failing half-way. Nested uses join the outer one."""
        if self.conn.in_transaction:
            yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HistoryError(
                f"{self.path}: cannot start writing ({exc}; another evidence process holds it)"
            ) from None
        try:
            yield self.conn
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK")
            raise HistoryError(f"{self.path}: {exc}") from None
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK")
            raise HistoryError(f"{self.path}: {exc}") from None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same snapshot."""
        if self.conn.in_transaction:
            yield self.conn
            return
        try:
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: {exc}") from None

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        versions = [m.version for m in migrations]
        if versions != list(range(1, len(versions) + 1)):
            raise HistoryError(f"{self.path}: migrations must be numbered 1..n in order (got {versions})")
        with self.write() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            if current > len(migrations):
                raise HistoryError(
                    f"{self.path}: written by a newer release of evidence (schema version {current}, "
                    f"this release knows up to {len(migrations)}); upgrade evidence to read it"
                )
            for m in migrations[current:]:
                for statement in m.statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.description, iso(utc_now())),
                )

    def schema_version(self) -> int:
        with self.read() as db:
            return int(db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])

    def integrity_check(self) -> list[str]:
        """SQLite's own check of the file and its foreign keys: `["ok"]` when sound."""
        with self.read() as db:
            problems = [str(r[0]) for r in db.execute("PRAGMA integrity_check")]
            problems += [f"foreign key: {tuple(r)}" for r in db.execute("PRAGMA foreign_key_check")]
        return problems

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
                    iso(r.reference_time), iso(utc_now()), r.bundle, json.dumps(list(r.sources)), r.scope_key,
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
