"""Helpers for the GitHub collector tests: a clock the tests control, and one collection
against the fake GitHub REST server (its fixtures are in this package's conftest)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from evidence.collectors.base import Sink
from evidence.collectors.github import GitHubCollector
from evidence.collectors.github_access import PERMISSIONS
from evidence.config import parse_config
from evidence.models import EvidenceRecord, Period
from evidence.records import EvidenceIndex, EvidenceWriter
from tests.fakes.github import FakeGitHub

ORG = "zaptic"
TOKEN_ENV = "EVIDENCE_TEST_GITHUB_TOKEN"
PERIOD = Period.parse("2026-Q4")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()


class Clock:
    """Time that moves only when the collector sleeps (or the test says so)."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Collected:
    def __init__(self, index: EvidenceIndex, records: list[EvidenceRecord]) -> None:
        self.index = index
        self.records = records

    def of(self, op: str) -> list[EvidenceRecord]:
        return [r for r in self.records if r.operation == op]

    def ok(self, op: str) -> list[EvidenceRecord]:
        return [r for r in self.of(op) if r.ok]

    def failed(self, op: str) -> list[EvidenceRecord]:
        return [r for r in self.of(op) if not r.ok]


def collect(
    gh: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
    *,
    wanted: set[str] | None = None,
    period: Period = PERIOD,
    api_url: str | None = None,
    token: str | None = None,
) -> Collected:
    monkeypatch.setenv(TOKEN_ENV, gh.token if token is None else token)
    cfg = parse_config({"github": {"org": ORG, "token_env": TOKEN_ENV, "api_url": api_url or gh.api_url}})
    collector = GitHubCollector(cfg, period, clock=clock, sleep=clock.sleep)
    writer = EvidenceWriter(tmp_path / "bundle")
    collector.collect(Sink(writer), frozenset(wanted if wanted is not None else PERMISSIONS))
    index = writer.index()
    records = [index.load(e).record for e in index.entries]
    return Collected(index, records)
