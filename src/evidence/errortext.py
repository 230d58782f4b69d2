"""An error message fit for a finding: an HTML error page (a proxy's, an emulator's, a load
balancer's) is reduced to its title, never embedded whole; anything else is kept, bounded."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: longer messages are cut here: a finding says what went wrong, the record keeps the rest
MAX_CHARS = 500
_LOOKS_HTML = re.compile(r"<\s*(!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|title[\s>])", re.IGNORECASE)


class _Title(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: dict[str, list[str]] = {"title": [], "h1": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.parts and not self.parts[tag]:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.parts[self._in].append(data)


def plain_error(text: str) -> str:
    """`text`, or for an HTML page `HTML error page: <its title or first heading>`; at most
    `MAX_CHARS` characters, on one line when it was a page."""
    page = _LOOKS_HTML.search(text)
    if page is None:
        return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
    parser = _Title()
    parser.feed(text)
    parser.close()
    title = " ".join("".join(parser.parts["title"] or parser.parts["h1"]).split())
    before = " ".join(text[: page.start()].split()).rstrip(":").strip()
    said = f"HTML error page: {title[:200]}" if title else "an HTML error page"
    return f"{before}: {said}" if before else said


__all__ = ["MAX_CHARS", "plain_error"]
