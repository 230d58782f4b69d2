"""What the mid-pagination fault tests share (tests/test_midpage_faults_*.py): the faults, a
catalog of chosen controls, and ways to read a run's findings and records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from evidence.catalog import default_catalog_dir
from evidence.models import Finding, Status
from evidence.runner import RunResult
from tests.faultproxy import Fault

FAULTS: list[Fault] = ["reset", "timeout", "500", "truncate"]
REGION = "eu-west-2"
ORG = "zaptic"
TOKEN_ENV = "EVIDENCE_TEST_GITHUB_TOKEN"
#: the clients' read timeout in these tests, in seconds
READ_TIMEOUT = 1.0


def catalog(tmp_path: Path, *controls: str) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir(parents=True, exist_ok=True)
    for control in controls:
        shutil.copy(default_catalog_dir() / f"{control}.toml", folder / f"{control}.toml")
    return folder


def of(result: RunResult, check_id: str) -> list[Finding]:
    return [f for f in result.findings if f.check_id == check_id]


def by_status(findings: list[Finding], status: Status) -> list[str]:
    return sorted(f.resource_id for f in findings if f.status is status)


def judged(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.check_id, f.resource_id, f.status.value) for f in findings}


def records(result: RunResult, source: str, operation: str) -> list[dict[str, Any]]:
    """The records of `operation` in the bundle, in page order."""
    assert result.bundle is not None
    found = [r for p in (result.bundle / "evidence" / source).rglob("*.json")
             if (r := json.loads(p.read_text()))["operation"] == operation]
    return sorted(found, key=lambda r: (str(r["parameters"].get("filter")), int(r["parameters"].get("page", 0))))


def verdicts(result: RunResult) -> dict[str, Status]:
    return {v.control_id: v.verdict for v in result.verdicts}


def assert_listing_errors(findings: list[Finding], call: str, codes: tuple[str, ...], kept: list[str]) -> None:
    """The check read a listing cut short: an error naming the failed call (and its cause), so never
    a pass of the whole; `not_applicable` only for a resource that was read and is out of scope."""
    errors = [f for f in findings if f.status is Status.ERROR]
    assert errors, [(f.resource_id, f.status.value) for f in findings]
    assert any(call in f.message and any(c in f"{f.observed} {f.message}" for c in codes) for f in errors), \
        [(f.observed, f.message) for f in errors]
    assert set(by_status(findings, Status.NOT_APPLICABLE)) <= set(kept)


