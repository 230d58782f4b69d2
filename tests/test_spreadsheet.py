"""CSV cells: what a spreadsheet would run as a formula is defused (OWASP "CSV injection")."""

from __future__ import annotations

from typing import Any

import pytest

from evidence.spreadsheet import cell


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        (None, ""),
        (3, "3"),
        (-3, "'-3"),
        ({"b": 1, "a": "é"}, '{"a": "é", "b": 1}'),
        (["=x"], '["=x"]'),
    ],
)
def test_cell(value: Any, text: str) -> None:
    assert cell(value) == text
