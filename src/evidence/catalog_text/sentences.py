"""Paragraphs split into sentences, each kept verbatim with its section.

A sentence ends at `.`, `!` or `?` (and any closing quote or bracket) followed by white space
and a capital, a digit or an opening quote; not after a common abbreviation (e.g., i.e., etc.) or
an initial. A paragraph's first sentence of at most four words ("Log data.") is a run-in heading:
it joins the section of the sentences after it instead of being one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from evidence.catalog_text.reading import Paragraph

_END = re.compile(r"([.!?][\"”’')\]]*)\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "inc", "ltd", "vs", "no", "st", "approx", "incl",
                  "cf", "fig", "co", "corp", "u.s", "u.k", "jr", "sr"}


@dataclass(frozen=True)
class Sentence:
    #: 1-based position of the sentence in the overview
    number: int
    text: str
    section: str


def split_paragraph(text: str) -> list[str]:
    """`text` cut into sentences, each a verbatim slice (stripped of surrounding white space)."""
    pieces: list[str] = []
    start = 0
    for m in _END.finditer(text):
        before = text[start:m.start(1)]
        word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
        if m.group(1).startswith(".") and (word.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word)):
            continue
        pieces.append(text[start:m.end(1)].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def sentences_of(paragraphs: Iterable[Paragraph]) -> list[Sentence]:
    out: list[Sentence] = []
    for paragraph in paragraphs:
        pieces = split_paragraph(paragraph.text)
        section = paragraph.section
        if len(pieces) > 1 and pieces[0].endswith(".") and len(pieces[0].split()) <= 4 and pieces[0][0].isupper():
            run_in = pieces.pop(0).rstrip(".").strip()
            section = f"{section} / {run_in}" if section else run_in
        for piece in pieces:
            out.append(Sentence(len(out) + 1, piece, section))
    return out
