"""The probe collector against real TLS/HTTP servers on loopback (evidence.fakes.endpoints), with
certificates made here. Nothing but 127.0.0.1 is contacted."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from evidence.collectors import probe as probe_module
from evidence.collectors.base import CollectorFailure, Sink
from evidence.collectors.probe import (
    PERMISSIONS,
    ProbeCollector,
    build_offer,
    parse_endpoint,
    parse_security_txt,
    parse_set_cookie,
    security_txt_url,
)
from evidence.config import parse_config
from evidence.fakes.endpoints import (
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
from evidence.models import EvidenceRecord
from evidence.records import EvidenceWriter


@dataclass(frozen=True)
class Pki:
    ca: CertificateAuthority
    ca_file: Path
    good: IssuedCertificate
    weak: IssuedCertificate
    expiring: IssuedCertificate
    wrong_host: IssuedCertificate
    ec_cert: IssuedCertificate


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    # keys are made once for the module: one 2048-bit key shared by the leaves, one 1024-bit
    shared = rsa_key(2048)
    ca = CertificateAuthority(key=rsa_key(2048))
    return Pki(
        ca=ca,
        ca_file=ca.write(tmp_path_factory.mktemp("pki") / "ca.pem"),
        good=ca.issue(key=shared),
        weak=ca.issue(key=rsa_key(1024)),
        expiring=ca.issue(key=shared, days_valid=10),
        wrong_host=ca.issue(["www.zaptic.example"], key=shared),
        ec_cert=ca.issue(key=ec.generate_private_key(ec.SECP256R1()), hash_name="sha384"),
    )


@dataclass
class Collected:
    records: list[EvidenceRecord]
    root: Path

    def of(self, key: str) -> list[EvidenceRecord]:
        return [r for r in self.records if r.key == key]

    def one(self, key: str, **params: Any) -> EvidenceRecord:
        found = [r for r in self.of(key) if all(r.parameters.get(k) == v for k, v in params.items())]
        assert len(found) == 1, (key, params, [r.parameters for r in self.of(key)])
        return found[0]


def collect(tmp_path: Path, probes: dict[str, Any], wanted: frozenset[str] = frozenset(PERMISSIONS)) -> Collected:
    root = tmp_path / "bundle"
    writer = EvidenceWriter(root)
    ProbeCollector(parse_config({"probes": probes})).collect(Sink(writer), wanted)
    index = writer.index()
    return Collected([index.load(e).record for e in index.entries], root)


@pytest.fixture
def good(pki: Pki) -> Iterator[FakeEndpoint]:
    with FakeEndpoint(pki.good) as ep:
        yield ep


# --- TLS versions ------------------------------------------------------------------------------


def test_compliant_endpoint_refuses_tls10_11_and_accepts_12_13(tmp_path: Path, pki: Pki,
                                                               good: FakeEndpoint) -> None:
    got = collect(tmp_path, {"tls_endpoints": [good.endpoint], "ca_file": str(pki.ca_file)})
    (listing,) = got.of("tls.ListEndpoints")
    assert listing.response["endpoints"] == [good.endpoint]
    assert listing.response["versions"] == ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    results = {r.parameters["version"]: r for r in got.of("tls.Handshake")}
    assert set(results) == {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
    for version in ("TLSv1", "TLSv1.1"):
        assert results[version].ok
        assert results[version].response["accepted"] is False
        # the server said no (an alert), the client did offer it
        assert results[version].response["reason"] == "TLSV1_ALERT_PROTOCOL_VERSION"
    for version in ("TLSv1.2", "TLSv1.3"):
        assert results[version].response["accepted"] is True
        assert results[version].response["negotiated_version"] == version
    assert all(r.subject == good.endpoint and r.source == "probe" for r in got.of("tls.Handshake"))
    # the server really saw and refused the two legacy ClientHellos
    assert good.handshakes.count(None) >= 2


def test_legacy_endpoint_accepting_tls10_and_11_is_recorded(tmp_path: Path, pki: Pki) -> None:
    with FakeEndpoint(pki.good, Site(min_tls=ssl.TLSVersion.TLSv1)) as legacy:
        got = collect(tmp_path, {"tls_endpoints": [legacy.endpoint]}, frozenset({"tls.ListEndpoints",
                                                                                   "tls.Handshake"}))
    results = {r.parameters["version"]: r.response for r in got.of("tls.Handshake")}
    assert results["TLSv1"]["accepted"] is True
    assert results["TLSv1"]["negotiated_version"] == "TLSv1"
    assert results["TLSv1.1"]["negotiated_version"] == "TLSv1.1"
    assert not got.of("tls.Certificate")  # not wanted, not fetched


def test_a_version_the_local_openssl_cannot_offer_is_an_error_not_a_refusal(
    tmp_path: Path, pki: Pki, good: FakeEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = probe_module._pinned_context

    def policy_forbids_tls10(label: str) -> ssl.SSLContext:
        ctx = real(label)
        if label == "TLSv1":
            ctx.set_ciphers("ECDHE+AESGCM")  # as a strict system crypto policy would: no TLS 1.0 suite
        return ctx

    monkeypatch.setattr(probe_module, "_pinned_context", policy_forbids_tls10)
    assert build_offer("TLSv1").unavailable is not None
    assert build_offer("TLSv1.2").unavailable is None
    before = len(good.handshakes)
    got = collect(tmp_path, {"tls_endpoints": [good.endpoint]})
    tls10 = got.one("tls.Handshake", version="TLSv1")
    assert not tls10.ok and tls10.error is not None
    assert tls10.error.code == "ClientCannotOffer"
    assert "NO_CIPHERS_AVAILABLE" in tls10.error.message
    assert "OpenSSL" in tls10.error.remedy
    assert got.one("tls.Handshake", version="TLSv1.1").response["accepted"] is False
    # no connection was made for TLS 1.0: three versions and the certificate's two handshakes
    # (the server notes a handshake in its own thread, possibly just after the client is done)
    deadline = time.monotonic() + 5
    while len(good.handshakes) - before < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    seen = good.handshakes[before:]
    assert sorted(seen, key=str) == sorted([None, "TLSv1.2", "TLSv1.3", "TLSv1.3", None], key=str)


def test_openssl_built_without_a_version_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(probe_module._BUILT_WITH, "TLSv1.1", False)
    offer = build_offer("TLSv1.1")
    assert offer.context is None
    assert offer.unavailable is not None and "built without TLSv1.1" in offer.unavailable


# --- certificates --------------------------------------------------------------------------------


def test_certificate_is_parsed_and_validated_against_ca_file(tmp_path: Path, pki: Pki,
                                                             good: FakeEndpoint) -> None:
    got = collect(tmp_path, {"tls_endpoints": [good.endpoint], "ca_file": str(pki.ca_file)})
    cert = got.one("tls.Certificate").response
    assert cert["key_type"] == "RSA" and cert["key_bits"] == 2048 and cert["key_algorithm"] == "RSA_2048"
    assert cert["signature_hash"] == "sha256"
    assert cert["signature_algorithm"] == "sha256WithRSAEncryption"
    assert cert["san_dns"] == ["localhost"] and cert["san_ip"] == ["127.0.0.1"]
    assert cert["issuer"] == "CN=evidence test CA"
    assert cert["not_after"] == pki.good.certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cert["pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert cert["verification"]["verified"] is True


def test_certificate_from_unknown_ca_does_not_validate(tmp_path: Path, good: FakeEndpoint) -> None:
    got = collect(tmp_path, {"tls_endpoints": [good.endpoint]})  # no ca_file: system store only
    verification = got.one("tls.Certificate").response["verification"]
    assert verification["verified"] is False
    # the server sends its chain, whose root (the test CA) is in no trust store
    assert verification["verify_code"] == 19
    assert "self-signed certificate in certificate chain" in verification["verify_message"]


def test_weak_expiring_wrong_host_and_ec_certificates_are_seen(tmp_path: Path, pki: Pki) -> None:
    with (
        FakeEndpoint(pki.weak) as weak,
        FakeEndpoint(pki.expiring) as expiring,
        FakeEndpoint(pki.wrong_host) as wrong,
        FakeEndpoint(pki.ec_cert) as ec_ep,
    ):
        got = collect(tmp_path, {"tls_endpoints": [weak.endpoint, expiring.endpoint, wrong.endpoint,
                                                   ec_ep.endpoint], "ca_file": str(pki.ca_file)})
        certs = {r.subject: r.response for r in got.of("tls.Certificate")}
        assert certs[weak.endpoint]["key_algorithm"] == "RSA_1024"
        assert certs[weak.endpoint]["verification"]["verified"] is False  # a default client rejects it
        days = (datetime.fromisoformat(certs[expiring.endpoint]["not_after"]) - datetime.now(UTC)).days
        assert 8 <= days <= 10
        assert certs[wrong.endpoint]["san_dns"] == ["www.zaptic.example"]
        assert certs[wrong.endpoint]["verification"]["verify_code"] == 64  # IP address mismatch
        assert certs[ec_ep.endpoint]["key_algorithm"] == "EC_secp256r1"
        assert certs[ec_ep.endpoint]["signature_hash"] == "sha384"
        assert certs[ec_ep.endpoint]["verification"]["verified"] is True


# --- unreachable endpoints -------------------------------------------------------------------------


def test_connection_refused_is_recorded_as_errors_naming_the_cause(tmp_path: Path) -> None:
    with refused_port() as port:
        endpoint, url = f"127.0.0.1:{port}", f"https://127.0.0.1:{port}/login"
        got = collect(tmp_path, {"tls_endpoints": [endpoint], "urls": [url]})
    for key in ("tls.Handshake", "tls.Certificate", "http.Get", "http.SecurityTxt"):
        (rec,) = got.of(key)
        assert not rec.ok and rec.error is not None, key
        assert rec.error.code == "ConnectionRefused", key
        assert rec.error.remedy, key
        assert rec.response is None
    # one refused connection is enough: the other versions were not tried
    assert got.one("tls.Handshake").subject == endpoint


def test_silent_endpoint_times_out_into_errors(tmp_path: Path) -> None:
    with SilentEndpoint() as silent:
        started = time.monotonic()
        got = collect(tmp_path, {"tls_endpoints": [silent.endpoint], "urls": [f"https://{silent.endpoint}/"],
                                 "timeout_seconds": 0.3})
        elapsed = time.monotonic() - started
    handshakes = got.of("tls.Handshake")
    assert {r.parameters["version"] for r in handshakes} == {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
    assert all(r.error is not None and r.error.code == "HandshakeTimeout" for r in handshakes)
    cert = got.one("tls.Certificate")
    assert cert.error is not None and cert.error.code == "NoHandshake"
    for key in ("http.Get", "http.SecurityTxt"):
        (rec,) = got.of(key)
        assert rec.error is not None and rec.error.code == "Timeout", key
        assert "timeout_seconds" in rec.error.remedy
    assert elapsed < 5


def test_untrusted_certificate_makes_http_evidence_an_error(tmp_path: Path, pki: Pki) -> None:
    with FakeEndpoint(pki.wrong_host) as wrong:
        got = collect(tmp_path, {"urls": [wrong.url()], "ca_file": str(pki.ca_file)})
    (rec,) = got.of("http.Get")
    assert rec.error is not None and rec.error.code == "CertificateVerifyFailed"
    assert "ca_file" in rec.error.remedy


# --- HTTP ------------------------------------------------------------------------------------------


def test_get_records_security_headers_and_cookie_names_never_values(tmp_path: Path, pki: Pki) -> None:
    session = Cookie("session")
    csrf = Cookie("csrftoken", attributes="Path=/; Secure; SameSite=Strict; Max-Age=3600")
    with FakeEndpoint(pki.good, Site(cookies=[session, csrf])) as site:
        got = collect(tmp_path, {"urls": [site.url("/login")], "ca_file": str(pki.ca_file)})
    rec = got.one("http.Get")
    resp = rec.response
    assert resp["status"] == 200 and resp["redirect"] is None
    assert resp["headers"]["strict-transport-security"] == ["max-age=31536000; includeSubDomains"]
    assert resp["headers"]["content-security-policy"] == ["default-src 'self'; frame-ancestors 'none'"]
    assert [c["name"] for c in resp["cookies"]] == ["session", "csrftoken"]
    assert resp["cookies"][0] == {
        "name": "session", "secure": True, "http_only": True, "same_site": "Lax",
        "attributes": {"Path": "/", "Secure": True, "HttpOnly": True, "SameSite": "Lax"}, "other_attributes": [],
    }
    assert resp["cookies"][1]["http_only"] is False
    assert resp["cookies"][1]["attributes"]["Max-Age"] == "3600"
    text = "\n".join(p.read_text() for p in got.root.rglob("*.json"))
    for value in (session.value, csrf.value):
        assert value not in text


def test_redirects_are_recorded_not_followed_and_lose_their_query(tmp_path: Path, pki: Pki) -> None:
    site_def = Site(redirects={"/": "/login?next=%2Fadmin&state=s3cr3t-oauth-state"})
    with FakeEndpoint(pki.good, site_def) as site:
        got = collect(tmp_path, {"urls": [site.url("/")], "ca_file": str(pki.ca_file)},
                      frozenset({"http.ListUrls", "http.Get"}))
        requested = list(site.requests)
        origin = site.origin
    resp = got.one("http.Get").response
    assert resp["status"] == 302
    assert resp["redirect"] == f"{origin}/login"
    assert requested == ["/"]  # /login was never fetched
    assert "s3cr3t-oauth-state" not in json.dumps(resp)


def test_security_txt_is_fetched_once_per_site_and_parsed(tmp_path: Path, pki: Pki, good: FakeEndpoint) -> None:
    got = collect(tmp_path, {"urls": [good.url("/login"), good.url("/account")], "ca_file": str(pki.ca_file)})
    (listing,) = got.of("http.ListUrls")
    assert listing.response["security_txt"] == [f"{good.origin}/.well-known/security.txt"]
    (rec,) = got.of("http.SecurityTxt")
    assert rec.subject == f"{good.origin}/.well-known/security.txt"
    assert rec.response["status"] == 200
    assert rec.response["content_type"] == "text/plain; charset=utf-8"
    assert rec.response["fields"]["contact"] == ["mailto:security@example.test"]
    assert len(rec.response["fields"]["expires"]) == 1
    assert "Contact: mailto:security@example.test" in rec.response["text"]
    assert len(got.of("http.Get")) == 2


def test_missing_security_txt_records_the_status(tmp_path: Path, pki: Pki) -> None:
    with FakeEndpoint(pki.good, Site(security_txt=None)) as site:
        got = collect(tmp_path, {"urls": [site.url()], "ca_file": str(pki.ca_file)})
    resp = got.one("http.SecurityTxt").response
    assert resp["status"] == 404 and resp["text"] is None and resp["fields"] == {}


def test_plain_http_url(tmp_path: Path) -> None:
    with FakeEndpoint(None, Site(redirects={"/": "https://127.0.0.1/"})) as site:
        got = collect(tmp_path, {"urls": [site.url("/")]})
    resp = got.one("http.Get").response
    assert resp["status"] == 302 and resp["redirect"] == "https://127.0.0.1/"
    assert "strict-transport-security" not in resp["headers"]  # HSTS means nothing over HTTP


# --- configuration ---------------------------------------------------------------------------------


def test_no_probes_section_is_not_configured(tmp_path: Path) -> None:
    collector = ProbeCollector(parse_config({}))
    assert collector.not_configured() == "no [probes] section in the configuration (tls_endpoints, urls)"
    with pytest.raises(CollectorFailure) as info:
        collector.collect(Sink(EvidenceWriter(tmp_path)), frozenset(PERMISSIONS))
    assert info.value.user_error and info.value.error.code == "NotConfigured"


def test_explicitly_empty_lists_record_empty_listings_naming_their_key(tmp_path: Path) -> None:
    assert ProbeCollector(parse_config({"probes": {}})).not_configured() is None
    got = collect(tmp_path, {"tls_endpoints": [], "urls": []})
    assert sorted(r.key for r in got.records) == ["http.ListUrls", "tls.ListEndpoints"]
    tls, http = got.one("tls.ListEndpoints"), got.one("http.ListUrls")
    assert tls.ok and tls.response["endpoints"] == [] and tls.response["scope"] == "[probes] tls_endpoints"
    assert http.ok and http.response["urls"] == [] and http.response["scope"] == "[probes] urls"


@pytest.mark.parametrize(("probes", "unstated"), [({}, ["tls_endpoints", "urls"]), ({"urls": []}, ["tls_endpoints"]),
                                                  ({"tls_endpoints": [], "timeout_seconds": 2}, ["urls"])])
def test_a_list_left_out_of_the_section_records_its_listing_as_not_configured(
    tmp_path: Path, probes: dict[str, Any], unstated: list[str]
) -> None:
    got = collect(tmp_path, probes)
    listing = {"tls_endpoints": "tls.ListEndpoints", "urls": "http.ListUrls"}
    for name, key in listing.items():
        (record,) = got.of(key)
        if name not in unstated:
            assert record.ok
            continue
        assert record.error is not None and record.error.code == "NotConfigured"
        assert record.error.message == f"[probes] has no {name}, so what to probe is not stated"
        assert f"{name} = []" in record.error.remedy
    assert sorted(r.key for r in got.records) == sorted(listing.values())


def test_a_listing_is_recorded_only_when_its_checks_want_it(tmp_path: Path) -> None:
    got = collect(tmp_path, {}, frozenset({"tls.ListEndpoints", "tls.Certificate"}))
    assert [r.key for r in got.records] == ["tls.ListEndpoints"]


@pytest.mark.parametrize("probes", [
    {"tls_endpoints": ["app.example.com:https"]},
    {"tls_endpoints": ["::1:443"]},
    {"tls_endpoints": ["https://app.example.com"]},
    {"urls": ["ftp://app.example.com/"]},
    {"urls": ["https://user:pw@app.example.com/"]},
    {"ca_file": "/nonexistent/ca.pem"},
])
def test_invalid_probe_configuration_is_a_user_error(tmp_path: Path, probes: dict[str, Any]) -> None:
    with pytest.raises(CollectorFailure) as info:
        collect(tmp_path, probes)
    assert info.value.user_error
    assert "[probes]" in info.value.error.message


def test_parse_endpoint() -> None:
    assert parse_endpoint("app.example.com:8443") == probe_module.TlsTarget("app.example.com:8443",
                                                                            "app.example.com", 8443)
    assert parse_endpoint("app.example.com").port == 443
    ip6 = parse_endpoint("[::1]:443")
    assert (ip6.host, ip6.port) == ("::1", 443)


def test_parse_set_cookie_drops_values_even_without_a_name() -> None:
    parsed = parse_set_cookie("sid=abc123secret; Path=/; secure; HTTPONLY; samesite=strict; Foo=bar-secret")
    assert parsed["name"] == "sid"
    assert parsed["secure"] and parsed["http_only"] and parsed["same_site"] == "strict"
    assert parsed["other_attributes"] == ["Foo"]
    nameless = parse_set_cookie("justAValueSecret; Secure")
    assert nameless["name"] == "" and nameless["secure"]
    assert "abc123secret" not in json.dumps(parsed) and "bar-secret" not in json.dumps(parsed)
    assert "justAValueSecret" not in json.dumps(nameless)


def test_parse_security_txt_ignores_comments_and_pgp_armour() -> None:
    expires = datetime(2031, 1, 1, tzinfo=UTC)
    body = security_txt(contact=["mailto:a@example.test", "https://example.test/report"], expires=expires)
    signed = (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + body
        + "-----BEGIN PGP SIGNATURE-----\nContact: mailto:forged@example.test\n-----END PGP SIGNATURE-----\n"
    )
    fields = parse_security_txt(signed)
    assert fields["contact"] == ["mailto:a@example.test", "https://example.test/report"]
    assert fields["expires"] == ["2031-01-01T00:00:00.000Z"]
    assert "hash" not in fields
    assert fields["preferred-languages"] == ["en"]


def test_security_txt_url_keeps_scheme_host_and_port() -> None:
    assert security_txt_url("https://app.example.com:8443/login?x=1") == \
        "https://app.example.com:8443/.well-known/security.txt"


def test_permissions_cover_every_key_with_network_access() -> None:
    assert ProbeCollector.permission_kind == "network access"
    assert set(ProbeCollector.permissions) == {"tls.ListEndpoints", "tls.Handshake", "tls.Certificate",
                                                "http.ListUrls", "http.Get", "http.SecurityTxt"}
    assert all(perms and all(p.strip() for p in perms) for perms in ProbeCollector.permissions.values())


def test_expired_security_txt_fake_is_in_the_past() -> None:
    body = security_txt(expires=datetime.now(UTC) - timedelta(days=1))
    (value,) = parse_security_txt(body)["expires"]
    assert datetime.fromisoformat(value) < datetime.now(UTC)


def test_ec_and_rsa_keys_are_what_they_claim(pki: Pki) -> None:
    assert isinstance(pki.weak.key, rsa.RSAPrivateKey) and pki.weak.key.key_size == 1024
    assert isinstance(pki.ec_cert.key, ec.EllipticCurvePrivateKey)
