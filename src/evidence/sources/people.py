"""People, as both sides see them: the HR roster (`[people] roster = "people.csv"`), the evidence
keys the people collector records, and the ids of the checks whose findings make the history of
each leaver's accounts.

The roster is a CSV export with the columns

    email, status (active | left), left_on (YYYY-MM-DD, required when left)
    [, github_login, aws_iam_users (a;b), aliases (a@x;b@x)]

It is validated like configuration: `parse_roster` gives a `Roster`, or raises `RosterError`, one
line naming the file and the line of the row (a spreadsheet's row number) and what to fix; never
another exception, whatever the text (a property test feeds it arbitrary text).

Pure: no I/O.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SOURCE = "people"
SERVICE = "people"
#: evidence key: the roster as read (its digest, its text and the people parsed from it)
ROSTER = "people.Roster"
#: evidence key: what earlier runs saw of each leaver's accounts (from `<out>/history.sqlite`)
SIGHTINGS = "people.Sightings"

#: the offboarding checks: their findings' `observed.state` ("active" / "removed") is the history
#: the next run's `people.Sightings` is read from
LEAVERS_WORKSPACE = "people.leavers_workspace_removed"
LEAVERS_GITHUB = "people.leavers_github_removed"
LEAVERS_IAM = "people.leavers_iam_removed"
OFFBOARDING_CHECKS = (LEAVERS_WORKSPACE, LEAVERS_GITHUB, LEAVERS_IAM)
#: `observed.state` of an offboarding finding
ACTIVE, REMOVED = "active", "removed"

REQUIRED_COLUMNS = ("email", "status", "left_on")
OPTIONAL_COLUMNS = ("github_login", "aws_iam_users", "aliases")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
STATUSES = ("active", "left")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
#: a GitHub login: alphanumerics and single hyphens, at most 39 characters
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
#: an IAM user name: `[\w+=,.@-]`, 1 to 64 characters
_IAM_USER = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")


class RosterError(ValueError):
    """A mistake in the roster: one line naming the file, the line and what to fix."""


@dataclass(frozen=True)
class Person:
    """One row of the roster. `email`, `github_login`, the IAM user names and the aliases are
    kept as written; they are compared case-insensitively (IAM user names are unique
    case-insensitively too)."""

    email: str
    status: str
    left_on: date | None
    line: int
    github_login: str = ""
    aws_iam_users: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def left(self) -> bool:
        return self.status == "left"

    def emails(self) -> list[str]:
        """The person's primary email and aliases, lower-cased."""
        return [self.email.lower(), *(a.lower() for a in self.aliases)]

    def as_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "status": self.status,
            "left_on": self.left_on.isoformat() if self.left_on else None,
            "github_login": self.github_login,
            "aws_iam_users": list(self.aws_iam_users),
            "aliases": list(self.aliases),
            "line": self.line,
        }


@dataclass(frozen=True)
class Roster:
    people: tuple[Person, ...]
    #: SHA-256 of the file's bytes, as read
    sha256: str
    columns: tuple[str, ...] = field(default=REQUIRED_COLUMNS)

    @property
    def leavers(self) -> list[Person]:
        return [p for p in self.people if p.left]

    @property
    def active(self) -> list[Person]:
        return [p for p in self.people if not p.left]


def _shown(value: str) -> str:
    """A roster value quoted in an error message (cut short: a message is one line)."""
    text = value if len(value) <= 40 else value[:37] + "..."
    return repr(text)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _rows(text: str, label: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, its fields); csv errors as a `RosterError`."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RosterError(f"{label}: line {start}: not a readable CSV row ({exc})") from None
        yield start, row
        start = reader.line_num + 1


def _header(fields: list[str], label: str) -> list[str]:
    names = [f.strip().lower() for f in fields]
    seen: set[str] = set()
    for name in names:
        if name not in COLUMNS:
            shown = _shown(name) if name else "an empty column name"
            raise RosterError(f"{label}: line 1: unknown column {shown} (columns: {', '.join(COLUMNS)})")
        if name in seen:
            raise RosterError(f"{label}: line 1: column '{name}' appears twice")
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise RosterError(f"{label}: line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                          f"(the header must name at least {', '.join(REQUIRED_COLUMNS)})")
    return names


def _person(line: int, row: Mapping[str, str], where: str) -> Person:
    email = row.get("email", "").strip()
    if not email:
        raise RosterError(f"{where}: email is empty")
    if not _EMAIL.match(email):
        raise RosterError(f"{where}: email {_shown(email)} is not an email address")
    status = row.get("status", "").strip().lower()
    if status not in STATUSES:
        raise RosterError(f"{where}: status {_shown(row.get('status', ''))} is not one of {', '.join(STATUSES)}")
    raw_date = row.get("left_on", "").strip()
    left_on: date | None = None
    if raw_date:
        try:
            if not _DATE.match(raw_date):
                raise ValueError
            left_on = date.fromisoformat(raw_date)
        except ValueError:
            raise RosterError(f"{where}: left_on {_shown(raw_date)} is not a date (YYYY-MM-DD)") from None
    elif status == "left":
        raise RosterError(f"{where}: left_on is empty, but status is left (give the date they left, YYYY-MM-DD)")
    login = row.get("github_login", "").strip()
    if login and not _GITHUB_LOGIN.match(login):
        raise RosterError(f"{where}: github_login {_shown(login)} is not a GitHub login")
    iam_users = _split(row.get("aws_iam_users", ""))
    for name in iam_users:
        if not _IAM_USER.match(name):
            raise RosterError(f"{where}: aws_iam_users: {_shown(name)} is not an IAM user name")
    aliases = _split(row.get("aliases", ""))
    for alias in aliases:
        if not _EMAIL.match(alias):
            raise RosterError(f"{where}: aliases: {_shown(alias)} is not an email address")
    return Person(email=email, status=status, left_on=left_on, line=line, github_login=login,
                  aws_iam_users=tuple(iam_users), aliases=tuple(aliases))


def parse_roster(data: bytes | str, label: str = "roster") -> Roster:
    """The roster in `data` (the file's bytes; `label` names it in errors), or `RosterError`."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(f"{label}: not UTF-8 text (byte {exc.start}); export the roster as UTF-8 CSV") from None
    if "\x00" in text:
        raise RosterError(f"{label}: line {text[:text.index(chr(0))].count(chr(10)) + 1}: holds a NUL byte; "
                          "not a CSV export")
    rows = _rows(text, label)
    first = next(rows, None)
    if first is None or not any(f.strip() for f in first[1]):
        raise RosterError(f"{label}: line 1: no header row (expected the columns {', '.join(COLUMNS)})")
    names = _header(first[1], label)
    people: list[Person] = []
    owners: dict[tuple[str, str], Person] = {}

    def claim(kind: str, value: str, person: Person, where: str) -> None:
        """`value` (an email, login or IAM user) names one person only."""
        key = ("email" if kind in ("email", "alias") else kind, value.lower())
        other = owners.get(key)
        if other is not None and other is not person:
            what = {"email": "email", "alias": "alias", "github_login": "github_login",
                    "aws_iam_users": "IAM user"}[kind]
            raise RosterError(f"{where}: duplicate {what} {_shown(value)} (also on line {other.line})")
        owners[key] = person

    for line, fields in rows:
        if not any(f.strip() for f in fields):
            continue  # a blank line
        where = f"{label}: line {line}"
        if len(fields) > len(names):
            raise RosterError(f"{where}: {len(fields)} fields, but the header names {len(names)} columns")
        row = dict(zip(names, fields, strict=False))
        person = _person(line, row, where)
        claim("email", person.email, person, where)
        for alias in person.aliases:
            if alias.lower() != person.email.lower():
                claim("alias", alias, person, where)
        if person.github_login:
            claim("github_login", person.github_login, person, where)
        for name in {n.lower(): n for n in reversed(person.aws_iam_users)}.values():
            claim("aws_iam_users", name, person, where)
        people.append(person)
    return Roster(people=tuple(people), sha256=digest, columns=tuple(names))


def roster_response(roster: Roster, text: str, file: str) -> dict[str, Any]:
    """The `people.Roster` record's response: the file's name, digest and text (the roster is
    copied into the bundle this way), and the people parsed from it."""
    return {
        "file": file,
        "sha256": roster.sha256,
        "columns": list(roster.columns),
        "text": text,
        "people": [p.as_json() for p in roster.people],
    }


def sighting_key(check_id: str, email: str) -> str:
    """How `people.Sightings` names one leaver's accounts in one system."""
    return f"{check_id}|{email.lower()}"


# --- the access review worksheet (`evidence access-review start|complete`) ----------------------

#: evidence key: the latest completed access review (ACCESS-LIFECYCLE's `access-review` manual
#: evidence, from `<out>/attachments`) and its `revoke` rows, for `people.access_review_revocations`
ACCESS_REVIEW = "people.AccessReview"
REVIEW_CONTROL = "ACCESS-LIFECYCLE"
REVIEW_REQUIREMENT = "access-review"
#: the systems as the worksheet (and the people checks' messages) name them
SYSTEM_WORKSPACE, SYSTEM_GITHUB, SYSTEM_IAM = "Google Workspace", "GitHub", "AWS IAM"
SYSTEMS = (SYSTEM_WORKSPACE, SYSTEM_GITHUB, SYSTEM_IAM)
#: the columns that describe the population: what the run recorded, which the reviewer may not edit
REVIEW_POPULATION = ("system", "account", "person", "last_activity", "admin_or_owner", "run_id")
REVIEW_COLUMNS = (*REVIEW_POPULATION, "row_digest", "decision", "note")
DECISIONS = ("keep", "revoke")


class WorksheetError(ValueError):
    """A worksheet that cannot be read: one line naming the file, the line and what to fix."""


def review_row_digest(row: Mapping[str, str]) -> str:
    """SHA-256 of a worksheet row's population fields (so an edit to any of them shows)."""
    values = [row.get(name, "") for name in REVIEW_POPULATION]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReviewRow:
    """One row of a worksheet: the line it starts on (a spreadsheet's row number) and its fields."""

    line: int
    fields: dict[str, str]

    @property
    def system(self) -> str:
        return self.fields.get("system", "")

    @property
    def account(self) -> str:
        return self.fields.get("account", "")

    @property
    def decision(self) -> str:
        return self.fields.get("decision", "").strip().lower()

    def key(self) -> tuple[str, str]:
        return self.system, self.account.lower()

    def label(self) -> str:
        return f"line {self.line} ({self.system} account {self.account or '(empty)'})"


def parse_worksheet(data: bytes | str, label: str = "worksheet") -> list[ReviewRow]:
    """The rows of an access review worksheet (the header must name `REVIEW_COLUMNS`), or
    `WorksheetError`. Values are kept as written."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorksheetError(f"{label}: not UTF-8 text (byte {exc.start}); save the worksheet as UTF-8 CSV") from None
    if "\x00" in text:
        raise WorksheetError(f"{label}: holds a NUL byte; not a CSV worksheet")
    reader = _rows(text, label)
    try:
        first = next(reader, None)
        if first is None:
            raise WorksheetError(f"{label}: line 1: no header row (expected {', '.join(REVIEW_COLUMNS)})")
        names = [f.strip().lower() for f in first[1]]
        if sorted(names) != sorted(REVIEW_COLUMNS):
            raise WorksheetError(f"{label}: line 1: the header must name the columns {', '.join(REVIEW_COLUMNS)} "
                                 f"(found {', '.join(names) or 'none'})")
        rows: list[ReviewRow] = []
        for line, fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(names):
                raise WorksheetError(f"{label}: line {line}: {len(fields)} fields, but the header names "
                                     f"{len(names)} columns")
            rows.append(ReviewRow(line, dict(zip(names, fields, strict=True))))
    except RosterError as exc:  # a CSV error, as `_rows` words it
        raise WorksheetError(str(exc)) from None
    return rows
