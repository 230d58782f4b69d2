"""The people checks (issue 19): leavers' access removed everywhere and in time, and no orphan
account; through the real pipeline against the fake Workspace, the fake GitHub and moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from evidence.evaluate import evaluate
from evidence.models import Status
from evidence.registry import Registry
from tests.checks.peoplerun import (
    ADMIN,
    CONTROL,
    LEAVERS_GITHUB,
    LEAVERS_IAM,
    LEAVERS_WORKSPACE,
    ORPHAN_GITHUB,
    ORPHAN_IAM,
    ORPHAN_WORKSPACE,
    Company,
    at,
    catalog_with,
    findings,
    github,
    statuses,
    user,
    verdict,
)
from tests.fakes.github import FakeGitHub
from tests.fakes.google_workspace import FakeWorkspace

__all__ = ["github"]  # the fixture, used by the tests below

GW_GH = {"google_workspace", "github", "people"}
ANN, BOB = "ann@zaptic.example", "bob@zaptic.example"
PEOPLE_CHECKS: dict[str, dict[str, Any]] = {
    LEAVERS_WORKSPACE: {}, LEAVERS_GITHUB: {}, ORPHAN_WORKSPACE: {}, ORPHAN_GITHUB: {},
}


@pytest.fixture
def workspace() -> Iterator[FakeWorkspace]:
    with FakeWorkspace([user(ADMIN, isAdmin=True), user(ANN), user(BOB)]) as ws:
        yield ws
        ws.assert_served_payloads_valid()


@pytest.fixture
def company(tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch, workspace: FakeWorkspace,
            github: FakeGitHub) -> Company:
    github.add_member("ann-gh")
    github.add_member("bobby")
    co = Company(tmp_path / "company", registry, monkeypatch, workspace, github)
    catalog_with(co.catalog, PEOPLE_CHECKS)
    return co


def remove_bob(workspace: FakeWorkspace, github: FakeGitHub, *, suspend: bool = True, unmember: bool = True) -> None:
    if suspend:
        next(u for u in workspace.users if u["primaryEmail"] == BOB)["suspended"] = True
    if unmember:
        github.members.pop("bobby")


# --- acceptance 1: a leaver still active fails, naming the person, the system and the account -------


def test_a_leaver_still_in_workspace_and_github_fails_then_passes_once_removed(
    company: Company, workspace: FakeWorkspace, github: FakeGitHub,
) -> None:
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},left,2026-11-09,bobby,,")
    first = company.run(at("2026-11-09"), only=GW_GH)

    assert verdict(first) is Status.FAIL
    ws = findings(first, LEAVERS_WORKSPACE)
    assert ws[BOB].status is Status.FAIL, (ws[BOB].message, ws[BOB].observed)
    assert ws[BOB].message == (f"{BOB} (left on 2026-11-09) still has Google Workspace account {BOB} active: its "
                               "removal is due by 2026-11-10.")
    assert ws[BOB].observed["state"] == "active" and ws[BOB].resource_type == "GoogleWorkspace::User"
    gh = findings(first, LEAVERS_GITHUB)
    assert gh[BOB].status is Status.FAIL and "GitHub account bobby active" in gh[BOB].message
    assert gh[BOB].account == "zaptic"
    # the active people are not leavers: each is skipped, with why
    assert statuses(first, LEAVERS_WORKSPACE) == {ADMIN: Status.NOT_APPLICABLE, ANN: Status.NOT_APPLICABLE,
                                                  BOB: Status.FAIL}
    # bob's accounts belong to no active person: orphans too, named
    assert statuses(first, ORPHAN_GITHUB)["bobby"] is Status.FAIL
    assert "belongs to bob@zaptic.example, who left on 2026-11-09" in findings(first, ORPHAN_GITHUB)["bobby"].message

    remove_bob(workspace, github)
    second = company.run(at("2026-11-10"), only=GW_GH)

    assert verdict(second) is Status.PASS
    ws = findings(second, LEAVERS_WORKSPACE)
    assert ws[BOB].status is Status.PASS
    assert ws[BOB].observed["state"] == "removed" and ws[BOB].observed["accounts"][0]["suspended"] is True
    assert "between 2026-11-09T09:00:00Z" in ws[BOB].message  # the first run saw it still active
    assert findings(second, LEAVERS_GITHUB)[BOB].status is Status.PASS
    assert statuses(second, ORPHAN_GITHUB) == {"ann-gh": Status.PASS, "people.csv": Status.PASS}
    # the roster and the history are in the bundle: the evaluation re-judges alike, offline
    assert second.bundle is not None
    assert (second.bundle / "findings.json").read_text(encoding="utf-8") == evaluate(second.bundle, company.registry)[0]


def test_a_leaver_without_a_github_login_is_not_judged_on_github(company: Company) -> None:
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},left,2026-11-09,,,")
    result = company.run(at("2026-11-09"), only=GW_GH, record=False)
    found = findings(result, LEAVERS_GITHUB)[BOB]
    assert found.status is Status.NOT_APPLICABLE and "has no github_login on the roster" in found.message


# --- acceptance 2: the date of a removal from the history, two runs -----------------------------


def test_a_leaver_suspended_two_days_late_fails_at_one_day_and_passes_at_three(
    company: Company, workspace: FakeWorkspace, github: FakeGitHub, tmp_path: Path, registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},left,2026-11-02,bobby,,")
    catalog_with(company.catalog, {LEAVERS_WORKSPACE: {}})
    first = company.run(at("2026-11-04", 8), only=GW_GH)  # two days after left_on: still active
    assert findings(first, LEAVERS_WORKSPACE)[BOB].status is Status.FAIL

    remove_bob(workspace, github, unmember=False)  # suspended later that day
    late = company.run(at("2026-11-04", 20), only=GW_GH, record=False)
    found = findings(late, LEAVERS_WORKSPACE)[BOB]
    assert found.status is Status.FAIL
    assert found.observed["last_seen_active"] == {"at": "2026-11-04T08:00:00Z", "run_id": first.run_id}
    assert "removed late, between 2026-11-04T08:00:00Z" in found.message
    assert any(p.startswith("evidence/people/") and "Sightings" in p for p in found.evidence)

    in_time = company.run(at("2026-11-04", 20), only=GW_GH, controls={"offboard_within_days": 3}, record=False)
    found = findings(in_time, LEAVERS_WORKSPACE)[BOB]
    assert found.status is Status.PASS
    assert found.expected == "Google Workspace access removed within 3 day(s) of left_on (by 2026-11-05)"

    # without the first run in its history, the same evidence cannot date the removal: never a pass
    fresh = Company(tmp_path / "fresh", registry, monkeypatch, workspace, github)
    fresh.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},left,2026-11-02,bobby,,")
    catalog_with(fresh.catalog, {LEAVERS_WORKSPACE: {}})
    unknown = findings(fresh.run(at("2026-11-04", 20), only=GW_GH, record=False), LEAVERS_WORKSPACE)[BOB]
    assert unknown.status is Status.MANUAL
    assert "when it was removed is not known from this run's evidence" in unknown.message
    assert "confirmed by 2026-11-04T20:00:00Z" in unknown.message


# --- acceptance 3: orphans ------------------------------------------------------------------------


def test_an_active_workspace_user_missing_from_the_roster_is_an_orphan_unless_a_service_account(
    company: Company, workspace: FakeWorkspace,
) -> None:
    workspace.users.append({**user("ci-bot@zaptic.example"), "customerId": workspace.customer_key})
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},active,,bobby,,")
    result = company.run(at("2026-11-09"), only=GW_GH, record=False)
    orphan = findings(result, ORPHAN_WORKSPACE)["ci-bot@zaptic.example"]
    assert orphan.status is Status.FAIL
    assert orphan.message == ("Google Workspace account ci-bot@zaptic.example is an orphan: it is not on the roster "
                              "and is not a declared service account.")
    summary = findings(result, ORPHAN_WORKSPACE)["people.csv"]
    assert summary.status is Status.FAIL and summary.observed["orphans"] == ["ci-bot@zaptic.example"]
    assert verdict(result) is Status.FAIL

    allowed = company.run(at("2026-11-09"), only=GW_GH, record=False,
                          controls={"service_accounts": ["CI-Bot@zaptic.example"]})
    assert findings(allowed, ORPHAN_WORKSPACE)["ci-bot@zaptic.example"].status is Status.PASS
    assert statuses(allowed, ORPHAN_WORKSPACE)["people.csv"] is Status.PASS
    assert verdict(allowed) is Status.PASS


def test_an_alias_in_the_catalog_maps_an_account_to_its_person(company: Company, workspace: FakeWorkspace) -> None:
    workspace.users.append({**user("a.nn@zaptic.example"), "customerId": workspace.customer_key})
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},active,,bobby,,")
    result = company.run(at("2026-11-09"), only=GW_GH, record=False,
                         controls={"aliases": {"a.nn@zaptic.example": ANN, "ghost-gh": "nobody@zaptic.example"}})
    found = findings(result, ORPHAN_WORKSPACE)["a.nn@zaptic.example"]
    assert found.status is Status.PASS and found.observed == {"person": ANN, "status": "active"}


def test_a_failed_listing_is_an_error_never_a_removal(company: Company, workspace: FakeWorkspace) -> None:
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", "gone@zaptic.example,left,2026-11-01,,,")
    workspace.inject("/admin/directory/v1/users", 403, times=-1)
    result = company.run(at("2026-11-09"), only=GW_GH, record=False)
    found = findings(result, LEAVERS_WORKSPACE)["gone@zaptic.example"]
    assert found.status is Status.ERROR
    assert "the Workspace users listing is incomplete" in found.message
    assert findings(result, ORPHAN_WORKSPACE)["people.csv"].status is Status.ERROR


# --- IAM: a leaver's credentials, and an orphan user, through moto ------------------------------


def test_iam_users_of_leavers_and_orphans_fail_named(
    mocked_aws: None, tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch,
) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    for name in ("ann", "bob", "legacy-ci", "retired"):
        iam.create_user(UserName=name)
    iam.create_login_profile(UserName="ann", Password="A-long-password-1")
    iam.create_login_profile(UserName="bob", Password="A-long-password-1")
    iam.create_access_key(UserName="legacy-ci")
    co = Company(tmp_path / "co", registry, monkeypatch)
    co.sections["aws"] = {"regions": ["us-east-1"]}
    catalog_with(co.catalog, {LEAVERS_IAM: {}, ORPHAN_IAM: {}})
    co.roster(f"{ANN},active,,,ann,", f"{BOB},left,2026-11-01,,bob;bob-old,", "cat@zaptic.example,left,2026-11-01,,,")
    result = co.run(at("2026-11-09"), only={"aws", "people"}, record=False)

    leaver = findings(result, LEAVERS_IAM)[BOB]
    assert leaver.status is Status.FAIL
    assert "AWS IAM account arn:aws:iam::123456789012:user/bob active" in leaver.message
    assert leaver.observed["accounts"][0]["password_enabled"] is True
    assert statuses(result, LEAVERS_IAM)["cat@zaptic.example"] is Status.NOT_APPLICABLE  # no IAM user mapped
    orphans = statuses(result, ORPHAN_IAM)
    assert orphans["arn:aws:iam::123456789012:user/legacy-ci"] is Status.FAIL
    assert orphans["arn:aws:iam::123456789012:user/ann"] is Status.PASS
    assert orphans["arn:aws:iam::123456789012:user/retired"] is Status.NOT_APPLICABLE  # no credential
    assert orphans["people.csv"] is Status.FAIL
    assert verdict(result, CONTROL) is Status.FAIL


def test_a_removal_seen_in_time_stays_a_pass_in_later_runs(
    company: Company, workspace: FakeWorkspace, github: FakeGitHub,
) -> None:
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},left,2026-11-09,bobby,,")
    remove_bob(workspace, github)
    first = company.run(at("2026-11-10"), only=GW_GH)  # removed, seen on the last day allowed
    assert findings(first, LEAVERS_WORKSPACE)[BOB].status is Status.PASS
    later = company.run(at("2026-11-30"), only=GW_GH)  # long after: the history still dates it
    found = findings(later, LEAVERS_WORKSPACE)[BOB]
    assert found.status is Status.PASS
    assert found.observed["removed_by"] == {"at": "2026-11-10T09:00:00Z", "run_id": first.run_id}
    assert found.message == (f"{BOB} (left on 2026-11-09): Google Workspace account {BOB} was removed by "
                             f"2026-11-10T09:00:00Z ({first.run_id}), within 1 day(s) of leaving.")


# --- a renamed Workspace account still answers to its old address: matched by every alias -------------


def rename(workspace: FakeWorkspace, email: str, new: str, key: str = "aliases") -> None:
    """Rename a user as an admin does: the old address kept as one of its aliases."""
    found = next(u for u in workspace.users if u["primaryEmail"] == email)
    found["primaryEmail"] = new
    found[key] = [email]


def test_a_leavers_account_renamed_but_kept_active_is_not_removed(
    company: Company, workspace: FakeWorkspace,
) -> None:
    rename(workspace, BOB, "former-bob@zaptic.example")
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},left,2026-11-09,,,")
    result = company.run(at("2026-11-09"), only=GW_GH, record=False)

    found = findings(result, LEAVERS_WORKSPACE)[BOB]
    assert found.status is Status.FAIL, (found.message, found.observed)
    assert found.observed["state"] == "active"
    assert found.observed["accounts"] == [{"account": "former-bob@zaptic.example", "active": True, "suspended": False,
                                           "archived": False, "matched_alias": BOB}]
    assert "still has Google Workspace account former-bob@zaptic.example active" in found.message
    orphan = findings(result, ORPHAN_WORKSPACE)["former-bob@zaptic.example"]
    assert orphan.status is Status.FAIL and f"belongs to {BOB}, who left on 2026-11-09" in orphan.message


def test_an_active_persons_renamed_account_is_theirs_by_its_alias_not_an_orphan(
    company: Company, workspace: FakeWorkspace,
) -> None:
    rename(workspace, ANN, "ann.smith@zaptic.example", key="nonEditableAliases")
    company.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},active,,bobby,,")
    result = company.run(at("2026-11-09"), only=GW_GH, record=False)

    found = findings(result, ORPHAN_WORKSPACE)["ann.smith@zaptic.example"]
    assert found.status is Status.PASS, found.message
    assert found.observed == {"person": ANN, "status": "active"}
    assert statuses(result, ORPHAN_WORKSPACE)["people.csv"] is Status.PASS


def test_the_github_leaver_check_says_a_renamed_login_is_not_traced(registry: Registry) -> None:
    description = registry.checks[LEAVERS_GITHUB].description
    assert "renamed" in description and "github_login" in description


# --- a listing is complete only by the pages this listing keeps (unit: one evidence index) -------

def _unit_index(tmp_path: Path, *records: tuple[str, dict[str, Any], Any]) -> Any:
    from evidence.models import EvidenceRecord
    from evidence.records import EvidenceWriter

    writer = EvidenceWriter(tmp_path / "bundle")
    for key, parameters, response in records:
        service, _, operation = key.partition(".")
        writer.write(EvidenceRecord(
            source={"admin": "google_workspace", "iam": "aws"}.get(service, service), service=service,
            operation=operation, parameters=parameters, account="zaptic", region="",
            subject={"people.Roster": "people.csv", "people.AccessReview": "access-review"}.get(key, ""),
            collected_at="2026-11-10T08:00:00Z", response=response,
        ))
    return writer.index()


def _judge(check_id: str, index: Any) -> list[Any]:
    from datetime import UTC, datetime

    from evidence.catalog import Catalog
    from evidence.check_run import run_check
    from evidence.checks.people_offboarding import leavers_github_removed
    from evidence.checks.people_orphans import orphan_github_members
    from evidence.checks.people_review import access_review_revocations
    from evidence.judging import Judging

    chk = {c.id: c for c in (leavers_github_removed, orphan_github_members, access_review_revocations)}[check_id]
    judging = Judging(reference_time=datetime(2026, 11, 10, 9, tzinfo=UTC), catalog=Catalog(controls={}),
                      params={CONTROL: {chk.id: dict(chk.params)}},
                      sources={"people": None, "github": None, "google_workspace": None, "aws": None})
    return run_check(chk, CONTROL, judging, index)


def _roster_record(*people: tuple[str, str, str | None, str]) -> tuple[str, dict[str, Any], Any]:
    rows: list[dict[str, Any]] = [
        {"email": e, "status": s, "left_on": left, "github_login": gh, "aws_iam_users": [], "aliases": [], "line": n}
        for n, (e, s, left, gh) in enumerate(people, start=2)
    ]
    return ("people.Roster", {"roster": "people.csv"},
            {"file": "people.csv", "sha256": "0" * 64, "columns": [], "text": "", "people": rows})


def test_only_2fa_disabled_member_pages_are_a_gap_not_an_empty_organisation(tmp_path: Path) -> None:
    # the run listed only the members without 2FA (CODEHOST-MFA's listing), not every member
    index = _unit_index(
        tmp_path,
        _roster_record((ANN, "active", None, "ann-gh"), (BOB, "left", "2026-11-01", "bobby")),
        ("github.orgs/list-members", {"org": "zaptic", "filter": "2fa_disabled"}, []),
    )
    orphans = [f for f in _judge(ORPHAN_GITHUB, index) if f.resource_id == "people.csv"]
    assert [f.status for f in orphans] == [Status.ERROR], [(f.status, f.message) for f in orphans]
    assert "the run did not collect the GitHub members listing" in orphans[0].message
    bob = next(f for f in _judge(LEAVERS_GITHUB, index) if f.resource_id == BOB)
    assert bob.status is Status.ERROR, (bob.status, bob.message)
    assert "the GitHub members listing is incomplete" in bob.message


def _review_record(*revoke: tuple[str, str]) -> tuple[str, dict[str, Any], Any]:
    review = {"file": "q4.csv", "sha256": "a" * 64, "attached_by": "Carol", "attached_at": "2026-11-09T10:00:00Z",
              "valid_until": "2027-02-09", "run_id": "r1"}
    return ("people.AccessReview", {"store": "attachments"},
            {"review": review, "revoke": [{"system": s, "account": a, "person": "", "line": 2} for s, a in revoke]})


def test_a_revoked_workspace_account_renamed_but_kept_active_is_still_active(tmp_path: Path) -> None:
    renamed = user("robert@zaptic.example", aliases=[BOB])  # bob@ is now an alias of an active account
    index = _unit_index(
        tmp_path,
        _roster_record((ANN, "active", None, "")),
        _review_record(("Google Workspace", BOB)),
        ("admin.directory.users.list", {"customer": "my_customer", "page": 1}, {"users": [user(ANN), renamed]}),
        ("github.orgs/list-members", {"org": "zaptic", "filter": "all"}, [{"login": "ann-gh"}]),
        ("iam.GetCredentialReport", {}, {"Rows": []}),
    )
    found = {f.resource_id: f for f in _judge("people.access_review_revocations", index)}
    assert found[f"Google Workspace:{BOB}"].status is Status.FAIL, found[f"Google Workspace:{BOB}"].message
    assert "robert@zaptic.example" in found[f"Google Workspace:{BOB}"].message
    assert found["access-review"].status is Status.FAIL
