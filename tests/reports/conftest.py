"""Bundles shared by the report tests: the demo's (run once per session) and a small one with
every status."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence.registry import Registry
from tests.reports.support import make_bundle, shared_demo_bundle


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bundle, public key) of the session's demo run."""
    return shared_demo_bundle(tmp_path_factory)


@pytest.fixture(scope="session")
def demo_bundle(demo: tuple[Path, Path]) -> Path:
    return demo[0]


@pytest.fixture
def bundle(tmp_path: Path, registry: Registry) -> Path:
    return make_bundle(tmp_path / "out", registry)
