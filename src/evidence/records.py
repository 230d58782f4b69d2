"""Evidence records on disk: the writer collectors stream into, and the index checks read from.

Records are written one JSON file per API call (or page) as they arrive, so memory does not
grow with the estate; the index keeps only each record's address and provenance, and the
response is read back from disk when a check asks for it.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence.models import CollectionError, EvidenceRecord, canonical_json, sha256_of

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


def _safe(part: str) -> str:
    return _UNSAFE.sub("_", part) or "_"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """Where a record is and what it is, without its response."""

    path: str
    source: str
    service: str
    operation: str
    account: str
    region: str
    ok: bool
    #: the resource the call was about (`EvidenceRecord.subject`)
    subject: str = ""

    @property
    def key(self) -> str:
        return f"{self.service}.{self.operation}"

    @classmethod
    def of(cls, path: str, record: EvidenceRecord) -> IndexEntry:
        """The entry of `record`, stored at `path`."""
        return cls(path, record.source, record.service, record.operation, record.account, record.region, record.ok,
                   record.subject)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A record read back from the bundle, with its path inside the bundle."""

    path: str
    record: EvidenceRecord

    @property
    def response(self) -> Any:
        return self.record.response

    @property
    def account(self) -> str:
        return self.record.account

    @property
    def region(self) -> str:
        return self.record.region

    @property
    def parameters(self) -> dict[str, Any]:
        return self.record.parameters

    @property
    def error(self) -> CollectionError | None:
        return self.record.error


def record_path(record: EvidenceRecord) -> str:
    """The record's path inside the bundle: deterministic, so re-runs name files alike."""
    digest = sha256_of(record.parameters)[:12]
    return "/".join(
        [
            "evidence",
            _safe(record.source),
            _safe(record.account or "_"),
            _safe(record.region or "global"),
            _safe(record.service),
            f"{_safe(record.operation)}-{digest}.json",
        ]
    )


def dump_record(record: EvidenceRecord) -> str:
    """A record's file. The response is written as the collector handed it (no copy through the
    model), with the same `default=str` its sha256 was computed with."""
    data = record.model_dump(mode="json", by_alias=True, exclude={"response"})
    data["response"] = record.response
    return json.dumps(data, indent=1, sort_keys=True, default=str)


class EvidenceWriter:
    """Streams records into `<bundle>/evidence/...`; safe to call from many threads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._entries: dict[str, IndexEntry] = {}
        #: folders already made (a record's folder is made once, not once per record)
        self._folders: set[Path] = set()

    def write(self, record: EvidenceRecord) -> str:
        if record.error is None:
            record.sha256 = sha256_of(record.response)
        rel = record_path(record)
        with self._lock:
            # a second identical call (e.g. a page asked for twice) gets its own file
            n = 1
            base = rel
            while rel in self._entries:
                n += 1
                rel = base.replace(".json", f".{n}.json")
            self._entries[rel] = IndexEntry.of(rel, record)
        self._target(rel).write_text(dump_record(record), encoding="utf-8")
        return rel

    def adopt(self, rel: str, record: EvidenceRecord, data: bytes) -> None:
        """Take in a record another bundle made (a shard's), byte for byte, at the same path."""
        with self._lock:
            if rel in self._entries:
                raise ValueError(f"{rel}: already in the bundle")
            self._entries[rel] = IndexEntry.of(rel, record)
        self._target(rel).write_bytes(data)

    def _target(self, rel: str) -> Path:
        """Where `rel` is written, its folder made (once: not once per record)."""
        target = self.root / rel
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        return target

    def index(self) -> EvidenceIndex:
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: e.path)
        return EvidenceIndex(self.root, entries)


class EvidenceIndex:
    """Lookup of a bundle's records by `service.Operation`."""

    #: records kept parsed, by the size of their files: several checks read the same listing, so
    #: a small cache saves re-reading and re-validating it, while memory stays bounded however
    #: large the estate (and its pages) grow; a record bigger than a quarter of this is not kept
    cache_bytes = 16 * 2**20

    def __init__(self, root: Path, entries: list[IndexEntry]) -> None:
        self.root = root
        self.entries = entries
        self._by_key: dict[str, list[IndexEntry]] = {}
        self._cache: OrderedDict[str, tuple[Evidence, int]] = OrderedDict()
        self._cached = 0
        for e in entries:
            self._by_key.setdefault(e.key, []).append(e)

    @classmethod
    def from_bundle(cls, root: Path) -> EvidenceIndex:
        """Index a stored bundle's evidence folder (reads every record once)."""
        entries: list[IndexEntry] = []
        base = root / "evidence"
        if base.is_dir():
            for p in sorted(base.rglob("*.json")):
                rec = EvidenceRecord.model_validate_json(p.read_text(encoding="utf-8"))
                entries.append(IndexEntry.of(p.relative_to(root).as_posix(), rec))
        return cls(root, entries)

    def entries_for(self, key: str) -> list[IndexEntry]:
        return self._by_key.get(key, [])

    def load(self, entry: IndexEntry) -> Evidence:
        hit = self._cache.get(entry.path)
        if hit is not None:
            self._cache.move_to_end(entry.path)
            return hit[0]
        text = (self.root / entry.path).read_text(encoding="utf-8")
        ev = Evidence(entry.path, EvidenceRecord.model_validate_json(text))
        size = len(text)
        if size <= self.cache_bytes // 4:
            self._cache[entry.path] = (ev, size)
            self._cached += size
            while self._cached > self.cache_bytes:
                _, (_, dropped) = self._cache.popitem(last=False)
                self._cached -= dropped
        return ev

    def iter(self, key: str) -> Iterator[Evidence]:
        for entry in self.entries_for(key):
            yield self.load(entry)


def response_digest_matches(record: EvidenceRecord) -> bool:
    """True when a record's stored sha256 is the digest of its response."""
    return record.error is not None or record.sha256 == sha256_of(record.response)


__all__ = [
    "Evidence",
    "EvidenceIndex",
    "EvidenceWriter",
    "IndexEntry",
    "canonical_json",
    "record_path",
    "response_digest_matches",
]
