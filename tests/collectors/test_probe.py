"""The probe collector: endpoints that cannot be reached (on loopback only), what `[probes]`
states and what the checks want."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evidence.collectors.base import CollectorFailure, Sink
from evidence.collectors.probe import PERMISSIONS, ProbeCollector
from evidence.config import ConfigError, parse_config
from evidence.records import EvidenceWriter
from tests.collectors.probehelp import collect
from tests.fakes.endpoints import SilentEndpoint, refused_port

# --- unreachable endpoints --------------------------------------------------------------------------


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
        got = collect(tmp_path, {"tls_endpoints": [silent.endpoint], "urls": [f"https://{silent.endpoint}/"],
                                 "timeout_seconds": 0.3})
    handshakes = got.of("tls.Handshake")
    assert {r.parameters["version"] for r in handshakes} == {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
    assert all(r.error is not None and r.error.code == "HandshakeTimeout" for r in handshakes)
    cert = got.one("tls.Certificate")
    assert cert.error is not None and cert.error.code == "NoHandshake"
    for key in ("http.Get", "http.SecurityTxt"):
        (rec,) = got.of(key)
        assert rec.error is not None and rec.error.code == "Timeout", key
        assert "timeout_seconds" in rec.error.remedy


# --- configuration ----------------------------------------------------------------------------------


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
    {"ca_file": "/nonexistent/ca.pem"},
])
def test_invalid_probe_configuration_is_a_user_error(tmp_path: Path, probes: dict[str, Any]) -> None:
    with pytest.raises(CollectorFailure) as info:
        collect(tmp_path, probes)
    assert info.value.user_error
    assert "[probes]" in info.value.error.message


def test_a_url_with_credentials_is_refused_when_the_configuration_loads_never_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"probes": {"urls": ["https://ok.example.com/", "https://user:s3cret@app.example.com/"]}})
    assert str(info.value) == ("configuration: key 'probes.urls': entry 2 carries credentials (user:password@); "
                               "list the URL without them")


def test_query_strings_never_reach_the_bundle_config_or_the_scope() -> None:
    cfg = parse_config({"probes": {"urls": ["https://app.example.com/login?token=abc#x"]}})
    assert cfg.public_dict()["probes"]["urls"] == ["https://app.example.com/login"]
    assert ProbeCollector.scope(cfg.sections["probes"]) == [("Probed endpoints", "https://app.example.com/login")]


def test_permissions_cover_every_key_with_network_access() -> None:
    assert ProbeCollector.permission_kind == "network access"
    assert set(ProbeCollector.permissions) == {"tls.ListEndpoints", "tls.Handshake", "tls.Certificate",
                                                "http.ListUrls", "http.Get", "http.SecurityTxt"}
    assert all(perms and all(p.strip() for p in perms) for perms in ProbeCollector.permissions.values())
