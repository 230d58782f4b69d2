"""Issue 16, acceptance 6, for GitHub, Google Workspace and the probes (AWS: test_midpage_faults_aws.py):
faults in the middle of paginated listings, injected by a loopback proxy
(tests/faultproxy.py) in front of the fakes: a connection reset, a timeout, a 500 and a truncated
body on page 3, persistently (every retry meets it too). In every collector the pages read before
the fault are kept and judged, what could not be read is an `error` naming the failed call, the
checks of that listing never pass, and other listings judge as they would without the fault. A
fault met only once is healed by the collector's retries: the findings are those of a clean run.

Real clients throughout (boto3, httpx, google-api-python-client), through the real pipeline; the
clients' read timeouts are made short so that a held connection costs about a second.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import googleapiclient.http
import pytest

from evidence.collectors import github_fetch, github_http
from evidence.collectors.base import Collector
from evidence.collectors.github import GitHubCollector
from evidence.collectors.google_workspace import GoogleWorkspaceCollector
from evidence.config import Config
from evidence.demo.certificates import IssuedCertificate
from evidence.models import Period, Status
from evidence.runner import RunResult
from tests.collectors.probehelp import Pki, make_pki
from tests.conftest import RunFn
from tests.fakes.endpoints import FakeEndpoint
from tests.fakes.github import FakeGitHub
from tests.fakes.google_workspace import USERS_PATH, FakeWorkspace, make_user
from tests.faultproxy import Fault, FaultProxy, Request
from tests.midpage_support import (
    FAULTS,
    ORG,
    READ_TIMEOUT,
    TOKEN_ENV,
    assert_listing_errors,
    by_status,
    catalog,
    judged,
    of,
    records,
    verdicts,
)

# --- GitHub: the organisation's members in pages of 2 ----------------------------------------------

MEMBERS = [f"member{i}" for i in range(5)]  # filter=all pages [0, 1], [2, 3], [4]
GITHUB_CODES: dict[Fault, tuple[str, ...]] = {
    "reset": ("ReadError", "RemoteProtocolError", "ConnectError"), "timeout": ("ReadTimeout",), "500": ("HTTP 500",),
    "truncate": ("RemoteProtocolError", "ReadError"),
}


def members_page_3(r: Request) -> bool:
    return r.path.startswith(f"/orgs/{ORG}/members") and r.query.get("filter") == ["all"] \
        and r.query.get("page") == ["3"]


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(org=ORG) as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        for login in MEMBERS:
            fake.add_member(login)
        monkeypatch.setattr(github_fetch, "PER_PAGE", 2)
        monkeypatch.setattr(github_http, "TIMEOUT", READ_TIMEOUT)
        yield fake
        assert not fake.errors


def no_sleep_github(cls: type[Collector], cfg: Config, period: Period) -> Collector:
    return GitHubCollector(cfg, period, sleep=lambda seconds: None)


def run_github(run_evidence: RunFn, tmp_path: Path, proxy: FaultProxy, name: str) -> RunResult:
    config = {"github": {"org": ORG, "token_env": TOKEN_ENV, "api_url": proxy.url}}
    return run_evidence(config, only={"github"}, catalog_dir=catalog(tmp_path / name, "CODEHOST-MFA"),
                        collector_factory=no_sleep_github)


@pytest.mark.parametrize("fault", FAULTS)
def test_github_a_listing_cut_on_page_3_keeps_pages_1_and_2_and_errors_the_rest(
    fault: Fault, github: FakeGitHub, run_evidence: RunFn, tmp_path: Path
) -> None:
    with FaultProxy(github.api_url) as proxy:
        proxy.add(fault, members_page_3, times=None)
        result = run_github(run_evidence, tmp_path, proxy, "faulted")
    assert len(proxy.faults(fault)) == github_http.MAX_TRANSIENT_ATTEMPTS
    members = of(result, "github.members_without_2fa")
    assert_listing_errors(members, "orgs/list-members", GITHUB_CODES[fault], [])
    assert by_status(members, Status.PASS) == MEMBERS[:4]
    pages = records(result, "github", "orgs/list-members")
    every = [r for r in pages if r["parameters"]["filter"] == "all"]
    assert [[m["login"] for m in r["response"]] for r in every if r["error"] is None] == [MEMBERS[:2], MEMBERS[2:4]]
    [failed] = [r for r in every if r["error"] is not None]
    assert failed["parameters"]["page"] == 3
    # the other listing (filter=2fa_disabled) and the organisation's settings judge as without the fault
    assert [r["response"] for r in pages if r["parameters"]["filter"] == "2fa_disabled"] == [[]]
    assert {f.status for f in of(result, "github.org_2fa_required")} == {Status.PASS}
    assert verdicts(result)["CODEHOST-MFA"] is Status.ERROR
    assert result.exit_code == 3


@pytest.mark.parametrize("fault", FAULTS)
def test_github_a_fault_met_once_is_healed_by_the_retries(
    fault: Fault, github: FakeGitHub, run_evidence: RunFn, tmp_path: Path
) -> None:
    with FaultProxy(github.api_url) as proxy:
        clean = run_github(run_evidence, tmp_path, proxy, "clean")
        proxy.add(fault, members_page_3, times=1)
        healed = run_github(run_evidence, tmp_path, proxy, "healed")
    assert len(proxy.faults(fault)) == 1
    assert judged(healed.findings) == judged(clean.findings)
    assert by_status(of(healed, "github.members_without_2fa"), Status.PASS) == MEMBERS
    assert verdicts(healed)["CODEHOST-MFA"] is Status.PASS and healed.exit_code == 0


# --- Google Workspace: users.list in pages of 2 -----------------------------------------------------

ADMIN = "admin@zaptic.example"
GW_CHECKS = ("users_2sv_enrolled", "users_2sv_enforced", "super_admin_count", "super_admins_2sv", "inactive_users")
GOOGLE_CODES: dict[Fault, tuple[str, ...]] = {
    "reset": ("ConnectionResetError", "ConnectionError", "RemoteDisconnected"),
    "timeout": ("TimeoutError", "timeout"), "500": ("HTTP 500", "500"),
    "truncate": ("IncompleteRead",),
}


def people() -> list[dict[str, Any]]:
    """Five compliant people, two of them super administrators (pages [0, 1], [2, 3], [4])."""
    now = time.time()

    def stamp(days: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - days * 86400))

    emails = [ADMIN, "cto@zaptic.example", "ann@zaptic.example", "bob@zaptic.example", "cat@zaptic.example"]
    return [make_user(e, isAdmin=e in (ADMIN, "cto@zaptic.example"), isEnrolledIn2Sv=True, isEnforcedIn2Sv=True,
                      creationTime=stamp(400), lastLoginTime=stamp(1)) for e in emails]


def users_page_3(r: Request) -> bool:
    token = r.query.get("pageToken", [""])[0]
    return r.path.startswith(USERS_PATH) and bool(token) and \
        base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)) == b"4"


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWorkspace]:
    monkeypatch.setattr(googleapiclient.http, "DEFAULT_HTTP_TIMEOUT_SEC", READ_TIMEOUT)
    with FakeWorkspace(people(), page_size=2) as ws:
        yield ws
        ws.assert_served_payloads_valid()


def one_retry_google(cls: type[Collector], cfg: Config, period: Period) -> Collector:
    return GoogleWorkspaceCollector(cfg, period, num_retries=1)


def run_google(run_evidence: RunFn, tmp_path: Path, ws: FakeWorkspace, proxy: FaultProxy, name: str) -> RunResult:
    key = tmp_path / f"{name}-key.json"
    key.write_text(json.dumps(ws.service_account_info()), encoding="utf-8")  # token_uri: the fake itself
    config = {"google_workspace": {"customer_id": "my_customer", "credentials_file": str(key),
                                   "delegated_admin": ADMIN, "api_endpoint": proxy.url + "/"}}
    return run_evidence(config, only={"google_workspace"}, collector_factory=one_retry_google,
                        catalog_dir=catalog(tmp_path / name, "WORKFORCE-IDENTITY", "ACCESS-LIFECYCLE"))


@pytest.mark.parametrize("fault", FAULTS)
def test_google_a_listing_cut_on_page_3_keeps_pages_1_and_2_and_errors_the_rest(
    fault: Fault, workspace: FakeWorkspace, run_evidence: RunFn, tmp_path: Path
) -> None:
    with FaultProxy(workspace.base_url) as proxy:
        proxy.add(fault, users_page_3, times=None)
        result = run_google(run_evidence, tmp_path, workspace, proxy, "faulted")
    # the call and its one retry; google-api-python-client does not retry a body cut short
    assert len(proxy.faults(fault)) == (1 if fault == "truncate" else 2)
    kept = sorted(u["primaryEmail"] for u in people())[:4]  # listed by email
    for name in GW_CHECKS:
        findings = of(result, f"google_workspace.{name}")
        assert_listing_errors(findings, "directory.users.list" if name != "super_admin_count" else "cannot all be "
                              "counted", GOOGLE_CODES[fault] if name != "super_admin_count" else ("",), kept)
        assert not set(by_status(findings, Status.PASS) + by_status(findings, Status.FAIL)) - set(kept)
    assert by_status(of(result, "google_workspace.users_2sv_enrolled"), Status.PASS) == sorted(kept)
    pages = records(result, "google_workspace", "directory.users.list")
    assert [[u["primaryEmail"] for u in r["response"]["users"]] for r in pages if r["error"] is None] == [
        kept[:2], kept[2:]]
    [failed] = [r for r in pages if r["error"] is not None]
    assert failed["parameters"]["page"] == 3
    assert verdicts(result) == {"WORKFORCE-IDENTITY": Status.ERROR, "ACCESS-LIFECYCLE": Status.ERROR}
    assert result.exit_code == 3


@pytest.mark.parametrize("fault", FAULTS)
def test_google_a_fault_met_once_is_healed_by_the_retries_or_is_an_error(
    fault: Fault, workspace: FakeWorkspace, run_evidence: RunFn, tmp_path: Path
) -> None:
    with FaultProxy(workspace.base_url) as proxy:
        clean = run_google(run_evidence, tmp_path, workspace, proxy, "clean")
        proxy.add(fault, users_page_3, times=1)
        once = run_google(run_evidence, tmp_path, workspace, proxy, "once")
    assert len(proxy.faults(fault)) == 1
    if fault == "truncate":
        # not retried by google-api-python-client: an error naming the cut body, never the short listing
        enrolled = of(once, "google_workspace.users_2sv_enrolled")
        kept = sorted(u["primaryEmail"] for u in people())[:4]
        assert_listing_errors(enrolled, "directory.users.list", GOOGLE_CODES[fault], kept)
        assert verdicts(once)["WORKFORCE-IDENTITY"] is Status.ERROR
        return
    assert judged(once.findings) == judged(clean.findings)
    assert len(of(once, "google_workspace.users_2sv_enrolled")) == 5
    assert Status.ERROR not in {f.status for f in once.findings}


# --- probes: three URLs on one HTTPS site and its security.txt, through a TLS-terminating proxy ----

PATHS = ["/login", "/account", "/billing"]  # the third is the one that fails
SECURITY_TXT = "/.well-known/security.txt"
PROBE_CODES: dict[Fault, tuple[str, ...]] = {
    "reset": ("ReadError", "RemoteProtocolError", "ConnectError"), "timeout": ("Timeout",), "500": ("HTTP 500",),
    "truncate": ("RemoteProtocolError", "ReadError"),
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory)


def server_context(cert: IssuedCertificate, folder: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    (folder / "chain.pem").write_bytes(cert.chain_pem)
    (folder / "key.pem").write_bytes(cert.key_pem)
    ctx.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    return ctx


@pytest.fixture
def site_proxy(pki: Pki, tmp_path: Path) -> Iterator[FaultProxy]:
    with FakeEndpoint(pki.good) as site, FaultProxy(
        site.origin, hold=10, server_tls=server_context(pki.good, tmp_path),
        upstream_tls=ssl.create_default_context(cafile=str(pki.ca_file)),
    ) as proxy:
        yield proxy


def run_probes(run_evidence: RunFn, tmp_path: Path, proxy: FaultProxy, pki: Pki, name: str) -> RunResult:
    config = {"probes": {"urls": [proxy.url + p for p in PATHS], "ca_file": str(pki.ca_file),
                         "timeout_seconds": READ_TIMEOUT}}
    return run_evidence(config, only={"probe"}, catalog_dir=catalog(tmp_path / name, "SECURE-SESSIONS", "DISCLOSURE"))


@pytest.mark.parametrize("fault", FAULTS)
def test_probes_a_fault_on_the_third_url_and_on_security_txt_errors_them_and_keeps_the_rest(
    fault: Fault, site_proxy: FaultProxy, pki: Pki, run_evidence: RunFn, tmp_path: Path
) -> None:
    site_proxy.add(fault, lambda r: r.path == "/billing", times=None)
    site_proxy.add(fault, lambda r: r.path == SECURITY_TXT, times=None)
    result = run_probes(run_evidence, tmp_path, site_proxy, pki, "faulted")
    third = site_proxy.url + "/billing"
    kept = [site_proxy.url + p for p in PATHS[:2]]
    for check_id in ("probe.security_headers", "probe.session_cookies"):
        findings = of(result, check_id)
        if fault == "truncate":
            # the GET probe reads the status and headers only, and they came whole: nothing was lost
            assert by_status(findings, Status.PASS) == sorted([*kept, third])
            continue
        assert_listing_errors(findings, "http.Get", PROBE_CODES[fault], [])
        assert by_status(findings, Status.ERROR) == [third]
        assert by_status(findings, Status.PASS) == sorted(kept)
    txt = of(result, "probe.security_txt")
    assert_listing_errors(txt, "http.SecurityTxt", PROBE_CODES[fault], [])
    assert by_status(txt, Status.ERROR) == [site_proxy.url + SECURITY_TXT]
    gets = records(result, "probe", "Get")
    assert sorted(r["subject"] for r in gets if r["error"] is None) == sorted(kept + ([third] if fault == "truncate"
                                                                                     else []))
    assert verdicts(result)["DISCLOSURE"] is Status.ERROR
    assert verdicts(result)["SECURE-SESSIONS"] is (Status.PASS if fault == "truncate" else Status.ERROR)
    assert result.exit_code == 3


def test_probes_without_a_fault_pass(site_proxy: FaultProxy, pki: Pki, run_evidence: RunFn, tmp_path: Path) -> None:
    """The baseline of the test above: the same site through the same proxy, nothing injected."""
    result = run_probes(run_evidence, tmp_path, site_proxy, pki, "clean")
    assert verdicts(result) == {"SECURE-SESSIONS": Status.PASS, "DISCLOSURE": Status.PASS}
    assert not site_proxy.faults() and result.exit_code == 0
