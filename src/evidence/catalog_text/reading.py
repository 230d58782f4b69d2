"""An overview's text as paragraphs, each with the section (the headings above it) it sits in.

Plain text: a short line without closing punctuation that opens a block is a heading; a heading
followed straight by another heading groups the ones below it ("System Security" over "Servers
and Networking"). HTML: the tags are stripped with the standard library's parser, h1-h6 are the
headings, and block elements (p, li, div, br...) end a paragraph. Nothing is fetched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

_BULLET = re.compile(r"^\s*(?:[-–—•*·▪◦]|\d{1,2}[.)])\s+")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class Paragraph:
    text: str
    section: str


def clean(text: str) -> str:
    """Text safe to write anywhere: lone surrogates (undecodable input) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def is_html(text: str, name: str = "") -> bool:
    if name.lower().endswith((".html", ".htm", ".xhtml")):
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in head


def read_overview(path: Path) -> list[Paragraph]:
    """The paragraphs of a text or HTML file (UTF-8; a byte-order mark is dropped)."""
    text = path.read_text(encoding="utf-8-sig")
    return paragraphs_of(text, html=is_html(text, path.name))


def paragraphs_of(text: str, *, html: bool = False) -> list[Paragraph]:
    text = clean(text)
    return _html_paragraphs(text) if html else _text_paragraphs(text)


def _looks_like_heading(line: str) -> bool:
    line = line.strip()
    if not line or len(line) > 80 or len(line.split()) > 12 or _BULLET.match(line):
        return False
    if line[-1] in ".!?;:,\"”'’)" or _YEAR.search(line) or "@" in line or "://" in line:
        return False
    return line[0].isupper() or line[0].isdigit()


def _text_paragraphs(text: str) -> list[Paragraph]:
    # blocks are separated by blank lines; in each block a leading heading line, then the text
    # (bulleted lines are paragraphs of their own, other lines are joined: wrapped text)
    items: list[tuple[str, str]] = []  # ("heading" | "text", text)
    block: list[str] = []
    for raw in [*text.splitlines(), ""]:
        if raw.strip():
            block.append(raw.strip())
            continue
        if not block:
            continue
        lines, block = block, []
        # a heading opens its block; a next line starting in lower case continues a wrapped sentence
        if _looks_like_heading(lines[0]) and (len(lines) == 1 or not lines[1][0].islower()):
            items.append(("heading", lines.pop(0)))
        current: list[str] = []
        for line in lines:
            if _BULLET.match(line):
                if current:
                    items.append(("text", " ".join(current)))
                current = []
                items.append(("text", _BULLET.sub("", line, count=1).strip()))
            else:
                current.append(line)
        if current:
            items.append(("text", " ".join(current)))
    paragraphs: list[Paragraph] = []
    groups: list[str] = []
    leaf = ""
    after_heading = False
    for n, (kind, value) in enumerate(items):
        if kind == "heading":
            followed_by_heading = n + 1 < len(items) and items[n + 1][0] == "heading"
            if followed_by_heading:
                groups = [*groups, value] if after_heading else [value]
                leaf = ""
            else:  # a leaf heading: under the group heading above it, as its siblings are
                leaf = value
            after_heading = True
            continue
        after_heading = False
        if value:
            paragraphs.append(Paragraph(value, " / ".join([*groups, leaf] if leaf else groups)))
    return paragraphs


_BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "br", "section", "article", "header", "footer", "main", "aside", "nav",
    "table", "tr", "td", "th", "blockquote", "dt", "dd", "dl", "pre", "hr", "figure", "figcaption", "form",
    "body", "html", "title",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _Stripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[Paragraph] = []
        self.trail: list[tuple[int, str]] = []
        self.text: list[str] = []
        self.heading: int | None = None
        self.skipping = 0

    def _flush(self) -> None:
        value = re.sub(r"\s+", " ", "".join(self.text)).strip()
        self.text = []
        if not value:
            return
        if self.heading is not None:
            self.trail = [(lvl, h) for lvl, h in self.trail if lvl < self.heading] + [(self.heading, value)]
        else:
            self.paragraphs.append(Paragraph(value, " / ".join(h for _, h in self.trail)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _HEADINGS:
            self._flush()
            self.heading = _HEADINGS[tag]
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _HEADINGS:
            self._flush()
            self.heading = None
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.text.append(data)


def _html_paragraphs(text: str) -> list[Paragraph]:
    parser = _Stripper()
    parser.feed(text)
    parser.close()
    parser.heading = None
    parser._flush()
    return parser.paragraphs
