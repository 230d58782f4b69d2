"""The streaming JSON writer: the bytes `json.dumps(indent=2, ensure_ascii=False)` writes (its
items encoded by orjson)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.reports.jsonstream import Stream, dump, materialize


def test_streamed_json_matches_json_dumps_on_edge_values() -> None:
    def value() -> dict[str, Any]:
        return {"empty-stream": Stream(iter([])), "empty-dict": {}, "empty-list": [], "n": None,
                "stream": Stream(iter([{"x": [], "y": {"z": Stream(iter([1.5, "é\n\u2028\"\\"]))}}, 1, []])),
                "nested": [{"s": Stream(iter([]))}, {}, [Stream(iter([{}]))]], "last": "ünïcode"}

    out: list[str] = []
    dump(value(), 0, out.append)
    assert "".join(out) == json.dumps(materialize(value()), indent=2, ensure_ascii=False)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                     st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                     max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_what_the_documents_hold_is_written_as_the_standard_library_writes_it(value: Any) -> None:
    """Strings (control characters, quotes, non-ASCII, lone surrogates aside), integers (beyond
    64 bits too), booleans, null, objects and arrays: byte for byte what `json.dumps` writes,
    streamed or not."""
    out: list[str] = []
    dump(value, 1, out.append)
    assert "".join(out) == json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    streamed: list[str] = []
    dump({"items": Stream(iter([value, value]))}, 0, streamed.append)
    assert "".join(streamed) == json.dumps({"items": [value, value]}, indent=2, ensure_ascii=False)
