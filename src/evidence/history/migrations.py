"""The history file's schema: `MIGRATIONS` upgrade older files, in order, each in a transaction
(`Database` applies them)."""

from __future__ import annotations

from dataclasses import dataclass


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
