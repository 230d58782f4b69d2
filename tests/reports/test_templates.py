"""The Jinja environment of the reports: escaping, strictness and the filters the templates use."""

from __future__ import annotations

import jinja2
import pytest

from evidence.reports.templates import PDF_MAX_VALUE_CHARS, css_string, environment


def test_css_string_escapes_every_character_but_plain_text() -> None:
    assert css_string("Example Co. (2026-Q4): a_b; c/d, e") == "Example Co. (2026-Q4): a_b; c/d, e"
    assert css_string('A "q" <b> & \\') == "A \\22 q\\22  \\3c b\\3e  \\26  \\5c "
    assert css_string(42) == "42"


def test_environment_escapes_html_refuses_undefined_names_and_has_the_filters() -> None:
    env = environment()
    assert env.from_string("{{ v }}").render(v="<b>&") == "&lt;b&gt;&amp;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.filters["n"](1234567) == "1,234,567"
    assert env.filters["truncate_pdf"]("x" * PDF_MAX_VALUE_CHARS) == "x" * PDF_MAX_VALUE_CHARS
    assert env.filters["truncate_pdf"]("x" * (PDF_MAX_VALUE_CHARS + 1)) == (
        "x" * PDF_MAX_VALUE_CHARS + "… (cut; the whole value is in report.html and findings.json)"
    )
    assert env.get_template("report.html.j2") is not None
