"""How deeply a JSON file nests, found without building it: a bound checked before a streamed
parse. (ijson's prefixed parsers build a prefix per level, so a document nested 100,000 deep
costs them time and memory quadratic in its depth; `json` raises `RecursionError`.)"""

from __future__ import annotations

from pathlib import Path

import ijson

#: deeper than anything evidence writes or any API returns (AWS's deepest shapes nest ~12)
MAX_DEPTH = 256

_OPEN = frozenset(("start_map", "start_array"))
_CLOSE = frozenset(("end_map", "end_array"))


class TooDeep(ValueError):
    """A JSON document nested deeper than `MAX_DEPTH`."""


def check_depth(path: Path, limit: int = MAX_DEPTH) -> None:
    """Raise `TooDeep` if `path` nests more than `limit` levels (read as a stream, in bounded
    memory); a syntax error is left to the parse that follows (ijson raises it there too)."""
    depth = 0
    with path.open("rb") as fh:
        try:
            for event, _ in ijson.basic_parse(fh, use_float=True):
                if event in _OPEN:
                    depth += 1
                    if depth > limit:
                        raise TooDeep(f"nested more than {limit} levels deep")
                elif event in _CLOSE:
                    depth -= 1
        except ijson.JSONError:
            return


__all__ = ["MAX_DEPTH", "TooDeep", "check_depth"]
