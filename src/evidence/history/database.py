"""The SQLite file of a history: its connection, transactions and schema.

* WAL journal, a busy timeout, and every write in a `BEGIN IMMEDIATE` transaction, so two
  writers queue instead of failing or interleaving, and readers see a consistent snapshot;
* the schema is versioned in `schema_version`; `MIGRATIONS` upgrade older files in a
  transaction, and a file written by a newer release is refused rather than damaged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from evidence.history.migrations import MIGRATIONS, Migration
from evidence.models import iso, utc_now

#: seconds a writer waits for another one before giving up
DEFAULT_TIMEOUT = 60.0


class HistoryError(Exception):
    """The history file cannot be opened, migrated, read or written; names the file."""


class Database:
    """A history file opened and migrated (`History` adds what is stored in it). Use as a
    context manager, or `close()`."""

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

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
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
