"""Whether a sentence that no rule maps reads as a promise (`[promises]` of the rules)."""

from __future__ import annotations

from evidence.catalog_text.rules import Promises


def promise_words(sentence: str, promises: Promises) -> str | None:
    """The words that make `sentence` read as a promise, or None when it does not."""
    text = sentence.strip()
    if any(p.regex.search(text) for p in promises.unless):
        return None
    for pattern in promises.match:
        if m := pattern.regex.search(text):
            return m.group(0)
    return None
