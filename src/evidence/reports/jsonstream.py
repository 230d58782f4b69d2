"""JSON written as `json.dumps(value, indent=2, ensure_ascii=False)` would write it, except that
the arrays marked as `Stream` are produced, and written, one item at a time: a document of any
size is written without being held in memory.

The items are encoded by orjson, ten times faster than the standard library's encoder (whose
indenting encoder is pure Python), with the same bytes for everything these documents hold:
strings, integers, booleans, null, objects and arrays (a float below 1e-4 would be written
`0.00001` rather than `1e-05`: the same number). An integer beyond 64 bits, which orjson
refuses, is written by the standard library instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import orjson


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, indent=2, ensure_ascii=False)


class Stream:
    """A JSON array whose items are produced, and written, one at a time (never held as a list)."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def _has_stream(value: Any) -> bool:
    if isinstance(value, Stream):
        return True
    if isinstance(value, dict):
        return any(_has_stream(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_stream(v) for v in value)
    return False


def dump(value: Any, level: int, write: Callable[[str], object]) -> None:
    """Write `value` as `json.dumps(value, indent=2, ensure_ascii=False)` would at nesting
    `level`, with every `Stream` in it written as an array, item by item."""
    pad = "\n" + "  " * level
    if not _has_stream(value):
        # a JSON string never holds a raw newline, so every newline starts a line to indent
        write(_dumps(value).replace("\n", pad))
        return
    inner = pad + "  "
    if isinstance(value, dict):
        write("{")
        for i, (key, item) in enumerate(value.items()):
            write(("," if i else "") + inner + json.dumps(key, ensure_ascii=False) + ": ")
            dump(item, level + 1, write)
        write(pad + "}")  # not empty: it holds a stream
        return
    items = value.items if isinstance(value, Stream) else value
    write("[")
    empty = True
    for item in items:
        write(inner if empty else "," + inner)
        empty = False
        dump(item, level + 1, write)
    write("]" if empty else pad + "]")


def materialize(value: Any) -> Any:
    if isinstance(value, Stream):
        return [materialize(v) for v in value.items]
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v) for v in value]
    return value
