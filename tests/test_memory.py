"""Handing freed memory back: applied on Linux with glibc, nothing elsewhere."""

from __future__ import annotations

import platform
import sys

import pytest

from evidence import memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc's mallopt and malloc_trim")
def test_on_glibc_the_arenas_are_capped_and_free_pages_released() -> None:
    assert memory.limit_malloc_arenas() is True
    # 80 MB in blocks small enough to come from the heap (not mmap), then freed: pages to return
    blocks = [bytearray(4000) for _ in range(20000)]
    del blocks
    assert memory.release_free_memory() is True


def test_elsewhere_both_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.limit_malloc_arenas() is False
    assert memory.release_free_memory() is False
