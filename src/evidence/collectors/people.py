"""The people collector: the HR roster (`[people] roster`), and what earlier runs saw of each
leaver's accounts.

It calls no API. It records two evidence records:

* `people.Roster`: the roster file's name, SHA-256 and text (so the roster is in the bundle and
  its digest in the report), and the people parsed from it. The file is read and validated when
  the run checks its configuration (`not_configured`), before any collector calls an API: a bad
  date, a duplicate email or an unknown status is a `ConfigError`, one line naming the file and
  the line, exit 2.
* `people.Sightings`: for each leaver and system, the last earlier run that saw the account still
  active and the first earlier run after it that saw it removed, read from the history file
  (`<out>/history.sqlite`: the offboarding checks' findings say `observed.state`). The checks are
  pure: this record is how a run's judgement knows when a removal happened (between those two
  runs), and how `evidence evaluate` re-judges it offline. Each sighting names its run, whose
  bundle holds the evidence it was judged from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.collectors.people_config import PeopleConfig
from evidence.config import ConfigError, Section
from evidence.models import CollectionError, EvidenceRecord, iso, parse_time, reference_now, utc_now
from evidence.sources.people import (
    ACCESS_REVIEW,
    ACTIVE,
    OFFBOARDING_CHECKS,
    REMOVED,
    REVIEW_CONTROL,
    REVIEW_REQUIREMENT,
    ROSTER,
    SIGHTINGS,
    SOURCE,
    Roster,
    RosterError,
    WorksheetError,
    parse_roster,
    parse_worksheet,
    roster_response,
    sighting_key,
)

log = logging.getLogger(__name__)

#: the roster and the history are local files: reading them is all this collector does
PERMISSIONS: dict[str, tuple[str, ...]] = {
    ROSTER: ("read the roster file named by [people] roster",),
    SIGHTINGS: ("read the history file (<out>/history.sqlite, or [people] history)",),
    ACCESS_REVIEW: ("read the attachment store (<out>/attachments)",),
}
#: the history file's name: `evidence.history.store.HISTORY_FILE`, which the collectors may not import (the
#: import contracts keep evidence.history out of them); keep the two equal
HISTORY_FILE = "history.sqlite"
#: the attachment store's folder in the output folder: `evidence.attachments.STORE` (not importable here, see
#: `read_access_review`)
ATTACHMENT_STORE = "attachments"


class PeopleCollector(Collector):
    """Reads the HR roster and the history of leavers' accounts; no API call."""

    source: ClassVar[str] = SOURCE
    description: ClassVar[str] = (
        "HR roster (CSV: who is active, who left and when, their GitHub login and IAM users), and earlier runs' "
        "sightings of leavers' accounts from the history file"
    )
    permission_kind: ClassVar[str] = "local file"
    permissions: ClassVar[Mapping[str, tuple[str, ...]]] = PERMISSIONS
    title: ClassVar[str] = "People (HR roster)"
    config_model: ClassVar[type[Section] | None] = PeopleConfig

    _roster: tuple[Roster, str, str] | None = None

    @classmethod
    def scope(cls, section: Section | None) -> list[tuple[str, str]]:
        if not isinstance(section, PeopleConfig):
            return []
        rows = [("Roster", section.roster)]
        if section._digest:
            rows += [("Roster SHA-256", section._digest), ("People", section._counts)]
        return rows

    def roster_path(self, cfg: PeopleConfig) -> Path:
        return self.config.resolve(cfg.roster)

    def history_path(self, cfg: PeopleConfig) -> Path:
        if cfg.history:
            return self.config.resolve(cfg.history)
        return (self.out or self.config.resolve(self.config.bundle.out)) / HISTORY_FILE

    def not_configured(self) -> str | None:
        """None when the roster is readable and valid; `ConfigError` (exit 2, before any API
        call) when it is not; the reason when there is no `[people]` section."""
        cfg = self.settings(PeopleConfig)
        if cfg is None:
            return "no [people] section in the configuration (roster = \"people.csv\")"
        self.load_roster(cfg)
        return None

    def load_roster(self, cfg: PeopleConfig) -> tuple[Roster, str, str]:
        """(the roster, its text, its label), read once; `ConfigError` naming the file and line."""
        if self._roster is not None:
            return self._roster
        path = self.roster_path(cfg)
        label = f"people.roster {path}"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{label}: file not found") from None
        except OSError as exc:
            raise ConfigError(f"{label}: cannot read the file ({exc.strerror or type(exc).__name__})") from None
        try:
            roster = parse_roster(raw, label)
        except RosterError as exc:
            raise ConfigError(str(exc)) from None
        text = raw.decode("utf-8-sig")
        cfg.loaded(roster.sha256, f"{len(roster.active)} active, {len(roster.leavers)} left")
        self._roster = (roster, text, cfg.roster)
        return self._roster

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        cfg = self.settings(PeopleConfig)
        if cfg is None:
            raise CollectorFailure("NotConfigured", "no [people] section in the configuration",
                                   "add [people] roster = \"people.csv\"", user_error=True)
        try:
            roster, text, name = self.load_roster(cfg)
        except ConfigError as exc:
            raise CollectorFailure("RosterInvalid", str(exc), "correct the roster and run again",
                                   user_error=True) from None
        if ROSTER in wanted:
            self._record(sink, ROSTER, {"roster": name}, response=roster_response(roster, text, name),
                         subject=Path(name).name)
        if ACCESS_REVIEW in wanted:
            store = (self.out or self.config.resolve(self.config.bundle.out)) / ATTACHMENT_STORE
            try:
                review = read_access_review(store)
            except (OSError, ValueError) as exc:
                self._record(sink, ACCESS_REVIEW, {"store": "attachments"}, subject="access-review",
                             error=CollectionError(code="AccessReviewUnreadable", message=str(exc)[:500],
                                                   remedy="complete the access review again (evidence "
                                                          "access-review complete)"))
            else:
                self._record(sink, ACCESS_REVIEW, {"store": "attachments"}, response=review, subject="access-review")
        if SIGHTINGS in wanted:
            path = self.history_path(cfg)
            params = {"history": cfg.history or HISTORY_FILE}
            try:
                response = read_sightings(path, roster, reference_now().isoformat())
            except sqlite3.Error as exc:
                log.warning("people: cannot read the history file %s: %s", path, exc)
                self._record(sink, SIGHTINGS, params, error=CollectionError(
                    code="HistoryUnreadable", message=f"cannot read the history file {path}: {exc}",
                    remedy="check the file is a history written by evidence run (or set [people] history), "
                           "and readable by the user evidence runs as",
                ))
                return
            self._record(sink, SIGHTINGS, params, response=response)

    def _record(self, sink: Sink, key: str, parameters: dict[str, Any], response: Any = None,
                error: CollectionError | None = None, subject: str = "") -> None:
        service, _, operation = key.partition(".")
        sink.record(EvidenceRecord(
            source=SOURCE, service=service, operation=operation, parameters=parameters, subject=subject,
            identity="local files", collected_at=iso(utc_now()), response=response, error=error,
        ))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _before(at: str, limit: datetime | None) -> bool:
    when = parse_time(at)
    return limit is None or (when is not None and when < limit)


def read_sightings(path: Path, roster: Roster, before: str) -> dict[str, Any]:
    """What the runs recorded in the history file `path` before `before` (an ISO time: this
    run's reference time) saw of each leaver's accounts: per `sighting_key(check, email)`, the
    last run that saw them `active` and the first run after it that saw them `removed` (each
    `{"at": reference time, "run_id"}`, or null). A missing file is an empty history."""
    leavers = {p.email.lower() for p in roster.leavers}
    out: dict[str, Any] = {"file": str(path), "runs": 0, "first_run_at": None, "sightings": {}}
    if not path.is_file():
        return out
    limit = parse_time(before)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        runs = [(str(r[0]), str(r[1])) for r in db.execute(
            "SELECT run_id, reference_time FROM runs ORDER BY reference_time, seq")]
        runs = [(run_id, at) for run_id, at in runs if _before(at, limit)]
        if not runs:
            return out
        when = dict(runs)
        out["runs"], out["first_run_at"] = len(runs), runs[0][1]
        marks = ",".join("?" for _ in OFFBOARDING_CHECKS)
        states: dict[str, list[tuple[str, str, str]]] = {}
        for run_id, check_id, resource, data in db.execute(
            f"SELECT run_id, check_id, resource_id, data FROM findings WHERE check_id IN ({marks})",  # noqa: S608
            OFFBOARDING_CHECKS,
        ):
            if run_id not in when or str(resource).lower() not in leavers:
                continue
            try:
                observed = json.loads(data).get("observed")
            except (ValueError, AttributeError):
                continue
            state = observed.get("state") if isinstance(observed, dict) else None
            if state in (ACTIVE, REMOVED):
                states.setdefault(sighting_key(check_id, resource), []).append((when[run_id], run_id, state))
    finally:
        db.close()
    for key, seen in sorted(states.items()):
        seen.sort(key=lambda s: (parse_time(s[0]) or _EPOCH, s[1]))
        last_active = max((i for i, s in enumerate(seen) if s[2] == ACTIVE), default=None)
        after = seen[last_active + 1:] if last_active is not None else seen
        removed = next((s for s in after if s[2] == REMOVED), None)
        out["sightings"][key] = {
            "last_active": {"at": seen[last_active][0], "run_id": seen[last_active][1]}
            if last_active is not None else None,
            "first_removed": {"at": removed[0], "run_id": removed[1]} if removed else None,
        }
    return out


def read_access_review(store: Path) -> dict[str, Any]:
    """The latest completed access review in the attachment store `store` (`<out>/attachments`:
    ACCESS-LIFECYCLE's `access-review` manual evidence, as `evidence access-review complete`
    records it) and its `revoke` rows: `{"review": {...} | null, "revoke": [{system, account,
    person, line}]}`. A worksheet that is not readable, or whose file no longer matches its
    recorded sha256, is a ValueError."""
    # `evidence.attachments.load_attachments` is the store's reader, but it imports evidence.judge, which the
    # collectors may not import (import contracts); so this reads the records alike, with its checks: the
    # file lies inside the store (a record naming ../../x is refused, never read) and matches its sha256
    root = store.resolve()
    latest: tuple[str, str, dict[str, Any], Path, Path] | None = None
    for path in sorted((store / "records").glob("*.json")) if (store / "records").is_dir() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        att = data.get("attachment") if isinstance(data, dict) else None
        if not isinstance(att, dict) or (att.get("control_id"), att.get("requirement")) != (
                REVIEW_CONTROL, REVIEW_REQUIREMENT):
            continue
        key = (str(att.get("attached_at", "")), path.name)
        if latest is None or key > latest[:2]:
            latest = (*key, {**att, "file": str(data.get("original_name", ""))},
                      (store / str(data.get("file", ""))).resolve(), path)
    if latest is None:
        return {"review": None, "revoke": []}
    att, file, record = latest[2], latest[3], latest[4]
    if not file.is_relative_to(root) or file == root:
        raise ValueError(f"{record}: its file lies outside the attachment store")
    raw = file.read_bytes()
    if hashlib.sha256(raw).hexdigest() != att.get("sha256"):
        raise ValueError(f"{file}: content does not match its recorded sha256 {att.get('sha256')}")
    try:
        rows = parse_worksheet(raw, str(file))
    except WorksheetError as exc:
        raise ValueError(str(exc)) from None
    review = {k: att.get(k) for k in ("file", "sha256", "attached_by", "attached_at", "valid_until")}
    review["run_id"] = rows[0].fields.get("run_id", "") if rows else ""
    revoke = [{"system": r.system, "account": r.account, "person": r.fields.get("person", ""), "line": r.line}
              for r in rows if r.decision == "revoke"]
    return {"review": review, "revoke": revoke}
