"""Shared fixtures: an isolated AWS environment (moto), the plugin registry, a pipeline runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from evidence.config import parse_config
from evidence.models import Period
from evidence.registry import Registry
from evidence.runner import Runner, RunResult

PERIOD = Period.parse("2026-Q4")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and nothing that could point boto3 at a real account."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def mocked_aws(aws_env: None) -> Iterator[None]:
    """moto in-process for the whole test."""
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def registry() -> Registry:
    reg = Registry.load()
    assert not reg.errors, reg.errors
    return reg


RunFn = Callable[..., RunResult]


@pytest.fixture
def run_evidence(tmp_path: Path, registry: Registry) -> RunFn:
    """Run the real pipeline: `run_evidence({"aws": {...}}, only={"aws"})` -> RunResult."""

    def run(config: dict[str, Any] | None = None, *, only: set[str] | None = None, **kwargs: Any) -> RunResult:
        cfg = parse_config(config or {})
        runner = Runner(config=cfg, registry=registry, period=PERIOD, out=tmp_path / "out", only=only, **kwargs)
        return runner.run()

    return run
