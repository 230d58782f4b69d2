"""Probe checks: through the whole pipeline against real loopback TLS/HTTP servers, and on
hand-made records for the edges (reference time, malformed values, incomplete evidence)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog import Catalog
from evidence.checks.probe import hostname_matches, hsts_max_age
from evidence.evaluate import evaluate
from evidence.judge import Judging, run_check
from evidence.models import CollectionError, EvidenceRecord, Finding, Status
from evidence.records import EvidenceWriter
from evidence.registry import Registry
from evidence.runner import RunResult
from tests.conftest import RunFn
from tests.fakes.endpoints import (
    CertificateAuthority,
    Cookie,
    FakeEndpoint,
    IssuedCertificate,
    SilentEndpoint,
    Site,
    refused_port,
    rsa_key,
    security_txt,
)

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    good: IssuedCertificate
    weak: IssuedCertificate
    expiring: IssuedCertificate
    wrong_host: IssuedCertificate


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    shared = rsa_key(2048)
    ca = CertificateAuthority(key=rsa_key(2048))
    return Pki(
        ca_file=ca.write(tmp_path_factory.mktemp("pki") / "ca.pem"),
        good=ca.issue(key=shared),
        weak=ca.issue(key=rsa_key(1024)),
        expiring=ca.issue(key=shared, days_valid=10),
        wrong_host=ca.issue(["www.zaptic.example"], key=shared),
    )


def by_check(result: RunResult, check_id: str) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    for f in result.findings:
        if f.check_id == check_id:
            assert f.resource_id not in found, f"two findings for {f.resource_id}"
            found[f.resource_id] = f
    return found


# --- the pipeline against live loopback servers ---------------------------------------------------


@dataclass
class Estate:
    good: FakeEndpoint
    legacy: FakeEndpoint
    weak: FakeEndpoint
    expiring: FakeEndpoint
    wrong_host: FakeEndpoint
    sloppy: FakeEndpoint
    session: Cookie
    tracking: Cookie


@pytest.fixture
def estate(pki: Pki) -> Iterator[Estate]:
    session = Cookie("session")
    tracking = Cookie("tracking", attributes="Path=/; SameSite=None")
    sloppy_site = Site(hsts="max-age=3600", csp=None, cookies=[tracking, Cookie("session")],
                       security_txt=security_txt(expires=datetime.now(UTC) - timedelta(days=3)))
    with (
        FakeEndpoint(pki.good, Site(cookies=[session])) as good,
        FakeEndpoint(pki.good, Site(min_tls=ssl.TLSVersion.TLSv1)) as legacy,
        FakeEndpoint(pki.weak) as weak,
        FakeEndpoint(pki.expiring) as expiring,
        FakeEndpoint(pki.wrong_host) as wrong_host,
        FakeEndpoint(pki.good, sloppy_site) as sloppy,
    ):
        yield Estate(good, legacy, weak, expiring, wrong_host, sloppy, session, tracking)


@pytest.fixture
def live(estate: Estate, pki: Pki, run_evidence: RunFn) -> RunResult:
    e = estate
    return run_evidence({"probes": {
        "tls_endpoints": [x.endpoint for x in (e.good, e.legacy, e.weak, e.expiring, e.wrong_host)],
        "urls": [e.good.url("/login"), e.sloppy.url("/pricing")],
        "ca_file": str(pki.ca_file),
    }}, only={"probe"})


def test_tls_protocols_pass_and_fail(live: RunResult, estate: Estate) -> None:
    found = by_check(live, "probe.tls_protocols")
    good, legacy = found[estate.good.endpoint], found[estate.legacy.endpoint]
    assert good.status is Status.PASS and good.control_id == "ENC-TRANSIT"
    assert good.observed == {"accepted": ["TLSv1.2", "TLSv1.3"], "refused": ["TLSv1", "TLSv1.1"],
                             "not determined": []}
    assert good.expected == "refuses below TLSv1.2; accepts TLSv1.2 or later"
    assert good.source == "probe" and good.resource_type == "tls_endpoint"
    assert len(good.evidence) == 4 and all(p.startswith("evidence/probe/") for p in good.evidence)
    assert legacy.status is Status.FAIL
    assert legacy.observed["accepted"] == ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert "accepts TLSv1, TLSv1.1, below TLSv1.2" in legacy.message


def test_certificate_pass_and_each_kind_of_fail(live: RunResult, estate: Estate) -> None:
    found = by_check(live, "probe.certificate")
    good = found[estate.good.endpoint]
    assert good.status is Status.PASS and good.control_id == "TLS-CERTS"
    assert good.observed["key_algorithm"] == "RSA_2048" and good.observed["signature_hash"] == "sha256"
    assert good.observed["verified"] is True
    weak = found[estate.weak.endpoint]
    assert weak.status is Status.FAIL and "RSA key of 1024 bits, below 2048" in weak.message
    expiring = found[estate.expiring.endpoint]
    assert expiring.status is Status.FAIL and "under 30" in expiring.message
    assert expiring.observed["days_left"] in (8, 9, 10)
    wrong = found[estate.wrong_host.endpoint]
    assert wrong.status is Status.FAIL
    assert "127.0.0.1 is not among its names ['www.zaptic.example']" in wrong.message
    assert "does not validate" not in wrong.message  # the chain is fine; only the name is wrong


def test_security_headers_pass_and_fail(live: RunResult, estate: Estate) -> None:
    found = by_check(live, "probe.security_headers")
    good = found[estate.good.url("/login")]
    assert good.status is Status.PASS and good.control_id == "SECURE-SESSIONS"
    assert good.observed["hsts_max_age"] == 31536000
    sloppy = found[estate.sloppy.url("/pricing")]
    assert sloppy.status is Status.FAIL
    assert "HSTS max-age 3600 is under 15552000" in sloppy.message
    assert "no Content-Security-Policy header" in sloppy.message


def test_session_cookies_pass_and_fail(live: RunResult, estate: Estate) -> None:
    found = by_check(live, "probe.session_cookies")
    good = found[estate.good.url("/login")]
    assert good.status is Status.PASS
    assert good.observed == [{"name": "session", "secure": True, "http_only": True, "same_site": "Lax"}]
    sloppy = found[estate.sloppy.url("/pricing")]
    assert sloppy.status is Status.FAIL
    assert "tracking lacks Secure, HttpOnly, SameSite Lax/Strict (has None)" in sloppy.message
    assert "session lacks" not in sloppy.message


def test_security_txt_pass_and_fail(live: RunResult, estate: Estate) -> None:
    found = by_check(live, "probe.security_txt")
    good = found[f"{estate.good.origin}/.well-known/security.txt"]
    assert good.status is Status.PASS and good.control_id == "DISCLOSURE"
    assert good.observed["contact"] == ["mailto:security@example.test"]
    sloppy = found[f"{estate.sloppy.origin}/.well-known/security.txt"]
    assert sloppy.status is Status.FAIL and "expired on" in sloppy.message


def test_verdicts_and_offline_re_judging(live: RunResult, registry: Registry) -> None:
    verdicts = {v.control_id: v.verdict for v in live.verdicts}
    for control in ("ENC-TRANSIT", "TLS-CERTS", "SECURE-SESSIONS", "DISCLOSURE"):
        assert verdicts[control] is Status.FAIL, control
    assert live.bundle is not None
    text, _, _ = evaluate(live.bundle, registry)
    assert text == (live.bundle / "findings.json").read_text()


def test_no_cookie_value_appears_anywhere_in_the_bundle(live: RunResult, estate: Estate) -> None:
    assert live.bundle is not None
    secrets = [estate.session.value, estate.tracking.value, *(c.value for c in estate.sloppy.site.cookies)]
    files = [p for p in live.bundle.rglob("*") if p.is_file()]
    assert any("/evidence/probe/" in p.as_posix() for p in files)
    for path in files:
        data = path.read_bytes()
        for value in secrets:
            assert value.encode() not in data, f"cookie value found in {path}"
    # the cookies were seen, by name
    cookie_names = {c["name"] for p in files if "/http/Get-" in p.as_posix()
                    for c in json.loads(p.read_text())["response"]["cookies"]}
    assert cookie_names == {"session", "tracking"}


def test_unreachable_endpoints_are_errors_naming_the_cause(run_evidence: RunFn) -> None:
    with refused_port() as port, SilentEndpoint() as silent:
        refused_ep, refused_url = f"127.0.0.1:{port}", f"https://127.0.0.1:{port}/login"
        silent_ep = silent.endpoint
        result = run_evidence({"probes": {
            "tls_endpoints": [refused_ep, silent.endpoint], "urls": [refused_url, f"https://{silent.endpoint}/"],
            "timeout_seconds": 0.3,
        }}, only={"probe"})
    probe = [f for f in result.findings if f.source == "probe"]
    assert probe and all(f.status is Status.ERROR for f in probe), [(f.check_id, f.status) for f in probe]
    checks = {f.check_id for f in probe}
    assert checks == {"probe.tls_protocols", "probe.certificate", "probe.security_headers",
                      "probe.session_cookies", "probe.security_txt"}
    tls = by_check(result, "probe.tls_protocols")
    assert "ConnectionRefused" in tls[refused_ep].message and "Remedy:" in tls[refused_ep].message
    assert "HandshakeTimeout" in tls[silent_ep].message
    headers = by_check(result, "probe.security_headers")
    assert headers[refused_url].observed == "ConnectionRefused"
    assert headers[f"https://{silent_ep}/"].observed == "Timeout"
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts["ENC-TRANSIT"] is Status.ERROR and verdicts["DISCLOSURE"] is Status.ERROR


PROBE_CHECKS = {"probe.tls_protocols", "probe.certificate", "probe.security_headers", "probe.session_cookies",
                "probe.security_txt"}


def test_no_probes_section_is_an_error_like_every_unconfigured_source(run_evidence: RunFn) -> None:
    result = run_evidence({}, only={"probe"})
    probe = [f for f in result.findings if f.source == "probe"]
    assert {f.check_id for f in probe} == PROBE_CHECKS
    assert all(f.status is Status.ERROR for f in probe), [(f.check_id, f.status) for f in probe]
    assert all("not collected: no [probes] section in the configuration" in f.message for f in probe)
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    for control in ("DISCLOSURE", "SECURE-SESSIONS", "ENC-TRANSIT", "TLS-CERTS"):
        assert verdicts[control] is Status.ERROR, control
    assert result.exit_code == 3


def test_explicitly_empty_lists_are_a_stated_scope_and_say_so(run_evidence: RunFn) -> None:
    result = run_evidence({"probes": {"tls_endpoints": [], "urls": []}}, only={"probe"})
    probe = [f for f in result.findings if f.source == "probe"]
    assert {f.check_id for f in probe} == PROBE_CHECKS
    assert all(f.status is Status.NOT_APPLICABLE and f.evidence for f in probe)
    assert all("the configured scope is empty" in f.message for f in probe)
    tls = by_check(result, "probe.certificate")["probe"]
    assert "[probes] tls_endpoints = []" in tls.message
    assert tls.observed == "0 TLS endpoints: [probes] tls_endpoints = []"
    assert "[probes] urls = []" in by_check(result, "probe.security_txt")["probe"].message
    verdicts = {v.control_id: v.verdict for v in result.verdicts}
    assert verdicts["DISCLOSURE"] is Status.NOT_APPLICABLE and verdicts["SECURE-SESSIONS"] is Status.NOT_APPLICABLE


def test_a_list_left_out_of_the_section_is_not_configured(run_evidence: RunFn) -> None:
    result = run_evidence({"probes": {"tls_endpoints": []}}, only={"probe"})
    for check_id in ("probe.tls_protocols", "probe.certificate"):
        assert by_check(result, check_id)["probe"].status is Status.NOT_APPLICABLE
    for check_id in ("probe.security_headers", "probe.session_cookies", "probe.security_txt"):
        (finding,) = by_check(result, check_id).values()
        assert finding.status is Status.ERROR
        assert "NotConfigured: [probes] has no urls" in finding.message and "urls = []" in finding.message
    assert {v.control_id: v.verdict for v in result.verdicts}["DISCLOSURE"] is Status.ERROR


def test_min_tls_can_be_lowered_per_control(pki: Pki, run_evidence: RunFn) -> None:
    with FakeEndpoint(pki.good, Site(min_tls=ssl.TLSVersion.TLSv1_1)) as ep:
        result = run_evidence({"probes": {"tls_endpoints": [ep.endpoint]},
                               "controls": {"ENC-TRANSIT": {"min_tls": "1.1"}}}, only={"probe"})
    (finding,) = by_check(result, "probe.tls_protocols").values()
    assert finding.status is Status.PASS
    assert finding.observed["refused"] == ["TLSv1"]


# --- hand-made records: the edges -------------------------------------------------------------------


class Records:
    """Evidence records as the probe collector writes them, judged with a fixed reference time."""

    def __init__(self, root: Path) -> None:
        self.writer = EvidenceWriter(root)

    def add(self, key: str, subject: str, response: Any = None, *, error: CollectionError | None = None,
            **params: Any) -> None:
        service, _, op = key.partition(".")
        self.writer.write(EvidenceRecord(source="probe", service=service, operation=op, parameters=params,
                                         subject=subject, collected_at="2026-11-15T12:00:00Z",
                                         response=None if error else response, error=error))

    def judge(self, registry: Registry, check_id: str, control: str = "X", **params: Any) -> list[Finding]:
        chk = registry.checks[check_id]
        judging = Judging(reference_time=NOW, catalog=Catalog(controls={}),
                          params={control: {check_id: {**chk.params, **params}}}, sources={"probe": None})
        return run_check(chk, control, judging, self.writer.index())


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return Records(tmp_path)


EP = "app.example.com:443"
URL = "https://app.example.com/login"
TXT = "https://app.example.com/.well-known/security.txt"
VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


def _tls_listing(records: Records) -> None:
    records.add("tls.ListEndpoints", "", {"endpoints": [EP], "versions": VERSIONS})


def _handshake(records: Records, version: str, accepted: bool) -> None:
    records.add("tls.Handshake", EP, {"endpoint": EP, "version": version, "accepted": accepted},
                endpoint=EP, version=version)


def test_a_version_that_could_not_be_offered_never_passes(records: Records, registry: Registry) -> None:
    _tls_listing(records)
    records.add("tls.Handshake", EP, error=CollectionError(code="ClientCannotOffer", message="no TLSv1",
                                                            remedy="use an OpenSSL that can"),
                endpoint=EP, version="TLSv1")
    for version, accepted in (("TLSv1.1", False), ("TLSv1.2", True), ("TLSv1.3", True)):
        _handshake(records, version, accepted)
    (finding,) = records.judge(registry, "probe.tls_protocols")
    assert finding.status is Status.ERROR
    assert "ClientCannotOffer" in finding.message and "use an OpenSSL that can" in finding.message


def test_a_legacy_version_accepted_fails_even_if_another_is_unknown(records: Records, registry: Registry) -> None:
    _tls_listing(records)
    records.add("tls.Handshake", EP, error=CollectionError(code="ClientCannotOffer", message="no TLSv1"),
                endpoint=EP, version="TLSv1")
    for version in ("TLSv1.1", "TLSv1.2", "TLSv1.3"):
        _handshake(records, version, True)
    statuses = sorted(f.status.value for f in records.judge(registry, "probe.tls_protocols"))
    assert statuses == ["error", "fail"]


def test_missing_handshake_evidence_is_an_error(records: Records, registry: Registry) -> None:
    _tls_listing(records)
    records.add("tls.Handshake", "other:443", {"endpoint": "other:443", "version": "TLSv1.2", "accepted": True},
                endpoint="other:443", version="TLSv1.2")
    found = {f.resource_id: f for f in records.judge(registry, "probe.tls_protocols")}
    assert found[EP].status is Status.ERROR
    assert found[EP].observed["not determined"] == VERSIONS
    # a record for an endpoint that is not listed is judged by nothing: an error too, never silence
    assert found["other:443"].status is Status.ERROR and "not judged by probe.tls_protocols" in found[
        "other:443"].message


def test_endpoint_refusing_everything_fails(records: Records, registry: Registry) -> None:
    _tls_listing(records)
    for version in VERSIONS:
        _handshake(records, version, False)
    (finding,) = records.judge(registry, "probe.tls_protocols")
    assert finding.status is Status.FAIL and "accepts no TLS version" in finding.message


def _certificate(**overrides: Any) -> dict[str, Any]:
    cert = {
        "endpoint": EP, "host": "app.example.com", "key_type": "RSA", "key_bits": 2048,
        "key_algorithm": "RSA_2048", "signature_algorithm": "sha256WithRSAEncryption", "signature_hash": "sha256",
        "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
        "san_dns": ["*.example.com"], "san_ip": [], "issuer": "CN=Example CA",
        "verification": {"verified": True, "verify_code": 0, "verify_message": "ok"},
    }
    cert.update(overrides)
    return cert


@pytest.mark.parametrize(("overrides", "status", "phrase"), [
    ({}, Status.PASS, "validates"),
    ({"key_algorithm": "EC_prime256v1", "key_type": "EC", "key_bits": 256,
      "signature_algorithm": "ecdsa-with-SHA384", "signature_hash": "sha384"}, Status.PASS, "EC_prime256v1"),
    ({"signature_algorithm": "sha1WithRSAEncryption", "signature_hash": "sha1"}, Status.FAIL, "weaker than SHA-256"),
    ({"not_after": "2026-12-01T00:00:00Z"}, Status.FAIL, "expires in 15 days"),
    ({"not_after": "2026-11-01T00:00:00Z"}, Status.FAIL, "expired on 2026-11-01"),
    ({"not_before": "2026-12-01T00:00:00Z"}, Status.FAIL, "not valid before"),
    ({"san_dns": ["example.com", "*.other.com"]}, Status.FAIL, "is not among its names"),
    ({"verification": {"verified": False, "verify_code": 19,
                       "verify_message": "self-signed certificate in certificate chain"}},
     Status.FAIL, "does not validate: self-signed certificate in certificate chain"),
])
def test_certificate_rules(records: Records, registry: Registry, overrides: dict[str, Any], status: Status,
                           phrase: str) -> None:
    _tls_listing(records)
    records.add("tls.Certificate", EP, _certificate(**overrides), endpoint=EP)
    (finding,) = records.judge(registry, "probe.certificate", min_rsa_bits=2048, allow_ec=True,
                               min_signature_hash_bits=256, min_days_valid=30, require_trusted=True)
    assert finding.status is status, finding.message
    assert phrase in finding.message


def test_certificate_ec_refused_when_not_allowed_and_trust_optional(records: Records, registry: Registry) -> None:
    _tls_listing(records)
    records.add("tls.Certificate", EP, _certificate(
        key_algorithm="EC_prime256v1", verification={"verified": False, "verify_code": 20,
                                                     "verify_message": "unable to get local issuer certificate"}),
        endpoint=EP)
    (finding,) = records.judge(registry, "probe.certificate", allow_ec=False, require_trusted=False)
    assert finding.status is Status.FAIL
    assert "elliptic-curve key" in finding.message and "does not validate" not in finding.message


def test_hostname_matching() -> None:
    assert hostname_matches("app.example.com", ["*.example.com"], [])
    assert hostname_matches("APP.example.com.", ["app.example.com"], [])
    assert not hostname_matches("a.b.example.com", ["*.example.com"], [])
    assert not hostname_matches("example.com", ["*.example.com"], [])
    assert not hostname_matches("app.example.com", ["*.com"], [])
    assert hostname_matches("127.0.0.1", ["localhost"], ["127.0.0.1"])
    assert not hostname_matches("127.0.0.1", ["127.0.0.1"], [])  # an IP must be an IP SAN
    assert hostname_matches("::1", [], ["0:0:0:0:0:0:0:1"])


def _http_listing(records: Records, urls: list[str], sites: list[str] | None = None) -> None:
    records.add("http.ListUrls", "", {"urls": urls, "security_txt": sites if sites is not None else [TXT]})


def _get(records: Records, url: str, status: int = 200, headers: dict[str, list[str]] | None = None,
         cookies: list[dict[str, Any]] | None = None, redirect: str | None = None) -> None:
    records.add("http.Get", url, {"url": url, "status": status, "headers": headers or {}, "cookies": cookies or [],
                                  "redirect": redirect}, url=url)


@pytest.mark.parametrize(("headers", "status", "redirect", "result", "phrase"), [
    ({"strict-transport-security": ["max-age=15552000"], "content-security-policy": ["default-src 'self'"]},
     200, None, Status.PASS, "sends HSTS (max-age 15552000)"),
    ({"strict-transport-security": ['max-age="31536000"; preload']}, 302, "https://app.example.com/x",
     Status.PASS, "sends HSTS"),
    ({"strict-transport-security": ["includeSubDomains"], "content-security-policy": ["default-src 'self'"]},
     200, None, Status.FAIL, "has no valid max-age"),
    ({"strict-transport-security": ["max-age=31536000"],
      "content-security-policy-report-only": ["default-src 'self'"]},
     200, None, Status.FAIL, "only a Report-Only policy"),
    ({}, 200, None, Status.FAIL, "no Strict-Transport-Security header"),
])
def test_security_header_rules(records: Records, registry: Registry, headers: dict[str, list[str]], status: int,
                               redirect: str | None, result: Status, phrase: str) -> None:
    _http_listing(records, [URL])
    _get(records, URL, status, headers, redirect=redirect)
    (finding,) = records.judge(registry, "probe.security_headers", min_hsts_max_age=15552000)
    assert finding.status is result, finding.message
    assert phrase in finding.message


def test_plain_http_urls(records: Records, registry: Registry) -> None:
    up, stay = "http://app.example.com/", "http://legacy.example.com/"
    _http_listing(records, [up, stay])
    _get(records, up, 301, redirect="https://app.example.com/")
    _get(records, stay, 200)
    found = {f.resource_id: f for f in records.judge(registry, "probe.security_headers")}
    assert found[up].status is Status.NOT_APPLICABLE
    assert found[stay].status is Status.FAIL and "plain HTTP" in found[stay].message


def test_hsts_max_age_parsing() -> None:
    assert hsts_max_age("max-age=31536000; includeSubDomains") == 31536000
    assert hsts_max_age("includeSubDomains; MAX-AGE = 10") == 10
    assert hsts_max_age("max-age=-1") is None
    assert hsts_max_age("") is None


def _cookie(name: str, secure: bool = True, http_only: bool = True, same_site: str | None = "Lax") -> dict[str, Any]:
    return {"name": name, "secure": secure, "http_only": http_only, "same_site": same_site}


def test_cookie_rules_and_exemptions(records: Records, registry: Registry) -> None:
    none, strict, csrf, bad = (f"https://app.example.com/{p}" for p in ("none", "strict", "csrf", "bad"))
    _http_listing(records, [none, strict, csrf, bad])
    _get(records, none)
    _get(records, strict, cookies=[_cookie("sid", same_site="strict")])
    _get(records, csrf, cookies=[_cookie("sid"), _cookie("XSRF-TOKEN", http_only=False)])
    _get(records, bad, cookies=[_cookie("sid", secure=False, same_site="None")])
    found = {f.resource_id: f for f in records.judge(registry, "probe.session_cookies",
                                                      allowed_same_site=["Lax", "Strict"],
                                                      http_only_exempt=["XSRF-TOKEN"])}
    assert found[none].status is Status.NOT_APPLICABLE  # no cookie: skipped, saying so
    assert "sets no cookie" in found[none].message
    assert found[strict].status is Status.PASS
    assert found[csrf].status is Status.PASS
    assert found[bad].status is Status.FAIL and "sid lacks Secure, SameSite Lax/Strict (has None)" in found[bad].message
    assert found[bad].expected == "every cookie Secure, HttpOnly, SameSite in Lax/Strict"


def test_urls_without_cookies_are_not_applicable(records: Records, registry: Registry) -> None:
    _http_listing(records, [URL])
    _get(records, URL)
    (finding,) = records.judge(registry, "probe.session_cookies")
    assert finding.status is Status.NOT_APPLICABLE and finding.resource_id == URL
    assert finding.message == "Not judged by this check: the URL sets no cookie."


def _txt(records: Records, status: int = 200, **fields: list[str]) -> None:
    records.add("http.SecurityTxt", TXT, {"url": TXT, "status": status, "fields": fields, "redirect": None},
                url=TXT)


@pytest.mark.parametrize(("status", "fields", "result", "phrase"), [
    (200, {"contact": ["mailto:security@zaptic.com"], "expires": ["2027-01-01T00:00:00.000Z"]}, Status.PASS,
     "names mailto:security@zaptic.com"),
    (200, {"contact": ["mailto:s@x"], "expires": ["2026-11-15T11:59:59Z"]}, Status.FAIL, "expired on 2026-11-15"),
    (200, {"expires": ["2027-01-01T00:00:00Z"]}, Status.FAIL, "no Contact field"),
    (200, {"contact": ["mailto:s@x"]}, Status.FAIL, "no Expires field"),
    (200, {"contact": ["mailto:s@x"], "expires": ["next year"]}, Status.FAIL, "is not an RFC 3339 date"),
    (200, {"contact": ["mailto:s@x"], "expires": ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]},
     Status.FAIL, "2 Expires fields"),
    (404, {}, Status.FAIL, "not served (HTTP 404)"),
])
def test_security_txt_rules_use_the_reference_time(records: Records, registry: Registry, status: int,
                                                    fields: dict[str, list[str]], result: Status,
                                                    phrase: str) -> None:
    _http_listing(records, [URL])
    _txt(records, status, **fields)
    (finding,) = records.judge(registry, "probe.security_txt")
    assert finding.status is result, finding.message
    assert phrase in finding.message


# --- what the checks do not look at: malformed listings and records (issue 11) ------------------------


@pytest.mark.parametrize(("listing", "response", "path", "readers"), [
    ("tls.ListEndpoints", {"hosts": [EP], "versions": VERSIONS}, "endpoints",
     {"probe.tls_protocols", "probe.certificate"}),
    ("http.ListUrls", {"targets": [URL], "security_txt": [TXT]}, "urls",
     {"probe.security_headers", "probe.session_cookies"}),
    ("http.ListUrls", {"urls": [URL], "security_txt": {"site": TXT}}, "security_txt", {"probe.security_txt"}),
])
def test_a_listing_whose_items_are_elsewhere_is_an_error_naming_the_page_and_path(
    records: Records, registry: Registry, listing: str, response: dict[str, Any], path: str, readers: set[str]
) -> None:
    records.add(listing, "", response)
    page = records.writer.index().entries_for(listing)[0].path
    for check_id in readers:
        findings = records.judge(registry, check_id)
        assert findings, check_id
        assert all(f.status is Status.ERROR for f in findings), (check_id, findings)
        assert any(page in f.message and f"({path})" in f.message and f.evidence == [page] for f in findings)


def test_a_listed_endpoint_without_any_record_is_an_error(records: Records, registry: Registry) -> None:
    _tls_listing(records)
    _http_listing(records, [URL])
    for check_id, resource in (("probe.certificate", EP), ("probe.session_cookies", URL),
                               ("probe.security_headers", URL), ("probe.security_txt", TXT)):
        (finding,) = records.judge(registry, check_id)
        assert finding.status is Status.ERROR and finding.resource_id == resource, check_id
        assert "no " in finding.message and "record was collected for it" in finding.message


def _missing(response: dict[str, Any], path: str) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    if not rest:
        return {k: v for k, v in response.items() if k != head}
    return {**response, head: _missing(response[head], rest)}


@pytest.mark.parametrize("field", ["key_algorithm", "not_after", "not_before", "san_dns", "verification",
                                   "verification.verified"])
def test_a_certificate_without_a_decisive_field_is_an_error(records: Records, registry: Registry,
                                                            field: str) -> None:
    _tls_listing(records)
    records.add("tls.Certificate", EP, _missing(_certificate(), field), endpoint=EP)
    (finding,) = records.judge(registry, "probe.certificate")
    assert finding.status is Status.ERROR and finding.resource_id == EP
    assert f"field '{field}'" in finding.message or f"field '{field.partition('.')[0]}'" in finding.message
    assert "/tls/Certificate-" in finding.message


def test_a_handshake_or_listing_without_a_decisive_field_is_an_error(records: Records, registry: Registry,
                                                                     tmp_path: Path) -> None:
    _tls_listing(records)
    for version in VERSIONS[1:]:
        _handshake(records, version, version != "TLSv1.1")
    records.add("tls.Handshake", EP, {"endpoint": EP, "version": "TLSv1"}, endpoint=EP, version="TLSv1")
    (finding,) = records.judge(registry, "probe.tls_protocols")
    assert finding.status is Status.ERROR and "field 'accepted'" in finding.message
    unlisted = Records(tmp_path / "other")
    unlisted.add("tls.ListEndpoints", "", {"endpoints": [EP]})  # no "versions": what was probed is unknown
    for version in VERSIONS:
        _handshake(unlisted, version, version in ("TLSv1.2", "TLSv1.3"))
    (finding,) = unlisted.judge(registry, "probe.tls_protocols")
    assert finding.status is Status.ERROR and "field 'versions'" in finding.message


@pytest.mark.parametrize(("check_id", "response", "field"), [
    ("probe.security_headers", {"url": URL, "status": 200, "cookies": [], "redirect": None}, "headers"),
    ("probe.security_headers", {"url": URL, "headers": {}, "cookies": [], "redirect": None}, "status"),
    ("probe.security_headers", {"url": URL, "status": 200, "headers": {"strict-transport-security": "max-age=9"},
                                "cookies": [], "redirect": None}, "headers.strict-transport-security"),
    ("probe.session_cookies", {"url": URL, "status": 200, "headers": {}, "redirect": None}, "cookies"),
    ("probe.session_cookies", {"url": URL, "status": 200, "headers": {}, "redirect": None,
                               "cookies": [{"name": "sid", "http_only": True, "same_site": "Lax"}]},
     "cookies[0].secure"),
])
def test_an_http_record_without_a_decisive_field_is_an_error(records: Records, registry: Registry, check_id: str,
                                                            response: dict[str, Any], field: str) -> None:
    _http_listing(records, [URL])
    records.add("http.Get", URL, response, url=URL)
    (finding,) = records.judge(registry, check_id)
    assert finding.status is Status.ERROR and finding.resource_id == URL
    assert f"field '{field}'" in finding.message


def test_a_security_txt_record_without_its_status_is_an_error(records: Records, registry: Registry) -> None:
    _http_listing(records, [URL])
    records.add("http.SecurityTxt", TXT, {"url": TXT, "fields": {"contact": ["mailto:s@x"]}}, url=TXT)
    (finding,) = records.judge(registry, "probe.security_txt")
    assert finding.status is Status.ERROR and finding.resource_id == TXT and "field 'status'" in finding.message


def test_parameters_are_typed_and_bounded(registry: Registry) -> None:
    from evidence.checks.params import problem

    cert = registry.checks["probe.certificate"].param_model
    assert problem(cert, {"min_rsa_bits": "big"}) is not None
    assert problem(cert, {"min_rsa_bits": 512}) is not None
    assert problem(cert, {"min_days_valid": -1}) is not None
    assert problem(cert, {"min_rsa_bits": 3072, "allow_ec": False}) is None
    cookies = registry.checks["probe.session_cookies"].param_model
    assert problem(cookies, {"allowed_same_site": ["Lax", "Sometimes"]}) is not None
    assert problem(cookies, {"allowed_same_site": []}) is not None
    assert problem(registry.checks["probe.security_headers"].param_model, {"min_hsts_max_age": "1y"}) is not None
    assert registry.checks["probe.certificate"].params == {
        "min_rsa_bits": 2048, "allow_ec": True, "min_signature_hash_bits": 256, "min_days_valid": 30,
        "require_trusted": True,
    }
