"""An HTML error page never reaches a finding whole: its title does."""

from __future__ import annotations

from evidence.errortext import MAX_CHARS, plain_error

FLASK_404 = """404: <!doctype html>
<html lang=en>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling.</p>
"""


def test_an_html_page_becomes_its_title_after_what_came_before() -> None:
    assert plain_error(FLASK_404) == "404: HTML error page: 404 Not Found"
    assert plain_error("<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>") == \
        "HTML error page: 502 Bad Gateway"
    assert plain_error("<HTML><BODY>no heading</BODY></HTML>") == "an HTML error page"


def test_plain_text_is_kept_and_bounded() -> None:
    assert plain_error("User: arn:aws:iam::1:user/x is not authorized <to> do y") == \
        "User: arn:aws:iam::1:user/x is not authorized <to> do y"
    long = "x" * (MAX_CHARS * 3)
    assert len(plain_error(long)) == MAX_CHARS and plain_error(long).endswith("…")
