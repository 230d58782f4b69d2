"""The history file: WAL mode, schema versions and migrations, a busy file."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence.history import MIGRATIONS, History, HistoryError, Migration
from tests.history.support import T0, make_snapshot


def test_a_new_history_is_at_the_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    with History.open(tmp_path) as h:
        assert h.schema_version() == len(MIGRATIONS)
        assert h.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert h.integrity_check() == ["ok"]
        tables = {r[0] for r in h.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"schema_version", "runs", "verdicts", "findings", "waivers", "attachments", "alert_state",
            "alerts", "deliveries", "settings"} <= tables
    with pytest.raises(HistoryError, match="no history here yet"):
        History.open(tmp_path / "elsewhere", create=False)


def test_migrations_upgrade_in_place_and_a_newer_file_is_refused(tmp_path: Path) -> None:
    with History.open(tmp_path) as h:
        h.record(make_snapshot("r1", T0, ["lb-1"]))
    v2 = Migration(2, "runs get a note", ("ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT ''",))
    with History.open(tmp_path, migrations=(*MIGRATIONS, v2)) as h:
        assert h.schema_version() == 2
        assert [r.run_id for r in h.runs()] == ["r1"]
        assert h.conn.execute("SELECT note FROM runs").fetchone()[0] == ""
        described = h.conn.execute("SELECT description FROM schema_version WHERE version = 2").fetchone()[0]
        assert described == "runs get a note"
    with pytest.raises(HistoryError, match="newer release of evidence"):
        History.open(tmp_path)


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    History.open(tmp_path).close()
    broken = Migration(2, "broken", ("CREATE TABLE half_done (a TEXT)", "THIS IS NOT SQL"))
    with pytest.raises(HistoryError, match="syntax error"):
        History.open(tmp_path, migrations=(*MIGRATIONS, broken))
    with History.open(tmp_path) as h:
        assert h.schema_version() == len(MIGRATIONS)
        assert h.conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0


def test_a_busy_history_waits_then_names_the_file(tmp_path: Path) -> None:
    with History.open(tmp_path) as holder, History.open(tmp_path, timeout=0.2) as other:
        with holder.write():
            with pytest.raises(HistoryError, match=r"history\.sqlite: cannot start writing"):
                other.record(make_snapshot("r1", T0))
        assert other.record(make_snapshot("r1", T0)).run_id == "r1"
