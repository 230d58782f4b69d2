"""The streaming JSON writer: the bytes `json.dumps(indent=2, ensure_ascii=False)` writes."""

from __future__ import annotations

import json
from typing import Any

from evidence.reports.jsonstream import Stream, dump, materialize


def test_streamed_json_matches_json_dumps_on_edge_values() -> None:
    def value() -> dict[str, Any]:
        return {"empty-stream": Stream(iter([])), "empty-dict": {}, "empty-list": [], "n": None,
                "stream": Stream(iter([{"x": [], "y": {"z": Stream(iter([1.5, "é\n\u2028\"\\"]))}}, 1, []])),
                "nested": [{"s": Stream(iter([]))}, {}, [Stream(iter([{}]))]], "last": "ünïcode"}

    out: list[str] = []
    dump(value(), 0, out.append)
    assert "".join(out) == json.dumps(materialize(value()), indent=2, ensure_ascii=False)
