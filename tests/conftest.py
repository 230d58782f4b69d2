"""Shared fixtures: an isolated AWS environment (moto), the plugin registry, a pipeline runner."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from evidence.config import parse_config
from evidence.models import Period
from evidence.registry import Registry
from evidence.runner import Runner, RunResult
from tests.fakes.openapi import OpenAPIDocumentMissing, OpenAPISpec, locate_openapi_document

PERIOD = Period.parse("2026-Q4")


def _loopback(host: object) -> bool:
    if host is None:
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    return text in ("", "localhost", "::1", "0:0:0:0:0:0:0:1") or text.startswith("127.")


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches anything but loopback: other connects and name look-ups fail loudly.

    Also gives every test placeholder AWS credentials, so a test that forgot `aws_env` can
    never sign a request with the developer's own."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guard(address: object) -> None:
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise ConnectionRefusedError(f"test tried to reach {address!r}: only loopback is allowed")

    def connect(self: socket.socket, address: Any) -> None:
        guard(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test tried to resolve {host!r}: only loopback is allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and nothing that could point boto3 at a real account."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@contextmanager
def serve_moto() -> Iterator[str]:
    """A moto server on loopback while the block runs: its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_url() -> Iterator[str]:
    """A moto server on loopback, for an `evidence` run in a process of its own: its URL."""
    with serve_moto() as url:
        yield url


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


# --- every AWS operation the collectors call, across the whole suite (tests/test_permissions.py) ---


class AwsCallLog:
    """(service, operation) of every call made by a client the AWS collector created (its
    clients carry `user_agent_appid = "evidence"`); test set-up calls are not collector calls."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, str]] = set()

    def handler(self, model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
        from evidence.collectors.aws_calls import USER_AGENT_APPID

        config = (context or {}).get("client_config")
        if getattr(config, "user_agent_appid", None) == USER_AGENT_APPID:
            self.calls.add((model.service_model.service_name, model.name))

    def undeclared(self) -> list[str]:
        """Keys called but missing from the collector's PERMISSIONS (so from `evidence permissions`)."""
        from evidence.collectors.aws_permissions import PERMISSIONS

        return sorted({f"{s}.{o}" for s, o in self.calls} - set(PERMISSIONS))


AWS_CALLS = AwsCallLog()


@pytest.fixture(scope="session", autouse=True)
def aws_call_log() -> Iterator[AwsCallLog]:
    """Hooks every botocore session made during the run; at the end (per xdist worker too) fails
    if a collector called an AWS operation that `evidence permissions` does not grant."""
    import botocore.session

    original = botocore.session.Session.__init__

    def init(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-call", AWS_CALLS.handler, unique_id="evidence-aws-call-log")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(botocore.session.Session, "__init__", init)
        yield AWS_CALLS
    missing = AWS_CALLS.undeclared()
    assert not missing, f"the AWS collector called operations missing from PERMISSIONS: {missing}"


@pytest.fixture(scope="session")
def spec() -> OpenAPISpec:
    """GitHub's OpenAPI description, which the fake GitHub's payloads are validated against
    (fetched by scripts/fetch-github-openapi.sh; in CI a missing one fails, locally it skips)."""
    try:
        path = locate_openapi_document()
    except OpenAPIDocumentMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and GitHub's OpenAPI description is missing: {exc}")
        pytest.skip(f"GitHub's OpenAPI description is missing: {exc}")
    return OpenAPISpec.load(path)
