"""The HR roster: parsed into people, or refused with one line naming the file and the line."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.sources.people import COLUMNS, Roster, RosterError, parse_roster

HEADER = "email,status,left_on,github_login,aws_iam_users,aliases\n"


def roster(*rows: str, header: str = HEADER) -> Roster:
    return parse_roster((header + "".join(r + "\n" for r in rows)).encode(), "people.csv")


def refused(text: str | bytes) -> str:
    with pytest.raises(RosterError) as exc:
        parse_roster(text.encode() if isinstance(text, str) else text, "people.csv")
    message = str(exc.value)
    assert "\n" not in message and message.startswith("people.csv: ")
    return message


def test_a_roster_parses_people_and_their_accounts() -> None:
    found = roster(
        "ann@zaptic.example,active,,ann-gh,ann;ann-admin,a.n@zaptic.example",
        "Bob@Zaptic.example,LEFT,2026-11-02,bobby,,",
        "",  # a blank line is skipped
        "cat@zaptic.example,active,,,,",
    )
    ann, bob, cat = found.people
    assert ann.email == "ann@zaptic.example" and not ann.left and ann.left_on is None
    assert ann.github_login == "ann-gh" and ann.aws_iam_users == ("ann", "ann-admin")
    assert ann.aliases == ("a.n@zaptic.example",)
    assert ann.emails() == ["ann@zaptic.example", "a.n@zaptic.example"]
    assert bob.left and bob.status == "left" and bob.left_on == date(2026, 11, 2) and bob.line == 3
    assert cat.line == 5
    assert [p.email for p in found.leavers] == ["Bob@Zaptic.example"]
    assert len(found.sha256) == 64


def test_the_optional_columns_may_be_left_out_in_any_order() -> None:
    found = roster("2026-01-31,left,dan@zaptic.example", header="left_on,status,email\n")
    assert found.people[0].left_on == date(2026, 1, 31) and found.people[0].github_login == ""


def test_a_byte_order_mark_and_crlf_lines_are_read() -> None:
    found = parse_roster(b"\xef\xbb\xbfemail,status,left_on\r\nann@x.example,active,\r\n", "people.csv")
    assert [p.email for p in found.people] == ["ann@x.example"]


@pytest.mark.parametrize(("text", "expected"), [
    (HEADER + "ann@x.example,active,,,,\nbob@x.example,left,2026-02-30,,,\n",
     "people.csv: line 3: left_on '2026-02-30' is not a date (YYYY-MM-DD)"),
    (HEADER + "bob@x.example,left,02/11/2026,,,\n", "line 2: left_on '02/11/2026' is not a date"),
    (HEADER + "bob@x.example,left,,,,\n", "line 2: left_on is empty, but status is left"),
    (HEADER + "ann@x.example,active,,,,\nAnn@X.example,left,2026-01-01,,,\n",
     "people.csv: line 3: duplicate email 'Ann@X.example' (also on line 2)"),
    (HEADER + "ann@x.example,active,,,,\nbob@x.example,active,,,,ann@x.example\n",
     "line 3: duplicate alias 'ann@x.example' (also on line 2)"),
    (HEADER + "ann@x.example,active,,gh,,\nbob@x.example,active,,GH,,\n", "line 3: duplicate github_login 'GH'"),
    (HEADER + "ann@x.example,active,,,u1,\nbob@x.example,active,,,U1,\n", "line 3: duplicate IAM user 'U1'"),
    (HEADER + "ann@x.example,gone,,,,\n", "people.csv: line 2: status 'gone' is not one of active, left"),
    (HEADER + "not-an-email,active,,,,\n", "line 2: email 'not-an-email' is not an email address"),
    (HEADER + ",active,,,,\n", "line 2: email is empty"),
    (HEADER + "ann@x.example,active,,-bad-,,\n", "line 2: github_login '-bad-' is not a GitHub login"),
    (HEADER + "ann@x.example,active,,,a b,\n", "line 2: aws_iam_users: 'a b' is not an IAM user name"),
    (HEADER + "ann@x.example,active,,,,,extra\n", "line 2: 7 fields, but the header names 6 columns"),
    ("email,status\n", "line 1: missing column left_on"),
    ("email,status,left_on,name\n", "line 1: unknown column 'name'"),
    ("email,status,left_on,email\n", "line 1: column 'email' appears twice"),
    ("", "line 1: no header row"),
    (HEADER + 'ann@x.example,active,,"unclosed\n', "line 2: not a readable CSV row"),
])
def test_a_mistake_is_one_line_naming_the_file_and_line(text: str, expected: str) -> None:
    assert expected in refused(text)


def test_text_that_is_not_utf8_is_refused() -> None:
    assert "not UTF-8 text" in refused(b"email,status,left_on\n\xff\xfe,active,\n")


def test_a_nul_byte_is_refused_naming_its_line() -> None:
    assert "line 2: holds a NUL byte" in refused(HEADER + "ann@x.example\x00,active,,,,\n")


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(),
    st.binary(),
    st.lists(st.lists(st.sampled_from([*COLUMNS, "", "x", "a@b", "left", "active", "2026-01-01", ";", '"', ",",
                                       "\n", "\r", "2026-99-01", "é", "\x00"]), max_size=8),
             max_size=6).map(lambda rows: HEADER + "\n".join(",".join(r) for r in rows)),
))
def test_any_text_is_a_roster_or_one_clear_line(data: str | bytes) -> None:
    try:
        found = parse_roster(data, "people.csv")
    except RosterError as exc:
        message = str(exc)
        assert message.startswith("people.csv: ") and "\n" not in message and "\r" not in message
        return
    emails = [p.email.lower() for p in found.people]
    assert len(emails) == len(set(emails))
    assert all(p.left_on is not None for p in found.leavers)
