"""An overview read into sentences: verbatim, with the heading above them; HTML stripped."""

from __future__ import annotations

from evidence.catalog_text import paragraphs_of, sentences_of
from evidence.catalog_text.reading import is_html
from evidence.catalog_text.sentences import split_paragraph

TEXT = """Acme Trust Center

System Security

Servers and Networking
All traffic is encrypted in transit with TLS 1.3. Keys are 4096 bit RSA (e.g. for the API).

Backups
We keep point-in-time backups for
14 days, checked daily.
- Backups are encrypted.
- Restores are tested quarterly.
"""


def test_sentences_are_verbatim_with_their_section() -> None:
    sentences = sentences_of(paragraphs_of(TEXT))
    texts = [s.text for s in sentences]
    assert texts == [
        "All traffic is encrypted in transit with TLS 1.3.",
        "Keys are 4096 bit RSA (e.g. for the API).",
        "We keep point-in-time backups for 14 days, checked daily.",
        "Backups are encrypted.",
        "Restores are tested quarterly.",
    ]
    assert sentences[0].section == "Acme Trust Center / System Security / Servers and Networking"
    assert sentences[2].section == "Acme Trust Center / System Security / Backups"  # a sibling keeps the group above it
    assert [s.number for s in sentences] == [1, 2, 3, 4, 5]


def test_a_run_in_heading_joins_the_section() -> None:
    (sentence,) = sentences_of(paragraphs_of("Collection\n\nLog data. Our servers record every request in log files."))
    assert sentence.text == "Our servers record every request in log files."
    assert sentence.section == "Collection / Log data"


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    assert split_paragraph("We use e.g. Okta, etc. Then J. Smith reviews it. Done!") == [
        "We use e.g. Okta, etc. Then J. Smith reviews it.", "Done!"]
    assert split_paragraph('He said "we encrypt." Then we left.') == ['He said "we encrypt."', "Then we left."]


def test_html_is_stripped_with_headings_as_sections() -> None:
    html = """<!doctype html><html><head><title>Trust</title><style>p {color: red}</style></head>
    <body><h1>Acme Security</h1><script>var tls = "TLS 1.0";</script>
    <h2>Encryption</h2><p>All data is encrypted in transit with <b>TLS&nbsp;1.3</b> &amp; HSTS.</p>
    <h3>Certificates</h3><ul><li>Our TLS certificates are 4096-bit RSA.</li><li>Rotated yearly.</li></ul>
    <h2>Contact</h2><p>Email security@acme.example<br>any time.</p></body></html>"""
    assert is_html(html)
    sentences = sentences_of(paragraphs_of(html, html=True))
    assert [(s.text, s.section) for s in sentences] == [
        ("All data is encrypted in transit with TLS 1.3 & HSTS.", "Acme Security / Encryption"),
        ("Our TLS certificates are 4096-bit RSA.", "Acme Security / Encryption / Certificates"),
        ("Rotated yearly.", "Acme Security / Encryption / Certificates"),
        ("Email security@acme.example", "Acme Security / Contact"),
        ("any time.", "Acme Security / Contact"),
    ]


def test_html_is_told_by_name_or_content() -> None:
    assert is_html("plain", "page.HTML")
    assert is_html("  <html><body>x</body></html>")
    assert not is_html("We use TLS 1.2 <b>really</b>.", "overview.txt")
