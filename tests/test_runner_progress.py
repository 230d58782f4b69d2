"""The runner's progress events: the phases of a run, the collection's units out of a total,
its calls and errors, the collectors' string messages (old plugins) still working, and the
receiver ended whatever happens."""

from __future__ import annotations

import threading
from pathlib import Path

import boto3
import pytest

from evidence.collectors.base import ProgressEvent, ProgressReceiver, Sink, Tally
from evidence.config import ConfigError
from evidence.models import CollectionError, EvidenceRecord
from evidence.records import EvidenceWriter
from tests.conftest import RunFn


class Recorder:
    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []
        self.messages: list[str] = []
        self.ends = 0
        self.lock = threading.Lock()

    def __call__(self, message: str) -> None:
        self.messages.append(message)

    def event(self, event: ProgressEvent) -> None:
        with self.lock:
            self.events.append(event)

    def end(self) -> None:
        self.ends += 1

    def phases(self) -> list[str]:
        out: list[str] = []
        for e in self.events:
            if not out or out[-1] != e.phase:
                out.append(e.phase)
        return out


def _record(error: bool = False) -> EvidenceRecord:
    return EvidenceRecord(
        source="fleet", service="fleet", operation="Read", parameters={}, account="", region="",
        collected_at="2026-10-01T00:00:00Z", response=None if error else {"ok": True},
        error=CollectionError(code="X", message="x", remedy="y") if error else None,
    )


def test_a_sink_counts_units_calls_and_errors_from_messages_old_and_new(tmp_path: Path) -> None:
    got: list[ProgressEvent] = []
    tally = Tally(got.append, every=0)
    writer = EvidenceWriter(tmp_path)
    aws, github, fleet = (Sink(writer, tally=tally, source=s) for s in ("aws", "github", "fleet"))
    for s in ("aws", "github", "fleet"):
        tally.source(s)
    assert tally.snapshot().total == 3  # one unit each until they say more
    aws.progress("aws 3/10: ec2 123456789012 eu-west-2")
    github.progress("github: acme/api-2 (2/5)")
    fleet.progress("fleet: read hosts.json")  # an old plugin's message: no count, still shown
    assert (got[-1].done, got[-1].total, got[-1].message) == (5, 16, "fleet: read hosts.json")
    fleet.units(1, 4, "fleet: 1 of 4 files")
    fleet.record(_record())
    fleet.record(_record(error=True))
    fleet.failure(source="fleet", key="fleet.Read", error=CollectionError(code="X", message="x", remedy="y"))
    tally.finished("aws")
    last = tally.snapshot()
    assert (last.done, last.total, last.calls, last.errors) == (10 + 2 + 1, 10 + 5 + 4, 2, 2)
    assert fleet.calls == 2


def test_a_sink_without_a_tally_passes_messages_to_the_old_callback(tmp_path: Path) -> None:
    said: list[str] = []
    sink = Sink(EvidenceWriter(tmp_path), said.append)
    sink.progress("fleet: read hosts.json")
    sink.units(1, 2, "fleet: 1 of 2")
    sink.record(_record())
    assert said == ["fleet: read hosts.json", "fleet: 1 of 2"] and sink.calls == 1


@pytest.mark.usefixtures("mocked_aws")
def test_a_run_reports_its_phases_and_the_collections_units(run_evidence: RunFn) -> None:
    s3 = boto3.client("s3", region_name="eu-west-2")
    s3.create_bucket(Bucket="progress", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    seen = Recorder()
    assert isinstance(seen, ProgressReceiver)
    result = run_evidence({"aws": {"regions": ["eu-west-2"]}}, only={"aws", "manual"}, progress=seen)
    assert seen.phases() == ["collect", "judge", "reports", "done"]
    assert seen.ends == 1
    assert not seen.messages  # a receiver gets the collectors' messages as events
    collect = [e for e in seen.events if e.phase == "collect"]
    assert collect[0].total >= 1 and collect[-1].total > 1  # the AWS units, once planned
    last = seen.events[-1]
    assert last.done == last.total == collect[-1].total
    assert last.calls == sum(result.api_calls.values()) > 0
    assert any(e.message.startswith("aws ") for e in collect)


@pytest.mark.usefixtures("mocked_aws")
def test_an_old_callback_still_gets_the_collectors_strings_only(run_evidence: RunFn) -> None:
    said: list[str] = []
    run_evidence({"aws": {"regions": ["eu-west-2"]}}, only={"aws"}, progress=said.append)
    assert said and all(m.startswith("aws ") for m in said)


def test_the_receiver_is_ended_when_the_run_fails(run_evidence: RunFn) -> None:
    seen = Recorder()
    with pytest.raises(ConfigError):
        run_evidence(only={"nonsense"}, progress=seen)
    assert seen.ends == 1
