"""What `[probes]` lists, read: endpoints as host and port, URLs' security.txt."""

from __future__ import annotations

import pytest

from evidence.collectors.probe_targets import ProbeTargetError, TlsTarget, parse_endpoint, parse_url, security_txt_url


def test_parse_endpoint() -> None:
    assert parse_endpoint("app.example.com:8443") == TlsTarget("app.example.com:8443", "app.example.com", 8443)
    assert parse_endpoint("app.example.com").port == 443
    ip6 = parse_endpoint("[::1]:443")
    assert (ip6.host, ip6.port) == ("::1", 443)


def test_security_txt_url_keeps_scheme_host_and_port() -> None:
    assert security_txt_url("https://app.example.com:8443/login?x=1") == \
        "https://app.example.com:8443/.well-known/security.txt"


@pytest.mark.parametrize(("entry", "why"), [
    ("app.example.com:https", "port is not a number"),
    ("::1:443", "write an IPv6 address as [address]:port"),
    ("https://app.example.com", "is not host:port"),
    ("[::1", "is not [address]:port"),
    (":443", "has no host"),
    ("app.example.com:70000", "port out of range"),
])
def test_a_malformed_endpoint_says_what_is_wrong(entry: str, why: str) -> None:
    with pytest.raises(ProbeTargetError, match=why.replace("[", r"\[").replace("]", r"\]")):
        parse_endpoint(entry)


def test_urls_are_plain_http_or_https_without_credentials() -> None:
    assert parse_url(" https://app.example.com/login ").hostname == "app.example.com"
    with pytest.raises(ProbeTargetError, match="is not an http:// or https:// URL"):
        parse_url("ftp://app.example.com/")
    with pytest.raises(ProbeTargetError, match="carries credentials"):
        parse_url("https://user:pw@app.example.com/")
