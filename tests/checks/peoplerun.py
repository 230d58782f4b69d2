"""The people checks through the real pipeline: a roster file, the fake Google Workspace and the fake
GitHub (and moto for IAM), a configuration file beside the roster, and a catalog whose
ACCESS-LIFECYCLE lists the people checks; each run at a chosen reference time, recorded in the
history as `evidence run` records it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog import default_catalog_dir
from evidence.collectors.base import Collector
from evidence.collectors.github import GitHubCollector
from evidence.config import AlertsConfig, Config, load_config
from evidence.history.outcome import after_run
from evidence.judge import Attachment
from evidence.models import Finding, Period, Status
from evidence.registry import Registry
from evidence.runner import Runner, RunResult
from tests.fakes.github import FakeGitHub
from tests.fakes.google_workspace import FakeWorkspace, make_user
from tests.fakes.openapi import OpenAPISpec

ORG = "zaptic"
TOKEN_ENV = "EVIDENCE_TEST_GITHUB_TOKEN"
ADMIN = "admin@zaptic.example"
CONTROL = "ACCESS-LIFECYCLE"
LEAVERS_WORKSPACE = "people.leavers_workspace_removed"
LEAVERS_GITHUB = "people.leavers_github_removed"
LEAVERS_IAM = "people.leavers_iam_removed"
ORPHAN_WORKSPACE = "people.orphan_workspace_users"
ORPHAN_GITHUB = "people.orphan_github_members"
ORPHAN_IAM = "people.orphan_iam_users"
OTHERS = ("CODEHOST-MFA",)
HEADER = "email,status,left_on,github_login,aws_iam_users,aliases\n"


def toml_value(value: Any) -> str:
    """A parameter value as TOML (json's strings, lists and numbers are TOML's too)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def catalog_with(folder: Path, checks: dict[str, dict[str, Any]]) -> Path:
    """A catalog folder: the built-in ACCESS-LIFECYCLE with `checks` (id -> params) in place of its
    people checks, and
    CODEHOST-MFA, whose check has the GitHub members listed (the people checks read the other
    sources' evidence, which those sources' own checks have collected)."""
    folder.mkdir(parents=True, exist_ok=True)
    for other in OTHERS:
        (folder / f"{other}.toml").write_bytes((default_catalog_dir() / f"{other}.toml").read_bytes())
    text = (default_catalog_dir() / f"{CONTROL}.toml").read_text(encoding="utf-8")
    text = text.split('\n[[checks]]\nid = "people.', 1)[0] + "\n"  # the built-in's own people checks: ours instead
    for check_id, params in checks.items():
        text += f'\n[[checks]]\nid = "{check_id}"\n'
        if params:
            text += "params = { " + ", ".join(f"{k} = {toml_value(v)}" for k, v in params.items()) + " }\n"
    (folder / f"{CONTROL}.toml").write_text(text, encoding="utf-8")
    return folder


def user(email: str, **overrides: Any) -> dict[str, Any]:
    """An active, compliant Workspace user who signed in on the day of the runs."""
    fields: dict[str, Any] = {"isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True,
                              "creationTime": "2025-01-01T09:00:00.000Z", "lastLoginTime": "2026-11-01T09:00:00.000Z",
                              **overrides}
    return make_user(email, **fields)


def no_sleep(cls: type[Collector], config: Config, period: Period) -> Collector:
    if cls is GitHubCollector:
        return GitHubCollector(config, period, sleep=lambda seconds: None)
    return cls(config, period)


class Company:
    """A folder holding `evidence.toml`, `people.csv` and the catalog; `run` runs the pipeline on it."""

    def __init__(self, folder: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch,
                 workspace: FakeWorkspace | None = None, github: FakeGitHub | None = None) -> None:
        self.folder = folder
        self.registry = registry
        self.monkeypatch = monkeypatch
        self.workspace = workspace
        self.github = github
        self.catalog = folder / "controls"
        self.sections: dict[str, Any] = {"people": {"roster": "people.csv"}, "bundle": {"out": "out"}}
        folder.mkdir(parents=True, exist_ok=True)
        if workspace is not None:
            key = folder / "service-account.json"
            key.write_text(json.dumps(workspace.service_account_info()), encoding="utf-8")
            self.sections["google_workspace"] = {"customer_id": "my_customer", "credentials_file": key.name,
                                                 "delegated_admin": ADMIN, "api_endpoint": workspace.api_endpoint}
        if github is not None:
            self.sections["github"] = {"org": ORG, "token_env": TOKEN_ENV, "api_url": github.api_url}

    @property
    def out(self) -> Path:
        return self.folder / "out"

    def roster(self, *rows: str) -> None:
        (self.folder / "people.csv").write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")

    def config_file(self, controls: dict[str, Any] | None = None) -> Path:
        lines: list[str] = []
        sections = {**self.sections, **({"controls": {CONTROL: controls}} if controls else {})}
        for name, values in sections.items():
            if name == "controls":
                for control, params in values.items():
                    lines.append(f"[controls.{control}]")
                    lines += [f"{k} = {toml_value(v)}" for k, v in params.items()]
                continue
            lines.append(f"[{name}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
        path = self.folder / "evidence.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def run(self, now: str, *, only: Iterable[str], controls: dict[str, Any] | None = None,
            record: bool = True) -> RunResult:
        """One run at reference time `now` (ISO), its catalog the one in `self.catalog`, recorded in
        `out/history.sqlite` (as `evidence run` does) when `record`."""
        self.monkeypatch.setenv("EVIDENCE_NOW", now)
        config = load_config(self.config_file(controls))
        review = Attachment(control_id=CONTROL, requirement="access-review", path="attachments/review.pdf",
                            sha256="0" * 64, valid_until=date(2027, 12, 31))
        runner = Runner(config=config, registry=self.registry, period=Period.parse("2026-Q4"), out=self.out,
                        only=set(only), catalog_dir=self.catalog, collector_factory=no_sleep, attachments=[review])
        result = runner.run()
        if record:
            after_run(result, AlertsConfig(), notify=False)
        return result


def findings(result: RunResult, check_id: str) -> dict[str, Finding]:
    found = [f for f in result.findings if f.check_id == check_id]
    out = {f.resource_id: f for f in found}
    assert len(out) == len(found), "one finding per resource"
    return out


def statuses(result: RunResult, check_id: str) -> dict[str, Status]:
    return {rid: f.status for rid, f in findings(result, check_id).items()}


def verdict(result: RunResult, control: str = CONTROL) -> Status:
    return next(v.verdict for v in result.verdicts if v.control_id == control)


@pytest.fixture
def github(spec: OpenAPISpec, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(org=ORG) as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        yield fake
        assert fake.assert_served_payloads_valid(spec) == len(fake.served)
        assert not fake.errors


def at(day: str, hour: int = 9) -> str:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
