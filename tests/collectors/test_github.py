"""The GitHub collector: its token (missing, rejected, never logged or recorded) and its scope."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from evidence.collectors.base import CollectorFailure
from evidence.collectors.github import GitHubCollector
from evidence.collectors.github_config import GitHubConfig
from tests.collectors.githubhelp import ORG, TOKEN_ENV, Clock, collect
from tests.fakes.github import FakeGitHub


def test_missing_token_is_a_user_error_naming_the_variable(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    with pytest.raises(CollectorFailure) as info:
        collect(gh, tmp_path, monkeypatch, clock, token="  ")
    assert info.value.user_error
    assert TOKEN_ENV in info.value.error.message
    assert gh.requests == []


def test_rejected_token_is_a_user_error_that_does_not_echo_it(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    wrong = "ghp_wrong" + "x" * 30
    with pytest.raises(CollectorFailure) as info:
        collect(gh, tmp_path, monkeypatch, clock, token=wrong)
    assert info.value.user_error and info.value.error.code == "HTTP 401"
    assert TOKEN_ENV in info.value.error.message and "Bad credentials" in info.value.error.message
    assert wrong not in str(info.value.error.model_dump())


def test_token_is_never_logged_or_recorded(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gh.add_repo("api")
    gh.deny_integration_access("api")
    caplog.set_level(logging.DEBUG)
    collect(gh, tmp_path, monkeypatch, clock)
    assert gh.token not in caplog.text
    for path in (tmp_path / "bundle").rglob("*"):
        if path.is_file():
            assert gh.token.encode() not in path.read_bytes(), path


def test_scope_names_the_organization() -> None:
    assert GitHubCollector.scope(GitHubConfig(org=ORG)) == [("GitHub organization", ORG)]
    assert GitHubCollector.scope(None) == []
