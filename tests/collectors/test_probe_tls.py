"""The TLS probe against real TLS servers on loopback (tests.fakes.endpoints), with certificates
made here: the versions accepted, what the local OpenSSL cannot offer, the served certificate."""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from evidence.collectors import probe_tls
from evidence.collectors.probe_tls import build_offer
from tests.collectors.probehelp import Pki, collect
from tests.fakes.endpoints import FakeEndpoint, Site

# --- TLS versions -----------------------------------------------------------------------------------


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
    real = probe_tls._pinned_context

    def policy_forbids_tls10(label: str) -> ssl.SSLContext:
        ctx = real(label)
        if label == "TLSv1":
            ctx.set_ciphers("ECDHE+AESGCM")  # as a strict system crypto policy would: no TLS 1.0 suite
        return ctx

    monkeypatch.setattr(probe_tls, "_pinned_context", policy_forbids_tls10)
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
    monkeypatch.setitem(probe_tls._BUILT_WITH, "TLSv1.1", False)
    offer = build_offer("TLSv1.1")
    assert offer.context is None
    assert offer.unavailable is not None and "built without TLSv1.1" in offer.unavailable


# --- certificates -----------------------------------------------------------------------------------


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


def test_ec_and_rsa_keys_are_what_they_claim(pki: Pki) -> None:
    assert isinstance(pki.weak.key, rsa.RSAPrivateKey) and pki.weak.key.key_size == 1024
    assert isinstance(pki.ec_cert.key, ec.EllipticCurvePrivateKey)
