"""Google Workspace checks judged from hand-made `admin.directory.users.list` pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog import Catalog, load_catalog
from evidence.checks import google_workspace as gw
from evidence.checks.base import Check
from evidence.checks.params import problem
from evidence.demo.workspace import NEVER_LOGGED_IN, make_user
from evidence.judge import Judging, judge, run_check
from evidence.models import CollectionError, EvidenceRecord, Finding, Status
from evidence.records import EvidenceIndex, EvidenceWriter
from evidence.sources.google_workspace import USERS_LIST

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
CUSTOMER = "C0test123"


def ts(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def user(email: str, **overrides: Any) -> dict[str, Any]:
    """A recent, compliant user as the collector's partial response returns it."""
    base = make_user(email, isEnrolledIn2Sv=True, isEnforcedIn2Sv=True, customerId=CUSTOMER,
                     creationTime=ts(400), lastLoginTime=ts(1))
    base.update(overrides)
    return base


def index_of(tmp_path: Path, *pages: list[dict[str, Any]] | CollectionError, key: str = "users") -> EvidenceIndex:
    """An evidence index holding one users.list record per page (a CollectionError = a failed page),
    its users under `key`."""
    writer = EvidenceWriter(tmp_path)
    for n, page in enumerate(pages, start=1):
        error = page if isinstance(page, CollectionError) else None
        response = None if error else {"kind": "admin#directory#users", key: page}
        writer.write(EvidenceRecord(
            source="google_workspace", service="admin", operation="directory.users.list",
            parameters={"customer": "my_customer", "page": n}, account="my_customer",
            identity="sa@p.iam.gserviceaccount.com as admin@example.com",
            collected_at="2026-11-15T11:59:00Z", response=response, error=error,
        ))
    return writer.index()


def run(chk: Check, index: EvidenceIndex, **params: Any) -> list[Finding]:
    """`chk` judged as a run judges it: failed and malformed pages, unjudged users and all."""
    judging = Judging(reference_time=NOW, catalog=Catalog(controls={}),
                      params={"WORKFORCE-IDENTITY": {chk.id: {**chk.params, **params}}},
                      sources={"google_workspace": None})
    return run_check(chk, "WORKFORCE-IDENTITY", judging, index)


def by_email(findings: list[Finding]) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    for f in findings:
        assert f.resource_id not in found, f"two findings for {f.resource_id}"
        found[f.resource_id] = f
    return found


def statuses(findings: list[Finding]) -> dict[str, Status]:
    return {k: f.status for k, f in by_email(findings).items()}


ALL = (gw.users_2sv_enrolled, gw.users_2sv_enforced, gw.super_admin_count, gw.super_admins_2sv, gw.inactive_users)


def test_unenrolled_active_user_fails_with_email_and_suspended_or_archived_are_not_judged(tmp_path: Path) -> None:
    index = index_of(tmp_path, [
        user("ann@example.com"),
        user("bob@example.com", isEnrolledIn2Sv=False),
        user("gone@example.com", isEnrolledIn2Sv=False, suspended=True, suspensionReason="ADMIN"),
        user("old@example.com", isEnrolledIn2Sv=False, archived=True),
    ])
    found = by_email(run(gw.users_2sv_enrolled, index))
    assert statuses(list(found.values())) == {"ann@example.com": Status.PASS, "bob@example.com": Status.FAIL,
                                              "gone@example.com": Status.NOT_APPLICABLE,
                                              "old@example.com": Status.NOT_APPLICABLE}
    assert found["gone@example.com"].message == "Not judged by this check: suspended user, who cannot sign in."
    assert found["old@example.com"].message == "Not judged by this check: archived user, who cannot sign in."
    bob = found["bob@example.com"]
    assert bob.status is Status.FAIL
    assert bob.observed == {"isEnrolledIn2Sv": False} and bob.expected == {"isEnrolledIn2Sv": True}
    assert bob.source == "google_workspace" and bob.account == "my_customer" and bob.region == ""
    assert bob.resource_type == "GoogleWorkspace::User"
    assert bob.evidence == [e.path for e in index.entries_for(USERS_LIST)]


def test_2sv_enforced_per_active_user(tmp_path: Path) -> None:
    index = index_of(tmp_path, [
        user("ann@example.com"),
        user("con@example.com", isEnforcedIn2Sv=False, orgUnitPath="/Contractors"),
        user("gone@example.com", isEnforcedIn2Sv=False, suspended=True),
    ])
    found = by_email(run(gw.users_2sv_enforced, index))
    assert {k: v.status for k, v in found.items()} == {"ann@example.com": Status.PASS,
                                                       "con@example.com": Status.FAIL,
                                                       "gone@example.com": Status.NOT_APPLICABLE}
    assert "/Contractors" in found["con@example.com"].message


def test_missing_flag_is_an_error_not_a_pass(tmp_path: Path) -> None:
    u = user("ann@example.com")
    del u["isEnrolledIn2Sv"]
    index = index_of(tmp_path, [u])
    [finding] = run(gw.users_2sv_enrolled, index)
    assert finding.status is Status.ERROR and finding.resource_id == "ann@example.com"
    page = index.entries_for(USERS_LIST)[0].path
    assert finding.message == (f"Cannot judge this resource: field 'users[0].isEnrolledIn2Sv' in {page} is missing "
                               "(expected a boolean).")


@pytest.mark.parametrize(("admins", "status"), [(1, Status.FAIL), (3, Status.PASS), (6, Status.FAIL)])
def test_super_admin_count_bounds(tmp_path: Path, admins: int, status: Status) -> None:
    people = [user(f"admin{i}@example.com", isAdmin=True) for i in range(admins)]
    people += [user(f"user{i}@example.com") for i in range(5)]
    [finding] = run(gw.super_admin_count, index_of(tmp_path, people[:4], people[4:]))
    assert finding.status is status
    assert finding.observed["super_admins"] == admins
    assert finding.resource_id == CUSTOMER and finding.resource_type == "GoogleWorkspace::Customer"
    assert finding.expected == "between 2 and 4 super admins"
    assert len(finding.evidence) == 2


def test_super_admin_count_ignores_suspended_and_delegated_admins_and_takes_params(tmp_path: Path) -> None:
    people = [
        user("a1@example.com", isAdmin=True),
        user("a2@example.com", isAdmin=True, suspended=True),
        user("helpdesk@example.com", isDelegatedAdmin=True),
    ]
    index = index_of(tmp_path, people)
    [default] = run(gw.super_admin_count, index)
    assert default.status is Status.FAIL and default.observed == {"super_admins": 1, "emails": ["a1@example.com"]}
    [relaxed] = run(gw.super_admin_count, index, min_super_admins=1)
    assert relaxed.status is Status.PASS


def test_super_admin_count_resource_falls_back_to_configured_customer(tmp_path: Path) -> None:
    people = [{k: v for k, v in user(f"a{i}@example.com", isAdmin=True).items() if k != "customerId"}
              for i in range(2)]
    [finding] = run(gw.super_admin_count, index_of(tmp_path, people))
    assert finding.resource_id == "my_customer" and finding.status is Status.PASS


def test_super_admin_count_with_a_failed_page_only_fails_when_certain(tmp_path: Path) -> None:
    denied = CollectionError(code="503 backendError", message="unavailable", remedy="run again later")
    two = [user(f"a{i}@example.com", isAdmin=True) for i in range(2)]
    found = run(gw.super_admin_count, index_of(tmp_path / "a", two, denied))
    assert [f.status for f in found] == [Status.ERROR, Status.ERROR]
    [count] = [f for f in found if f.resource_id == CUSTOMER]
    assert "cannot all be counted" in count.message and "could not be collected" in count.message
    assert count.observed["super_admins"] == 2
    six = [user(f"a{i}@example.com", isAdmin=True) for i in range(6)]
    found = run(gw.super_admin_count, index_of(tmp_path / "b", six, denied))
    [finding] = [f for f in found if f.resource_id == CUSTOMER]
    assert finding.status is Status.FAIL
    assert [f.status for f in found if f is not finding] == [Status.ERROR]  # the failed page itself


def test_super_admins_2sv(tmp_path: Path) -> None:
    index = index_of(tmp_path, [
        user("a1@example.com", isAdmin=True),
        user("a2@example.com", isAdmin=True, isEnrolledIn2Sv=False),
        user("u@example.com", isEnrolledIn2Sv=False),
        user("a3@example.com", isAdmin=True, isEnrolledIn2Sv=False, suspended=True),
    ])
    found = by_email(run(gw.super_admins_2sv, index))
    assert {k: v.status for k, v in found.items()} == {"a1@example.com": Status.PASS,
                                                       "a2@example.com": Status.FAIL,
                                                       "u@example.com": Status.NOT_APPLICABLE,
                                                       "a3@example.com": Status.NOT_APPLICABLE}
    assert "not a super administrator" in found["u@example.com"].message


def test_inactive_users(tmp_path: Path) -> None:
    index = index_of(tmp_path, [
        user("recent@example.com", lastLoginTime=ts(10)),
        user("edge@example.com", lastLoginTime=ts(90)),
        user("idle@example.com", lastLoginTime=ts(200)),
        user("joiner@example.com", creationTime=ts(3), lastLoginTime=NEVER_LOGGED_IN),
        user("late@example.com", creationTime=ts(20), lastLoginTime=NEVER_LOGGED_IN),
        user("ghost@example.com", creationTime=ts(700), lastLoginTime=NEVER_LOGGED_IN),
        user("left@example.com", lastLoginTime=ts(300), suspended=True),
        user("archived@example.com", lastLoginTime=ts(300), archived=True),
    ])
    found = by_email(run(gw.inactive_users, index))
    assert {k: v.status for k, v in found.items()} == {
        "recent@example.com": Status.PASS,
        "edge@example.com": Status.PASS,
        "idle@example.com": Status.FAIL,
        "joiner@example.com": Status.PASS,
        "late@example.com": Status.FAIL,
        "ghost@example.com": Status.FAIL,
        "left@example.com": Status.NOT_APPLICABLE,
        "archived@example.com": Status.NOT_APPLICABLE,
    }
    assert found["idle@example.com"].observed["days_since_last_login"] == 200
    assert "200 days" in found["idle@example.com"].message
    assert found["joiner@example.com"].observed["never_signed_in"] is True
    assert "never signed in" in found["ghost@example.com"].message


def test_inactive_users_parameters_and_unreadable_times(tmp_path: Path) -> None:
    index = index_of(tmp_path, [
        user("month@example.com", lastLoginTime=ts(45)),
        user("joiner@example.com", creationTime=ts(20), lastLoginTime=NEVER_LOGGED_IN),
        user("broken@example.com", lastLoginTime="not a time"),
    ])
    found = by_email(run(gw.inactive_users, index, max_inactive_days=30, new_user_grace_days=30))
    assert found["month@example.com"].status is Status.FAIL
    assert found["joiner@example.com"].status is Status.PASS
    assert found["broken@example.com"].status is Status.ERROR


def test_users_on_several_pages_are_all_judged_once(tmp_path: Path) -> None:
    pages = [[user(f"u{p}{i}@example.com") for i in range(3)] for p in range(4)]
    pages[3].append(user("u00@example.com"))  # the same person seen twice is judged once
    index = index_of(tmp_path, *pages)
    findings = run(gw.users_2sv_enrolled, index)
    assert sorted(f.resource_id for f in findings) == sorted(u["primaryEmail"] for p in pages[:4] for u in p[:3])
    assert len({p for f in findings for p in f.evidence}) == 4


def test_an_empty_listing_is_not_applicable_per_user_and_an_error_for_the_count(tmp_path: Path) -> None:
    index = index_of(tmp_path, [])
    page = index.entries_for(USERS_LIST)[0].path
    for chk in (gw.users_2sv_enrolled, gw.users_2sv_enforced, gw.super_admins_2sv, gw.inactive_users):
        [finding] = run(chk, index)
        assert finding.status is Status.NOT_APPLICABLE and finding.evidence == [page], chk.id
    [count] = run(gw.super_admin_count, index)  # a customer has at least the admin evidence signs in as
    assert count.status is Status.ERROR and "no user at all" in count.message


# --- what the checks do not look at (issue 11) -------------------------------------------------------------


def test_users_under_an_unexpected_key_are_errors_naming_the_page_for_every_check(tmp_path: Path) -> None:
    people = [user("ann@example.com", isAdmin=True), user("bob@example.com", isEnrolledIn2Sv=False)]
    index = index_of(tmp_path, people, key="members")
    page = index.entries_for(USERS_LIST)[0].path
    for chk in ALL:
        found = run(chk, index)
        assert found and all(f.status is Status.ERROR for f in found), (chk.id, found)
        assert any(f.evidence == [page] and page in f.message and "(users)" in f.message
                   and "the page has no 'users'" in f.message for f in found), chk.id


def test_workforce_identity_is_an_error_not_not_applicable_when_users_are_elsewhere(tmp_path: Path) -> None:
    from evidence.registry import Registry

    registry = Registry.load()
    catalog = load_catalog()
    checks = {cid: c for cid, c in registry.checks.items() if c.source == "google_workspace"}
    judging = Judging(reference_time=NOW, catalog=Catalog(controls={"WORKFORCE-IDENTITY": catalog.controls[
        "WORKFORCE-IDENTITY"]}), params={}, sources={"google_workspace": None})
    findings, verdicts = judge(judging, checks, index_of(tmp_path, [user("ann@example.com")], key="members"))
    assert [(v.control_id, v.verdict) for v in verdicts] == [("WORKFORCE-IDENTITY", Status.ERROR)]
    assert {f.check_id for f in findings} == {r.id for r in catalog.controls["WORKFORCE-IDENTITY"].checks}
    assert not [f for f in findings if f.status is Status.NOT_APPLICABLE]


@pytest.mark.parametrize("field", ["suspended", "archived", "isEnrolledIn2Sv"])
def test_a_user_without_a_decisive_field_is_an_error_for_that_user_only(tmp_path: Path, field: str) -> None:
    broken = {k: v for k, v in user("bob@example.com").items() if k != field}
    index = index_of(tmp_path, [user("ann@example.com"), broken])
    for chk in (gw.users_2sv_enrolled, gw.inactive_users):
        found = by_email(run(chk, index))
        assert found["ann@example.com"].status is Status.PASS
        bob = found["bob@example.com"]
        if field == "isEnrolledIn2Sv" and chk is gw.inactive_users:
            assert bob.status is Status.PASS  # not a field this check decides on
            continue
        assert bob.status is Status.ERROR and f"field 'users[1].{field}'" in bob.message, chk.id


def test_an_unreadable_admin_flag_leaves_the_count_uncertain(tmp_path: Path) -> None:
    admins = [user(f"a{i}@example.com", isAdmin=True) for i in range(2)]
    unknown = {k: v for k, v in user("who@example.com").items() if k != "isAdmin"}
    index = index_of(tmp_path, [*admins, unknown])
    [count] = run(gw.super_admin_count, index)
    assert count.status is Status.ERROR and count.resource_id == CUSTOMER
    assert "field 'users[2].isAdmin'" in count.message
    assert by_email(run(gw.super_admins_2sv, index))["who@example.com"].status is Status.ERROR
    # with more than the maximum already seen, "too many" is certain
    many = [user(f"b{i}@example.com", isAdmin=True) for i in range(5)]
    [count] = run(gw.super_admin_count, index_of(tmp_path / "many", [*many, unknown]))
    assert count.status is Status.FAIL


def test_the_customer_of_several_pages_is_one_resource(tmp_path: Path) -> None:
    pages = [[user(f"a{p}@example.com", isAdmin=True), user(f"u{p}@example.com")] for p in range(3)]
    findings = run(gw.super_admin_count, index_of(tmp_path, *pages))
    assert [(f.resource_id, f.status, f.region) for f in findings] == [(CUSTOMER, Status.PASS, "")]
    assert len(findings[0].evidence) == 3


def test_the_same_user_listed_in_another_case_is_skipped_naming_the_one_judged(tmp_path: Path) -> None:
    index = index_of(tmp_path, [user("ann@example.com")], [user("Ann@example.com", isEnrolledIn2Sv=False)])
    found = by_email(run(gw.users_2sv_enrolled, index))
    assert found["ann@example.com"].status is Status.PASS
    assert found["Ann@example.com"].status is Status.NOT_APPLICABLE
    assert "the same user as ann@example.com" in found["Ann@example.com"].message


def test_parameters_are_typed_and_bounded() -> None:
    count = gw.super_admin_count.param_model
    assert problem(count, {"min_super_admins": "two"}) is not None
    assert problem(count, {"max_super_admins": 0}) is not None
    idle = gw.inactive_users.param_model
    assert problem(idle, {"max_inactive_days": -1}) is not None
    assert problem(idle, {"new_user_grace_days": 0}) is None
    assert gw.super_admin_count.params == {"min_super_admins": 2, "max_super_admins": 4}
    assert gw.inactive_users.params == {"max_inactive_days": 90, "new_user_grace_days": 14}
