"""`evidence diff`: what changed from one run to another, down to the evidence fields."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from evidence.bundle import escapes, metadata_problem
from evidence.exit_codes import exit_code_for
from evidence.history.drift import DriftError, VerdictChange, verdict_changes
from evidence.history.keyed import finding_key
from evidence.history.snapshot import Snapshot
from evidence.json_depth import TooDeep, check_depth
from evidence.judge import Judging, stream_findings
from evidence.models import ControlVerdict, Finding


def snapshot_from_bundle(bundle: Path) -> Snapshot:
    """A run read from its bundle: manifest, verdicts and judging input are read now; the
    findings are streamed from `findings.json` when asked for (`Snapshot.iter_findings`), so a
    bundle of any size is never held in memory."""

    def load(name: str) -> Any:
        path = bundle / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DriftError(f"{bundle}: not a complete bundle (no {name})") from None
        except RecursionError:
            raise DriftError(f"{path}: unreadable (nested too deeply)") from None
        except (OSError, ValueError) as exc:
            raise DriftError(f"{path}: unreadable ({exc})") from None

    manifest = load("manifest.json")
    problem = metadata_problem(manifest) if isinstance(manifest, dict) else "not an object"
    if problem is not None:  # the run id, period and reference time the snapshot is made of
        raise DriftError(f"{bundle / 'manifest.json'}: not a valid bundle manifest ({problem})")
    try:
        verdicts = [ControlVerdict.model_validate(v) for v in load("controls.json")]
        judging = Judging.model_validate(load("judging.json"))
    except (ValidationError, TypeError, RecursionError) as exc:
        raise DriftError(
            f"{bundle}: controls.json or judging.json does not fit its schema ({_first_line(exc)})"
        ) from None
    findings_path = bundle / "findings.json"
    if not findings_path.is_file():
        raise DriftError(f"{bundle}: not a complete bundle (no findings.json)")
    try:
        check_depth(findings_path)  # before the streamed parse, which a deep document would choke
    except (OSError, TooDeep) as exc:
        raise DriftError(f"{findings_path}: unreadable ({exc})") from None

    snap = Snapshot.from_parts(
        manifest, verdicts, [], bundle=str(bundle.resolve()), exit_code=exit_code_for(verdicts),
        waivers=judging.waivers, attachments=judging.attachments,
    )
    snap.stream = lambda: stream_findings(findings_path, DriftError)
    return snap


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True)
class FindingDelta:
    key: str
    before: Finding
    after: Finding
    fields: list[str]


_COMPARED = ("status", "observed", "expected", "message", "evidence", "waiver", "resource_type", "source")
_BATCH = 2000


class RunDiff:
    """Controls whose verdict changed, and findings new, resolved and changed, from run `a` to
    run `b`. The findings of both runs are compared in a private temporary SQLite file (deleted
    on `close`), so runs of any size are compared in bounded memory; `new`, `resolved` and
    `changed` stream their findings in key order."""

    def __init__(self, a: Snapshot, b: Snapshot, verdicts: list[VerdictChange], db: sqlite3.Connection) -> None:
        self.a, self.b, self.verdicts, self._db = a, b, verdicts, db

    def __enter__(self) -> RunDiff:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _count(self, sql: str, params: tuple[int, ...] = ()) -> int:
        return int(self._db.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])  # noqa: S608 - fixed SQL

    _ONLY_IN = ("SELECT r.data FROM keyed x JOIN raw r ON r.side = x.side AND r.seq = x.seq WHERE x.side = ? "
                "AND NOT EXISTS (SELECT 1 FROM keyed y WHERE y.side = ? AND y.key = x.key)")
    _CHANGED = ("SELECT x.key, ra.data, rb.data FROM keyed x JOIN keyed y ON y.side = 1 AND y.key = x.key "
                "JOIN raw ra ON ra.side = 0 AND ra.seq = x.seq JOIN raw rb ON rb.side = 1 AND rb.seq = y.seq "
                "WHERE x.side = 0 AND x.digest != y.digest")

    @property
    def new_count(self) -> int:
        return self._count(self._ONLY_IN, (1, 0))

    @property
    def resolved_count(self) -> int:
        return self._count(self._ONLY_IN, (0, 1))

    @property
    def changed_count(self) -> int:
        return self._count(self._CHANGED)

    def new(self) -> Iterator[Finding]:
        """Findings of `b` whose key `a` does not have, by key."""
        for (data,) in self._db.execute(self._ONLY_IN + " ORDER BY x.key", (1, 0)):
            yield Finding.model_validate_json(data)

    def resolved(self) -> Iterator[Finding]:
        """Findings of `a` whose key `b` does not have, by key."""
        for (data,) in self._db.execute(self._ONLY_IN + " ORDER BY x.key", (0, 1)):
            yield Finding.model_validate_json(data)

    def changed(self) -> Iterator[FindingDelta]:
        """Findings of both runs whose compared fields differ, by key, naming those fields."""
        for key, before, after in self._db.execute(self._CHANGED + " ORDER BY x.key"):
            fa, fb = Finding.model_validate_json(before), Finding.model_validate_json(after)
            yield FindingDelta(key, fa, fb, [name for name in _COMPARED if getattr(fa, name) != getattr(fb, name)])


def _digest(f: Finding) -> bytes:
    """What decides whether a finding changed: its compared fields, canonically."""
    fields = f.model_dump(mode="json", include=set(_COMPARED))
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).digest()


def _load(db: sqlite3.Connection, a: Snapshot, b: Snapshot) -> None:
    """Both runs' findings into `db`: `raw` as read (side, order, base key, digest, JSON), then
    `f` keyed as `keyed_findings` keys them (the n-th finding with the same base key gets `#n`),
    with no key held in memory."""
    db.execute("CREATE TABLE raw (side INTEGER, seq INTEGER, base TEXT, digest BLOB, data TEXT, "
               "PRIMARY KEY (side, seq))")
    for side, snap in enumerate((a, b)):
        batch: list[tuple[int, int, str, bytes, str]] = []
        for seq, f in enumerate(snap.iter_findings()):
            batch.append((side, seq, finding_key(f), _digest(f), f.model_dump_json()))
            if len(batch) >= _BATCH:
                db.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?)", batch)
                batch.clear()
        db.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?)", batch)
    db.execute(
        "CREATE TABLE keyed AS SELECT side, seq, base || (CASE n WHEN 1 THEN '' ELSE '#' || n END) AS key, digest "
        "FROM (SELECT side, seq, base, digest, row_number() OVER (PARTITION BY side, base ORDER BY seq) AS n FROM raw)"
    )
    db.execute("CREATE INDEX keyed_by_key ON keyed (side, key)")
    db.commit()


def diff_runs(a: Snapshot, b: Snapshot) -> RunDiff:
    """Controls whose verdict changed, and findings new, resolved and changed, from `a` to `b`
    (close the result, or use it as a context manager, to delete its temporary file)."""
    changes = [c for c in verdict_changes(a, b)]
    changes += [VerdictChange(cid, v.title, v.verdict.value, None) for cid, v in sorted(a.verdicts.items())
                if cid not in b.verdicts]
    db = sqlite3.connect("")  # "": a private temporary file on disk, deleted when closed
    try:
        _load(db, a, b)
    except BaseException:
        db.close()
        raise
    return RunDiff(a, b, sorted(changes, key=lambda c: c.control_id), db)


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


def read_record(path: Path) -> Any:
    """An evidence record without its volatile fields, or `ABSENT` when it is missing or unreadable."""
    if not path.is_file():
        return _ABSENT
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return _ABSENT
    return {k: v for k, v in doc.items() if k not in _VOLATILE} if isinstance(doc, dict) else doc


def evidence_changes(
    bundle_a: Path | None, bundle_b: Path | None, paths: Iterable[str], focus: str | None = None,
    read: Callable[[Path], Any] = read_record,
) -> list[EvidenceChange]:
    """For each evidence path, the JSON paths whose values differ between the two bundles
    (ignoring `collected_at` and the response digest), focused on resource `focus`."""
    out: list[EvidenceChange] = []
    for rel in sorted(set(paths)):
        # a finding names its records; one that names a path outside its bundle is never read
        docs = [read(bundle / rel) if bundle is not None and not escapes(rel) else _ABSENT
                for bundle in (bundle_a, bundle_b)]
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
