"""Values for CSV files auditors open in spreadsheets."""

from __future__ import annotations

import json
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A value as CSV cell text; one a spreadsheet would run as a formula is quoted with a
    leading apostrophe (OWASP "CSV injection")."""
    text = value if isinstance(value, str) else "" if value is None else json.dumps(
        value, sort_keys=True, ensure_ascii=False
    )
    return "'" + text if text[:1] in _FORMULA_START else text
