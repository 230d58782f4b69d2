"""The HTTP probe against real HTTP(S) servers on loopback (tests.fakes.endpoints): security headers,
cookie names never values, redirects recorded not followed, security.txt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evidence.collectors.probe_http import parse_security_txt, parse_set_cookie
from tests.collectors.probehelp import Pki, collect
from tests.fakes.endpoints import Cookie, FakeEndpoint, Site, security_txt

# --- HTTP -------------------------------------------------------------------------------------------


def test_untrusted_certificate_makes_http_evidence_an_error(tmp_path: Path, pki: Pki) -> None:
    with FakeEndpoint(pki.wrong_host) as wrong:
        got = collect(tmp_path, {"urls": [wrong.url()], "ca_file": str(pki.ca_file)})
    (rec,) = got.of("http.Get")
    assert rec.error is not None and rec.error.code == "CertificateVerifyFailed"
    assert "ca_file" in rec.error.remedy


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


# --- parsing ----------------------------------------------------------------------------------------


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


def test_expired_security_txt_fake_is_in_the_past() -> None:
    body = security_txt(expires=datetime.now(UTC) - timedelta(days=1))
    (value,) = parse_security_txt(body)["expires"]
    assert datetime.fromisoformat(value) < datetime.now(UTC)
