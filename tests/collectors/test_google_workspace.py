"""The Google Workspace collector: real google-auth and google-api-python-client, unpatched,
against the local fake Admin SDK (token endpoint included), through the whole pipeline."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from evidence.catalog import load_catalog
from evidence.cli import cli
from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.collectors.google_workspace import (
    PERMISSIONS,
    USER_READONLY_SCOPE,
    GoogleWorkspaceCollector,
    load_service_account_key,
)
from evidence.config import Config, parse_config
from evidence.demo.certificates import make_certificate
from evidence.evaluate import evaluate
from evidence.models import EvidenceRecord, Period, Status
from evidence.records import EvidenceWriter
from evidence.registry import Registry
from evidence.sources.google_workspace import USER_FIELDS, USERS_LIST
from tests.conftest import RunFn
from tests.fakes.google_workspace import NEVER_LOGGED_IN, USERS_PATH, FakeWorkspace, make_user

ADMIN = "admin@zaptic.example"
GW_CHECKS = {
    "google_workspace.users_2sv_enrolled",
    "google_workspace.users_2sv_enforced",
    "google_workspace.super_admin_count",
    "google_workspace.super_admins_2sv",
    "google_workspace.inactive_users",
}


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def compliant(email: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True, "creationTime": ago(400),
                              "lastLoginTime": ago(1), **overrides}
    return make_user(email, **fields)


def company() -> list[dict[str, Any]]:
    """10 people: 3 super admins, one not enrolled, one idle, one new joiner, one leaver."""
    return [
        compliant(ADMIN, isAdmin=True),
        compliant("cto@zaptic.example", isAdmin=True),
        compliant("ops@zaptic.example", isAdmin=True),
        compliant("ann@zaptic.example"),
        compliant("bob@zaptic.example", isEnrolledIn2Sv=False, isEnforcedIn2Sv=False),
        compliant("cat@zaptic.example", lastLoginTime=ago(200)),
        compliant("dan@zaptic.example", creationTime=ago(3), lastLoginTime=NEVER_LOGGED_IN),
        compliant("eve@zaptic.example", isEnrolledIn2Sv=False, suspended=True, lastLoginTime=ago(300)),
        compliant("fay@zaptic.example"),
        compliant("gus@zaptic.example"),
    ]


@pytest.fixture
def fake() -> Iterator[FakeWorkspace]:
    with FakeWorkspace(company(), page_size=3) as ws:
        yield ws
        ws.assert_served_payloads_valid()


@pytest.fixture
def gw_config(fake: FakeWorkspace, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """`[google_workspace]` for the fake, its key written to a file like a downloaded one."""
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(fake.service_account_info()), encoding="utf-8")

    def make(**overrides: Any) -> dict[str, Any]:
        section = {"customer_id": "my_customer", "credentials_file": str(key), "delegated_admin": ADMIN,
                   "api_endpoint": fake.api_endpoint, **overrides}
        return {"google_workspace": section}

    return make


def fast_retries(n: int) -> Callable[[type[Collector], Config, Period], Collector]:
    def make(cls: type[Collector], cfg: Config, period: Period) -> Collector:
        if cls is GoogleWorkspaceCollector:
            return GoogleWorkspaceCollector(cfg, period, num_retries=n)
        return cls(cfg, period)

    return make


def gw_findings(result: Any, check_id: str | None = None) -> list[Any]:
    return [f for f in result.findings if f.source == "google_workspace"
            and (check_id is None or f.check_id == check_id)]


def bundle_text(bundle: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(bundle.rglob("*")) if p.is_file())


# --- acceptance 1: the real clients, loopback only -------------------------------------------


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every socket connection that is not to loopback raises; returns the connections made."""
    allowed = {"127.0.0.1", "::1", "localhost"}
    real_connect, real_create = socket.socket.connect, socket.create_connection
    seen: list[Any] = []

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if (address[0] if isinstance(address, tuple) else address) not in allowed:
            raise OSError(f"blocked non-loopback connect to {address!r}")
        seen.append(address)
        real_connect(self, address)

    def guarded_create(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in allowed:
            raise OSError(f"blocked non-loopback connect to {address!r}")
        seen.append(address)
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("203.0.113.7", 443), timeout=1)
    return seen


def test_real_clients_fetch_a_token_and_read_users_over_loopback_only(
    loopback_only: list[Any], fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    cfg = parse_config(gw_config())
    writer = EvidenceWriter(tmp_path / "bundle")
    GoogleWorkspaceCollector(cfg).collect(Sink(writer), frozenset({USERS_LIST}))

    assert loopback_only, "the clients' connections must have gone through the guard"
    [token] = [r for r in fake.requests if r.path == "/token"]  # the key file's token_uri, once
    assert token.claims is not None
    assert token.claims["sub"] == ADMIN and token.claims["iss"] == fake.client_email
    assert token.claims["scope"] == USER_READONLY_SCOPE  # read-only, nothing else
    lists = [r for r in fake.requests if r.path == USERS_PATH]
    assert [r.status for r in lists] == [200, 200, 200, 200]
    assert lists[0].query["fields"] == [USER_FIELDS]

    records = [writer.index().load(e).record for e in writer.index().entries_for(USERS_LIST)]
    assert len(records) == 4
    first: EvidenceRecord = next(r for r in records if r.parameters["page"] == 1)
    assert (first.source, first.service, first.operation, first.key) == (
        "google_workspace", "admin", "directory.users.list", "admin.directory.users.list")
    assert first.account == "my_customer" and first.region == ""
    assert first.identity == f"{fake.client_email} as {ADMIN}"
    assert first.parameters == {"customer": "my_customer", "maxResults": 500, "orderBy": "email",
                                "projection": "basic", "viewType": "admin_view", "fields": USER_FIELDS,
                                "page": 1}
    assert all(r.ok and r.sha256 for r in records)
    emails = [u["primaryEmail"] for r in sorted(records, key=lambda r: r.parameters["page"])
              for u in r.response["users"]]
    assert emails == sorted(u["primaryEmail"] for u in company())
    # only the fields asked for: no names beyond fullName, no phones, no recovery addresses
    assert set(records[0].response["users"][0]) <= {
        "primaryEmail", "id", "customerId", "name", "orgUnitPath", "isAdmin", "isDelegatedAdmin",
        "isEnrolledIn2Sv", "isEnforcedIn2Sv", "suspended", "suspensionReason", "archived",
        "creationTime", "lastLoginTime"}


def test_permissions_are_read_only_scopes() -> None:
    assert GoogleWorkspaceCollector.permission_kind == "OAuth scope"
    assert PERMISSIONS == {USERS_LIST: ("https://www.googleapis.com/auth/admin.directory.user.readonly",)}
    assert all(s.endswith(".readonly") for scopes in PERMISSIONS.values() for s in scopes)


# --- acceptance 2 and 3: every page judged, through the pipeline ------------------------------


def test_users_over_four_pages_are_all_judged_and_the_bundle_re_judges_alike(
    fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], run_evidence: RunFn, registry: Registry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    result = run_evidence(gw_config(), only={"google_workspace"})
    assert result.api_calls == {"google_workspace": 4}
    active = sorted(u["primaryEmail"] for u in company() if not u["suspended"])
    everyone = {f.resource_id: f for f in gw_findings(result, "google_workspace.users_2sv_enrolled")}
    assert sorted(everyone) == sorted(u["primaryEmail"] for u in company())  # every listed user has a finding
    enrolled = {rid: f for rid, f in everyone.items() if f.status is not Status.NOT_APPLICABLE}
    assert sorted(enrolled) == active  # 9 active users over 4 pages of 3
    assert len({p for f in everyone.values() for p in f.evidence}) == 4
    assert enrolled["bob@zaptic.example"].status is Status.FAIL
    # suspended: left out on purpose, and the finding says why
    assert "suspended user" in everyone["eve@zaptic.example"].message
    idle = {f.resource_id: f.status for f in gw_findings(result, "google_workspace.inactive_users")}
    assert idle["cat@zaptic.example"] is Status.FAIL  # 200 days idle
    assert idle["dan@zaptic.example"] is Status.PASS  # created 3 days ago, never signed in
    [count] = gw_findings(result, "google_workspace.super_admin_count")
    assert count.status is Status.PASS and count.resource_id == fake.customer_key
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts["WORKFORCE-IDENTITY"] is Status.FAIL and verdicts["ACCESS-LIFECYCLE"] is Status.FAIL
    assert result.exit_code == 1

    assert result.bundle is not None
    text, _, _ = evaluate(result.bundle, registry)
    assert text == (result.bundle / "findings.json").read_text(encoding="utf-8")

    # secrets: neither the access token nor the private key is in the bundle or the logs
    assert fake.tokens
    everything = bundle_text(result.bundle) + "\n".join(r.getMessage() for r in caplog.records)
    for token in fake.tokens:
        assert token not in everything
    assert "PRIVATE KEY" not in everything
    assert fake.service_account_info()["private_key_id"] not in everything


def test_section_absent_is_not_configured(run_evidence: RunFn) -> None:
    assert GoogleWorkspaceCollector(parse_config({})).not_configured() is not None
    result = run_evidence({}, only={"google_workspace"})
    findings = gw_findings(result)
    assert {f.check_id for f in findings} == GW_CHECKS
    assert all(f.status is Status.ERROR and "[google_workspace]" in f.message for f in findings)


# --- acceptance 5: errors, retries, and AWS evidence intact ------------------------------------


def _catalog_for(tmp_path: Path, registry: Registry, keep: dict[str, set[str]]) -> Path:
    """A catalog with only the given controls and, of each, only checks from the given sources,
    so this test does not depend on what other checks the catalog gains."""
    out = tmp_path / "catalog"
    out.mkdir()
    for control in load_catalog().controls.values():
        if control.id not in keep:
            continue
        lines = [f"{k} = {json.dumps(getattr(control, k))}" for k in ("id", "title", "statement", "section",
                                                                       "criteria")]
        for ref in control.checks:
            if registry.checks[ref.id].source in keep[control.id]:
                params = ", ".join(f"{k} = {json.dumps(v)}" for k, v in ref.params.items())
                lines += ["", "[[checks]]", f"id = {json.dumps(ref.id)}", f"params = {{ {params} }}"]
        (out / f"{control.id}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_403_is_an_error_with_remedy_and_aws_evidence_is_intact(
    mocked_aws: None, fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], run_evidence: RunFn,
    registry: Registry, tmp_path: Path,
) -> None:
    cert, key = make_certificate("app.zaptic.example")
    arn = boto3.client("acm", region_name="eu-west-2").import_certificate(Certificate=cert, PrivateKey=key)[
        "CertificateArn"]
    fake.inject(USERS_PATH, 403, times=-1)
    catalog = _catalog_for(tmp_path, registry, {"WORKFORCE-IDENTITY": {"google_workspace"},
                                                "ACCESS-LIFECYCLE": {"google_workspace"},
                                                "TLS-CERTS": {"aws"}})
    result = run_evidence({"aws": {"regions": ["eu-west-2"]}, **gw_config()},
                          only={"aws", "google_workspace"}, catalog_dir=catalog)

    assert result.exit_code == 3
    errors = gw_findings(result)
    assert {f.check_id for f in errors} == GW_CHECKS
    for f in errors:
        assert f.status is Status.ERROR
        assert f.observed == "403 forbidden"
        assert "Not Authorized to access this resource/api" in f.message
        assert USER_READONLY_SCOPE in f.message
        assert "Domain-wide delegation" in f.message and fake.client_id in f.message
        assert "enable the Admin SDK API" in f.message
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts == {"WORKFORCE-IDENTITY": Status.ERROR, "ACCESS-LIFECYCLE": Status.ERROR,
                        "TLS-CERTS": Status.PASS}
    aws = [f for f in result.findings if f.source == "aws"]
    assert {(f.check_id, f.resource_id, f.status) for f in aws} == {
        ("aws.acm.certificate_key_strength", arn, Status.PASS), ("aws.acm.certificate_validity", arn, Status.PASS)}
    assert result.bundle is not None
    for f in aws:
        assert f.evidence and all((result.bundle / p).is_file() for p in f.evidence)
    # 403 is not retried: it will not get better
    assert [r.status for r in fake.requests if r.path == USERS_PATH] == [403]


def test_5xx_and_429_are_retried_and_the_run_succeeds(
    gw_config: Callable[..., dict[str, Any]], tmp_path: Path, run_evidence: RunFn
) -> None:
    people = [compliant(ADMIN, isAdmin=True), compliant("cto@zaptic.example", isAdmin=True)]
    people += [compliant(f"user{i}@zaptic.example") for i in range(5)]
    with FakeWorkspace(people, page_size=3) as ws:
        key = tmp_path / "ws-key.json"
        key.write_text(json.dumps(ws.service_account_info()), encoding="utf-8")
        ws.inject("/token", 503, times=1)  # google-auth retries the token exchange itself
        ws.inject(USERS_PATH, 503, times=1)  # page 1, first attempt
        ws.inject(USERS_PATH, 429, times=1, after=2)  # page 2, first attempt
        result = run_evidence(gw_config(credentials_file=str(key), api_endpoint=ws.api_endpoint),
                              only={"google_workspace"})
        ws.assert_served_payloads_valid()
        assert [r.status for r in ws.requests if r.path == "/token"] == [503, 200]
        assert [r.status for r in ws.requests if r.path == USERS_PATH] == [503, 200, 429, 200, 200]
    assert result.exit_code == 0
    skipped = [f for f in gw_findings(result) if f.status is Status.NOT_APPLICABLE]
    assert all(f.status is Status.PASS for f in gw_findings(result) if f not in skipped)
    # the five users who are not super administrators, out of the super-admin check's scope
    assert sorted(f.resource_id for f in skipped) == [f"user{i}@zaptic.example" for i in range(5)]
    assert {f.check_id for f in skipped} == {"google_workspace.super_admins_2sv"}
    assert len(gw_findings(result, "google_workspace.users_2sv_enrolled")) == 7


def test_users_page_under_an_unexpected_key_is_an_error_for_every_check_and_exits_3(
    gw_config: Callable[..., dict[str, Any]], tmp_path: Path, run_evidence: RunFn
) -> None:
    """Issue 11, acceptance 1 (Google): a users page that holds its users under `members` (an
    API that changed shape) is an error naming the page for every Workspace check, never
    "no users in scope"; the run exits 3."""
    people = [compliant(ADMIN, isAdmin=True), compliant("cto@zaptic.example", isAdmin=True)]
    with FakeWorkspace(people, page_size=5) as ws:
        key = tmp_path / "ws-key.json"
        key.write_text(json.dumps(ws.service_account_info()), encoding="utf-8")
        ws.inject(USERS_PATH, 200, times=1, body={"kind": "admin#directory#users", "members": people})
        result = run_evidence(gw_config(credentials_file=str(key), api_endpoint=ws.api_endpoint),
                              only={"google_workspace"})
    findings = gw_findings(result)
    assert {f.check_id for f in findings} == {
        f"google_workspace.{name}" for name in ("users_2sv_enrolled", "users_2sv_enforced", "super_admin_count",
                                                "super_admins_2sv", "inactive_users")}
    assert findings and all(f.status is Status.ERROR for f in findings)
    for f in findings:
        [page] = f.evidence
        assert page in f.message and "the page has no 'users'" in f.message
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts["WORKFORCE-IDENTITY"] is Status.ERROR and verdicts["ACCESS-LIFECYCLE"] is Status.ERROR
    assert result.exit_code == 3


def test_retries_that_run_out_are_an_error_never_a_pass(
    fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], run_evidence: RunFn
) -> None:
    fake.inject(USERS_PATH, 503, times=-1)
    result = run_evidence(gw_config(), only={"google_workspace"}, collector_factory=fast_retries(1))
    assert result.exit_code == 3
    assert [r.status for r in fake.requests if r.path == USERS_PATH] == [503, 503]
    for f in gw_findings(result):
        assert f.status is Status.ERROR and f.observed == "503 backendError"
        assert "after 1 retries; run again later" in f.message


def test_a_page_failing_midway_keeps_the_pages_before_it(
    fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], run_evidence: RunFn
) -> None:
    fake.inject(USERS_PATH, 500, times=-1, after=2)  # pages 1 and 2 are served, then it fails for good
    result = run_evidence(gw_config(), only={"google_workspace"}, collector_factory=fast_retries(0))
    enrolled = gw_findings(result, "google_workspace.users_2sv_enrolled")
    judged = [f for f in enrolled if f.status is not Status.ERROR]
    assert len(judged) == 6  # pages 1 and 2 (3 users each) are judged
    [error] = [f for f in enrolled if f.status is Status.ERROR]
    assert error.observed == "500 backendError"
    # with a page missing, the count of super admins is not judged as a pass or a fail
    counts = gw_findings(result, "google_workspace.super_admin_count")
    # the failed page (its scope) and the customer whose admins cannot all be counted
    assert counts and {f.status for f in counts} == {Status.ERROR}
    assert any("cannot all be counted" in f.message for f in counts)
    assert result.exit_code == 1  # bob (page 1) is not enrolled: a failure outranks the error


def test_unknown_delegated_admin_is_invalid_grant_naming_admin_and_client_id(
    fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], run_evidence: RunFn
) -> None:
    result = run_evidence(gw_config(delegated_admin="ann@zaptic.example"), only={"google_workspace"})
    assert result.exit_code == 3
    assert not [r for r in fake.requests if r.path == USERS_PATH]
    for f in gw_findings(result):
        assert f.status is Status.ERROR and f.observed == "invalid_grant"
        assert "ann@zaptic.example" in f.message and fake.client_id in f.message
        assert "Not a valid email or user ID" in f.message


def test_unknown_customer_names_the_setting(
    fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], run_evidence: RunFn
) -> None:
    result = run_evidence(gw_config(customer_id="C0wrong00"), only={"google_workspace"})
    [f, *_] = gw_findings(result)
    assert f.status is Status.ERROR and f.observed.startswith("400")
    assert "google_workspace.customer_id" in f.message


# --- the key file: a user's mistake, exit 2 ------------------------------------------------------


def test_missing_key_file_is_a_config_error_exit_2_with_the_bundle_written(
    fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], run_evidence: RunFn, tmp_path: Path
) -> None:
    missing = tmp_path / "nope" / "key.json"
    result = run_evidence(gw_config(credentials_file=str(missing)), only={"google_workspace"})
    assert result.exit_code == 2
    [line] = result.user_errors
    assert str(missing) in line and "file not found" in line and "\n" not in line
    assert not fake.requests  # detected before any network call
    assert result.bundle is not None and (result.bundle / "findings.json").is_file()
    assert all(f.status is Status.ERROR and f.observed == "CredentialsFileNotFound" for f in gw_findings(result))


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"type": "authorized_user", "client_id": "x", "refresh_token": "y"}), "not a service-account"),
        (json.dumps({"type": "service_account", "client_email": "a@b", "token_uri": "http://127.0.0.1/"}),
         "lacks private_key"),
        (None, "cannot read"),
    ],
)
def test_key_file_problems_name_the_file(tmp_path: Path, content: str | None, why: str) -> None:
    path = tmp_path / "key.json"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CollectorFailure) as err:
        load_service_account_key(path)
    assert err.value.user_error
    assert str(path) in err.value.error.message and why in err.value.error.message


def test_unusable_private_key_is_a_config_error(
    fake: FakeWorkspace, gw_config: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    bad = tmp_path / "bad-key.json"
    bad.write_text(json.dumps({**fake.service_account_info(), "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                               "-----END PRIVATE KEY-----\n"}), encoding="utf-8")
    cfg = parse_config(gw_config(credentials_file=str(bad)))
    with pytest.raises(CollectorFailure) as err:
        GoogleWorkspaceCollector(cfg).collect(Sink(EvidenceWriter(tmp_path / "b")), frozenset({USERS_LIST}))
    assert err.value.user_error and str(bad) in err.value.error.message
    assert "AAAA" not in err.value.error.message
    assert not fake.requests


def test_relative_key_path_is_resolved_against_the_config_file(fake: FakeWorkspace, tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "sa.json").write_text(json.dumps(fake.service_account_info()), encoding="utf-8")
    toml = tmp_path / "conf" / "evidence.toml"
    toml.write_text(f'[google_workspace]\ncredentials_file = "sa.json"\ndelegated_admin = "{ADMIN}"\n'
                    f'api_endpoint = "{fake.api_endpoint}"\n', encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(cli, ["run", "--config", str(toml), "--only", "google_workspace",
                             "--out", str(tmp_path / "out")])
    assert ok.exit_code == 1, ok.output  # the simulated company fails some checks
    (tmp_path / "conf" / "sa.json").unlink()
    missing = runner.invoke(cli, ["run", "--config", str(toml), "--only", "google_workspace",
                                  "--out", str(tmp_path / "out")])
    assert missing.exit_code == 2
    errors = [line for line in missing.output.splitlines() if line.startswith("evidence: error:")]
    assert len(errors) == 1 and str(tmp_path / "conf" / "sa.json") in errors[0]


# --- the demo's simulated company ---------------------------------------------------------------


def test_demo_workspace_shows_compliant_and_failing_people(run_evidence: RunFn) -> None:
    from evidence.demo.company import fake_workspace

    with fake_workspace() as section:
        key_file = Path(section["credentials_file"])
        assert key_file.is_file()
        result = run_evidence({"google_workspace": section}, only={"google_workspace"})
    assert not key_file.exists()  # the generated key does not outlive the demo
    status = {(f.check_id.split(".")[1], f.resource_id): f.status for f in gw_findings(result)}
    assert status["users_2sv_enrolled", "alice@zaptic.example"] is Status.PASS
    assert status["users_2sv_enrolled", "sam@zaptic.example"] is Status.FAIL
    assert status["users_2sv_enforced", "dev-contractor@zaptic.example"] is Status.FAIL
    assert status["super_admin_count", "C01zapt1c"] is Status.PASS
    assert status["super_admins_2sv", "cto@zaptic.example"] is Status.FAIL
    assert status["inactive_users", "olivia@zaptic.example"] is Status.FAIL
    assert status["inactive_users", "new-joiner@zaptic.example"] is Status.PASS
    assert status["inactive_users", "temp-2023@zaptic.example"] is Status.FAIL
    # people who left are suspended: out of scope, and each finding says why
    for email in ("leaver@zaptic.example", "former-ceo@zaptic.example"):
        assert status["users_2sv_enrolled", email] is Status.NOT_APPLICABLE
    assert result.api_calls == {"google_workspace": 3}  # 14 people over pages of 5
