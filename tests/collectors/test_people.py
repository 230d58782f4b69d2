"""The people collector: the roster validated before any API call (exit 2, one line naming the
row), recorded in the bundle with its digest, and the history's sightings of leavers' accounts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.cli import cli
from evidence.collectors.base import Sink
from evidence.collectors.people import PeopleCollector, read_sightings
from evidence.config import ConfigError, load_config, parse_config
from evidence.models import Status
from evidence.records import EvidenceWriter
from evidence.registry import Registry
from evidence.reports.content import load_bundle
from evidence.reports.scope import scope_rows
from evidence.sources.people import LEAVERS_WORKSPACE, ROSTER, SIGHTINGS, parse_roster, sighting_key
from tests.checks.peoplerun import ADMIN, Company, at, catalog_with, user
from tests.fakes.google_workspace import FakeWorkspace

ROWS = ("ann@zaptic.example,active,,ann-gh,ann,", "bob@zaptic.example,left,2026-11-02,bobby,,")


@pytest.fixture
def workspace() -> Iterator[FakeWorkspace]:
    with FakeWorkspace([user(ADMIN, isAdmin=True), user("ann@zaptic.example")]) as ws:
        yield ws


@pytest.fixture
def company(tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch, workspace: FakeWorkspace) -> Company:
    co = Company(tmp_path / "company", registry, monkeypatch, workspace)
    catalog_with(co.catalog, {LEAVERS_WORKSPACE: {}, "people.orphan_workspace_users": {}})
    return co


def collect(company: Company, tmp_path: Path) -> EvidenceWriter:
    config = load_config(company.config_file())
    collector = PeopleCollector(config)
    assert collector.not_configured() is None
    writer = EvidenceWriter(tmp_path / "bundle")
    collector.collect(Sink(writer), frozenset({ROSTER, SIGHTINGS}))
    return writer


def test_the_roster_is_recorded_with_its_digest_and_text(company: Company, tmp_path: Path) -> None:
    company.roster(*ROWS)
    raw = (company.folder / "people.csv").read_bytes()
    writer = collect(company, tmp_path)
    [entry] = writer.index().entries_for(ROSTER)
    record = writer.index().load(entry).record
    assert (record.source, record.key, record.subject, record.parameters) == (
        "people", ROSTER, "people.csv", {"roster": "people.csv"})
    assert record.response["sha256"] == parse_roster(raw).sha256 and len(record.response["sha256"]) == 64
    assert record.response["text"] == raw.decode()  # the roster itself is in the bundle
    assert [p["email"] for p in record.response["people"]] == ["ann@zaptic.example", "bob@zaptic.example"]
    assert record.response["people"][1] == {
        "email": "bob@zaptic.example", "status": "left", "left_on": "2026-11-02", "github_login": "bobby",
        "aws_iam_users": [], "aliases": [], "line": 3}
    [history] = writer.index().entries_for(SIGHTINGS)
    assert writer.index().load(history).response == {
        "file": str(company.out / "history.sqlite"), "runs": 0, "first_run_at": None, "sightings": {}}


def test_the_roster_digest_is_in_the_manifest_scope(company: Company) -> None:
    company.roster(*ROWS)
    result = company.run(at("2026-11-09"), only={"google_workspace", "people"}, record=False)
    rows = dict(map(tuple, result.manifest["scope"]["details"]["people"]["rows"]))
    digest = parse_roster((company.folder / "people.csv").read_bytes()).sha256
    assert rows == {"Roster": "people.csv", "Roster SHA-256": digest, "People": "1 active, 1 left"}
    assert result.bundle is not None  # the configuration as recorded is the section as written
    recorded = json.loads((result.bundle / "config.json").read_text(encoding="utf-8"))
    assert recorded["people"] == {"roster": "people.csv", "history": None}
    # the report's cover shows the digest
    assert ("Roster SHA-256", digest) in scope_rows(load_bundle(result.bundle))


def test_no_people_section_is_not_configured() -> None:
    assert PeopleCollector(parse_config({})).not_configured() == (
        'no [people] section in the configuration (roster = "people.csv")')


def test_a_missing_roster_file_is_a_configuration_error(tmp_path: Path) -> None:
    config = load_config(_toml(tmp_path, '[people]\nroster = "nowhere.csv"\n'))
    with pytest.raises(ConfigError, match=r"people.roster .*nowhere.csv: file not found"):
        PeopleCollector(config).not_configured()


def _toml(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "evidence.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- acceptance 5: a bad roster is exit 2, naming the row, before any API call -------------------


@pytest.mark.parametrize(("row", "expected"), [
    ("bob@zaptic.example,left,2026-11-31,,,", "line 3: left_on '2026-11-31' is not a date (YYYY-MM-DD)"),
    ("Ann@Zaptic.example,left,2026-11-02,,,", "line 3: duplicate email 'Ann@Zaptic.example' (also on line 2)"),
    ("bob@zaptic.example,retired,,,,", "line 3: status 'retired' is not one of active, left"),
])
def test_a_bad_roster_is_exit_2_naming_the_row_before_any_api_call(
    company: Company, workspace: FakeWorkspace, row: str, expected: str,
) -> None:
    company.roster(ROWS[0], row)
    config = company.config_file()
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--catalog", str(company.catalog),
                                      "--only", "google_workspace,people", "--quiet"])
    assert result.exit_code == 2, result.output
    roster = company.folder / "people.csv"
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert [line for line in lines if expected in line] == [line for line in lines if "people.csv" in line]
    assert any(f"people.roster {roster}: {expected}" in line for line in lines), lines
    assert workspace.requests == []  # refused before the Workspace collector made any call
    assert not (company.out / "history.sqlite").exists()


# --- the history's sightings ------------------------------------------------------------------------


def test_sightings_give_the_last_run_that_saw_an_account_active_and_the_first_that_saw_it_removed(
    company: Company, workspace: FakeWorkspace, tmp_path: Path,
) -> None:
    company.roster(f"{ADMIN},active,,,,", "bob@zaptic.example,left,2026-11-02,,,")
    workspace.users.append({**user("bob@zaptic.example"), "customerId": workspace.customer_key})
    gw = {"google_workspace", "people"}
    first = company.run(at("2026-11-03"), only=gw)
    second = company.run(at("2026-11-04"), only=gw)
    workspace.users[-1]["suspended"] = True
    third = company.run(at("2026-11-05"), only=gw)
    fourth = company.run(at("2026-11-06"), only=gw)
    roster = parse_roster((company.folder / "people.csv").read_bytes())
    history = company.out / "history.sqlite"

    found = read_sightings(history, roster, "2026-11-07T00:00:00+00:00")
    assert found["runs"] == 4 and found["first_run_at"] == "2026-11-03T09:00:00Z"
    assert found["sightings"] == {sighting_key(LEAVERS_WORKSPACE, "bob@zaptic.example"): {
        "last_active": {"at": "2026-11-04T09:00:00Z", "run_id": second.run_id},
        "first_removed": {"at": "2026-11-05T09:00:00Z", "run_id": third.run_id},
    }}
    # the fourth run dated the removal from the history: between the second and the third run
    [bob] = [f for f in fourth.findings if f.check_id == LEAVERS_WORKSPACE and f.resource_id.startswith("bob")]
    assert bob.status is Status.FAIL  # still active on the 4th, two days after leaving: removed late
    assert bob.observed["last_seen_active"] == {"at": "2026-11-04T09:00:00Z", "run_id": second.run_id}
    assert bob.observed["removed_by"] == {"at": "2026-11-05T09:00:00Z", "run_id": third.run_id}
    # only runs before this run's reference time count (a backfill does not see the future)
    early = read_sightings(history, roster, "2026-11-04T09:00:00+00:00")
    assert early["runs"] == 1 and early["sightings"][sighting_key(LEAVERS_WORKSPACE, "bob@zaptic.example")] == {
        "last_active": {"at": "2026-11-03T09:00:00Z", "run_id": first.run_id}, "first_removed": None}


def test_an_unreadable_history_is_a_failed_record_not_an_empty_history(company: Company, tmp_path: Path) -> None:
    company.roster(*ROWS)
    company.out.mkdir(parents=True)
    (company.out / "history.sqlite").write_bytes(b"this is not a database" * 100)
    writer = collect(company, tmp_path)
    [entry] = writer.index().entries_for(SIGHTINGS)
    error = writer.index().load(entry).record.error
    assert not entry.ok and error is not None and error.code == "HistoryUnreadable"
    assert "cannot read the history file" in error.message


def test_a_run_whose_history_cannot_be_read_is_an_error_not_a_pass(company: Company) -> None:
    company.roster(f"{ADMIN},active,,,,", "ann@zaptic.example,active,,,,", "bob@zaptic.example,left,2026-11-02,,,")
    company.out.mkdir(parents=True)
    sqlite3.connect(company.out / "history.sqlite").close()  # an empty database: no runs table
    result = company.run(at("2026-11-09"), only={"google_workspace", "people"}, record=False)
    bob = [f for f in result.findings if f.check_id == LEAVERS_WORKSPACE]
    assert any(f.status is Status.ERROR and "people.Sightings" in f.message for f in bob)
    assert next(v for v in result.verdicts if v.control_id == "ACCESS-LIFECYCLE").verdict is Status.ERROR


def test_an_access_review_record_naming_a_file_outside_the_store_is_refused(tmp_path: Path) -> None:
    import hashlib
    import json

    import pytest

    from evidence.collectors.people import read_access_review
    from evidence.sources.people import REVIEW_CONTROL, REVIEW_REQUIREMENT

    outside = tmp_path / "outside.csv"
    outside.write_text("system,account,decision\n", encoding="utf-8")
    store = tmp_path / "out" / "attachments"
    (store / "records").mkdir(parents=True)
    att = {"control_id": REVIEW_CONTROL, "requirement": REVIEW_REQUIREMENT, "attached_at": "2026-11-09T10:00:00Z",
           "sha256": hashlib.sha256(outside.read_bytes()).hexdigest(), "attached_by": "Mallory",
           "valid_until": "2027-02-09", "path": "attachments/x"}
    (store / "records" / "r.json").write_text(json.dumps(
        {"attachment": att, "file": "../../outside.csv", "original_name": "q4.csv"}), encoding="utf-8")

    with pytest.raises(ValueError, match="lies outside the attachment store"):
        read_access_review(store)
