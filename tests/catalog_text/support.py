"""Helpers of the from-text tests: the seed text, the shipped catalog, the registry's parameter models."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from evidence.checks.params import Params
from evidence.demo.catalog import demo_overview
from evidence.registry import Registry

#: the seed beside this checkout (../shared/seed), when there is one
SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "security-overview-and-privacy-notice.txt"


def seed_text() -> str:
    """The seed text: from ../shared/seed when present, else the demo's copy of it (always shipped)."""
    return (SEED if SEED.is_file() else demo_overview()).read_text(encoding="utf-8")


def require_seed() -> Path:
    if not SEED.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"seed text missing at {SEED}")
        pytest.skip("seed text not beside this checkout")
    return SEED


def param_models(registry: Registry) -> Mapping[str, type[Params]]:
    return {cid: c.param_model for cid, c in registry.checks.items()}
