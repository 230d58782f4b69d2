"""The history file's schema steps (`evidence.history.migrations`) on an empty database."""

from __future__ import annotations

import sqlite3

from evidence.history.migrations import MIGRATIONS


def test_versions_count_up_from_one_and_each_says_what_it_does() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert all(m.description and m.statements for m in MIGRATIONS)


def test_every_step_applies_to_an_empty_database_in_order() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        for migration in MIGRATIONS:
            with conn:
                for statement in migration.statements:
                    conn.execute(statement)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"runs", "verdicts", "findings", "alerts", "deliveries", "settings"} <= tables
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
