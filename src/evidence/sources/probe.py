"""The probes, as both sides see them: the evidence keys of the TLS and the HTTP probes (each
group starts with its listing, which names the configuration key that states its scope)."""

from __future__ import annotations

SOURCE = "probe"

TLS_LIST_ENDPOINTS = "tls.ListEndpoints"
TLS_HANDSHAKE = "tls.Handshake"
TLS_CERTIFICATE = "tls.Certificate"
HTTP_LIST_URLS = "http.ListUrls"
HTTP_GET = "http.Get"
HTTP_SECURITY_TXT = "http.SecurityTxt"

#: the evidence keys of the TLS and the HTTP probes (each group starts with its listing)
TLS_KEYS = (TLS_LIST_ENDPOINTS, TLS_HANDSHAKE, TLS_CERTIFICATE)
HTTP_KEYS = (HTTP_LIST_URLS, HTTP_GET, HTTP_SECURITY_TXT)
