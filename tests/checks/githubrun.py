"""The GitHub checks through the real pipeline (collector + fake GitHub + judge + bundle), and
hand-written GitHub evidence records judged as a run judges them: the helpers and fixtures of
the GitHub check and artifact tests (the fixtures are re-exported by their folders' conftest.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evidence.artifacts.github import merged_pull_requests_csv
from evidence.catalog import load_catalog
from evidence.checks.base import Check
from evidence.checks.inventory import Item
from evidence.collectors.base import Collector
from evidence.collectors.github import GitHubCollector
from evidence.config import Config
from evidence.judge import Judging, run_check
from evidence.models import EvidenceRecord, Finding, Period, Status
from evidence.records import Evidence, EvidenceIndex, EvidenceWriter
from evidence.runner import RunResult
from tests.conftest import RunFn
from tests.fakes.github import (
    FakeGitHub,
    Rule,
)
from tests.fakes.openapi import OpenAPISpec

ORG = "zaptic"
TOKEN_ENV = "EVIDENCE_TEST_GITHUB_TOKEN"
REVIEWS = "github.branch_protection_reviews"
STATUS = "github.branch_protection_status_checks"
PEER = "github.pull_requests_peer_approved"
BASELINE = [
    Rule.pull_request(1),
    Rule.required_status_checks(["ci"], strict=True),
    Rule.non_fast_forward(),
    Rule.deletion(),
]


@pytest.fixture
def gh(spec: OpenAPISpec, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(org=ORG) as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        fake.add_member("alice")
        fake.add_member("bob")
        yield fake
        assert fake.assert_served_payloads_valid(spec) == len(fake.served)
        assert not fake.errors


def no_sleep_collectors(cls: type[Collector], config: Config, period: Period) -> Collector:
    """The registry's collectors, the GitHub one without real sleeping between retries."""
    if cls is GitHubCollector:
        return GitHubCollector(config, period, sleep=lambda seconds: None)
    return cls(config, period)


def run(run_evidence: RunFn, gh: FakeGitHub) -> RunResult:
    config = {"github": {"org": ORG, "token_env": TOKEN_ENV, "api_url": gh.api_url}}
    return run_evidence(config, only={"github"}, collector_factory=no_sleep_collectors)


def by(result: RunResult, check_id: str) -> dict[str, Finding]:
    found = [f for f in result.findings if f.check_id == check_id]
    out = {f.resource_id: f for f in found}
    assert len(out) == len(found), "one finding per resource"
    return out


def statuses(result: RunResult, check_id: str) -> dict[str, Status]:
    return {k: f.status for k, f in by(result, check_id).items()}


def verdicts(result: RunResult) -> dict[str, Status]:
    return {v.control_id: v.verdict for v in result.verdicts}


def item(value: Any, at: str = "", path: str = "evidence/github/zaptic/global/github/record.json") -> Item:
    """`value` as a listed item of a record at `path` (for the pure functions)."""
    record = EvidenceRecord(source="github", service="github", operation="x", subject="o/r",
                            collected_at="2026-12-31T00:00:00Z", response=value)
    return Item(value, Evidence(path, record), "o/r", "o/r", at)


def items(values: list[dict[str, Any]]) -> list[Item]:
    return [item(v, f"[{n}]") for n, v in enumerate(values)]


NOW = datetime(2027, 1, 1, tzinfo=UTC)
PERIOD = {"period_start": "2026-10-01", "period_end": "2026-12-31"}


@pytest.fixture
def raw_gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The fake GitHub, free to serve pages GitHub's description does not allow."""
    with FakeGitHub(org=ORG) as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        fake.add_member("alice")
        yield fake
        assert not fake.errors


class Records:
    """Hand-written GitHub evidence records, judged exactly as a run judges them."""

    def __init__(self, root: Path) -> None:
        self.writer = EvidenceWriter(root)

    def add(self, op: str, response: Any, subject: str = ORG, **params: Any) -> str:
        return self.writer.write(EvidenceRecord(
            source="github", service="github", operation=op, parameters={"page": 1, **params}, account=ORG,
            subject=subject, collected_at="2026-12-31T00:00:00Z", response=response,
        ))

    @property
    def index(self) -> EvidenceIndex:
        return self.writer.index()

    def judge(self, chk: Check) -> list[Finding]:
        catalog = load_catalog()
        control = next(c for c in catalog.controls.values() if any(r.id == chk.id for r in c.checks))
        judging = Judging(reference_time=NOW, catalog=catalog, params={control.id: {chk.id: dict(chk.params)}},
                          sources={"github": None})
        return run_check(chk, control.id, judging, self.index)

    def repos(self, *names: str) -> str:
        return self.add("repos/list-for-org", [{"full_name": f"{ORG}/{n}", "name": n, "default_branch": "main",
                                                "archived": False} for n in names], org=ORG, type="all")

    def pulls(self, repo: str, response: Any) -> str:
        return self.add("pulls/list", response, f"{ORG}/{repo}", owner=ORG, repo=repo, state="closed", base="main",
                        **PERIOD)

    def reviews(self, repo: str, number: int, response: Any) -> str:
        return self.add("pulls/list-reviews", response, f"{ORG}/{repo}#{number}", owner=ORG, repo=repo,
                        pull_number=number)


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return Records(tmp_path / "bundle")


def pull(number: int, merged_at: str | None = "2026-10-05T10:00:00Z", author: str = "alice") -> dict[str, Any]:
    return {"number": number, "title": f"Change {number}", "user": {"login": author, "type": "User"},
            "merged_at": merged_at, "base": {"ref": "main"}, "updated_at": "2026-10-05T10:00:00Z"}


def review(rid: int, login: str, state: str, at: str) -> dict[str, Any]:
    return {"id": rid, "user": {"login": login, "type": "User"}, "state": state, "submitted_at": at}


def one(findings: list[Finding], check_id: str, resource_id: str) -> Finding:
    [found] = [f for f in findings if f.check_id == check_id and f.resource_id == resource_id]
    return found


def population(index: EvidenceIndex, folder: Path) -> list[dict[str, str]]:
    """The population file the artifact builds for `index`."""
    data = merged_pull_requests_csv.build(index)
    assert data is not None
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
