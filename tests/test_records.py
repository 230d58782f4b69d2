"""Evidence records on disk: what the writer stores and how much the index keeps parsed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from evidence.models import EvidenceRecord
from evidence.records import EvidenceWriter, response_digest_matches


def _record(operation: str, response: object) -> EvidenceRecord:
    return EvidenceRecord(source="x", service="svc", operation=operation, collected_at="2026-11-30T08:00:00Z",
                          response=response)


def test_a_stored_record_reads_back_with_the_digest_it_was_written_with(tmp_path: Path) -> None:
    # a value JSON has no type for is stored as the text its digest was computed over
    when = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    writer = EvidenceWriter(tmp_path)
    rel = writer.write(_record("Get", {"b": [1, 2.5, None, True], "a": "é", "when": when}))
    stored = json.loads((tmp_path / rel).read_text(encoding="utf-8"))
    assert stored["response"] == {"a": "é", "b": [1, 2.5, None, True], "when": str(when)}
    ev = writer.index().load(writer.index().entries[0])
    assert response_digest_matches(ev.record)


def test_the_parse_cache_is_bounded_by_size_and_skips_huge_records(tmp_path: Path) -> None:
    writer = EvidenceWriter(tmp_path)
    for i in range(6):
        writer.write(_record(f"Small{i}", {"items": ["x" * 1000] * 3}))
    writer.write(_record("Huge", {"items": ["y" * 1000] * 40}))
    index = writer.index()
    index.cache_bytes = 16_000  # room for four small records (3.3 kB each); the huge one is over a quarter
    by_op = {e.operation: e for e in index.entries}
    huge = index.load(by_op["Huge"])
    assert index.load(by_op["Huge"]) is not huge  # read again: never kept
    first = index.load(by_op["Small0"])
    assert index.load(by_op["Small0"]) is first  # kept while there is room
    for i in range(1, 6):
        index.load(by_op[f"Small{i}"])
    assert index.load(by_op["Small0"]) is not first  # the oldest was dropped to stay in budget
    assert 0 < index._cached <= index.cache_bytes
