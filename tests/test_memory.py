"""The malloc arena cap: applied on Linux with glibc, nothing elsewhere."""

from __future__ import annotations

import platform
import sys

import pytest

from evidence import memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc's mallopt and malloc_trim")
def test_on_glibc_the_arenas_are_capped() -> None:
    assert memory.limit_malloc_arenas() is True


def test_elsewhere_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.limit_malloc_arenas() is False
