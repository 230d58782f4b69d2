"""Parameter values read from the sentences a rule matched, by the rules' extractors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evidence.catalog_text.rules import Extractor, Place


@dataclass(frozen=True)
class Extracted:
    """A value and the words it was read from (empty when it is the extractor's default)."""

    name: str
    value: Any
    words: str = ""
    #: the sentence it was read from (its number), 0 for a default
    sentence: int = 0


def extract(extractor: Extractor, sentences: Sequence[tuple[int, str]], places: Sequence[Place]) -> Extracted | None:
    """The value of `extractor` in the first sentence that states one, else its default (None
    when it has none). `sentences` are (number, text)."""
    for number, text in sentences:
        found = _regions(text, places) if extractor.type == "regions" else _values(extractor, text)
        if found:
            if extractor.type == "regions":
                regions: list[str] = []
                for _, value in found:
                    regions += [r for r in value if r not in regions]
                return Extracted(extractor.name, regions, ", ".join(w for w, _ in found), number)
            words, value = _pick(extractor, found)
            return Extracted(extractor.name, value, words, number)
    if extractor.default is None:
        return None
    return Extracted(extractor.name, extractor.default)


def _values(extractor: Extractor, text: str) -> list[tuple[str, Any]]:
    found: list[tuple[int, str, Any]] = []
    for pattern in extractor.patterns:
        for m in pattern.regex.finditer(text):
            raw = m.group(1)
            if raw is None:
                continue
            if extractor.type == "int":
                if not raw.isdigit():
                    continue
                found.append((m.start(), m.group(0), int(raw)))
            else:
                found.append((m.start(), m.group(0), raw))
    for pattern, value in extractor.words:
        for m in pattern.regex.finditer(text):
            found.append((m.start(), m.group(0), value))
    found.sort(key=lambda f: f[0])
    return [(words, value) for _, words, value in found]


def _pick(extractor: Extractor, found: list[tuple[str, Any]]) -> tuple[str, Any]:
    if extractor.pick == "first":
        return found[0]
    try:
        chosen = min(found, key=lambda f: f[1]) if extractor.pick == "min" else max(found, key=lambda f: f[1])
    except TypeError:  # values of different types (a misfit `words` entry): the first stated
        return found[0]
    return chosen


def _regions(text: str, places: Sequence[Place]) -> list[tuple[str, tuple[str, ...]]]:
    """The places named in `text` (words, regions), the narrowest where one lies inside another."""
    named: list[tuple[int, str, tuple[str, ...]]] = []
    for place in places:
        for m in place.pattern.regex.finditer(text):
            named.append((m.start(), m.group(0), place.regions))
    named.sort(key=lambda n: n[0])
    kept = [n for n in named if not any(set(o[2]) < set(n[2]) for o in named)]
    return [(words, regions) for _, words, regions in kept]
