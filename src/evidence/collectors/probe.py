"""Probe collector: live evidence from the company's own endpoints.

For each `[probes] tls_endpoints` entry (`host:port`) it tries one TLS handshake pinned to each
protocol version (TLS 1.0, 1.1, 1.2, 1.3) and records which the server accepts, then fetches the
served leaf certificate (parsed: key type and size, signature hash, validity, SANs) and whether
it validates, as a default modern client would, against the system trust store plus
`[probes] ca_file`, with hostname checking.

For each `[probes] urls` entry it GETs the URL (redirects are recorded, never followed) and
records the status, the security headers and, for each cookie set, its NAME and attributes:
cookie values are session secrets and are never recorded. It also GETs
`<scheme>://<host>/.well-known/security.txt` once per site and records its text and its fields.

"Refused by the server" and "the local OpenSSL could not even offer that version" are kept
apart: before any connection, each pinned client context writes a ClientHello into memory; a
version it cannot offer (OpenSSL built without it, a system policy forbidding it) is recorded
as an error with a remedy, never as a refusal, so it can never turn into a pass.

What is in scope is what `[probes]` states: without the section the source is not configured
(its checks are `error`, like every other unconfigured source); a list key left out of the
section records its listing as failed (`NotConfigured`); an explicitly empty list is recorded as
an empty listing naming the key (`"scope"`), a stated scope that the checks judge not_applicable.

The entries are read in `probe_targets`; the TLS probe is `probe_tls`, the HTTP probe `probe_http`.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import httpx

from evidence import __version__
from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.collectors.probe_config import ProbesConfig, without_query
from evidence.collectors.probe_http import http_error, http_get, http_security_txt
from evidence.collectors.probe_targets import ProbeTargetError, TlsTarget, parse_endpoint, parse_url, security_txt_url
from evidence.collectors.probe_tls import (
    TLS_VERSIONS,
    Offer,
    Unreachable,
    build_offer,
    cannot_offer,
    fetch_certificate,
    handshake,
    ssl_message,
)
from evidence.config import Section
from evidence.models import CollectionError, EvidenceRecord, iso, utc_now
from evidence.sources.probe import (
    HTTP_GET,
    HTTP_KEYS,
    HTTP_LIST_URLS,
    HTTP_SECURITY_TXT,
    SOURCE,
    TLS_CERTIFICATE,
    TLS_HANDSHAKE,
    TLS_KEYS,
    TLS_LIST_ENDPOINTS,
)

log = logging.getLogger(__name__)

_CONFIG_ONLY = "none: reads the [probes] section of the configuration"
_TLS_ACCESS = "outbound TCP to the listed tls_endpoints"
_HTTP_ACCESS = "outbound HTTP(S) to the listed urls"

#: evidence key -> the network access that call needs (`evidence permissions` prints these)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    TLS_LIST_ENDPOINTS: (_CONFIG_ONLY,),
    TLS_HANDSHAKE: (_TLS_ACCESS,),
    TLS_CERTIFICATE: (_TLS_ACCESS,),
    HTTP_LIST_URLS: (_CONFIG_ONLY,),
    HTTP_GET: (_HTTP_ACCESS,),
    HTTP_SECURITY_TXT: ("outbound HTTP(S) to /.well-known/security.txt on the listed urls' hosts",),
}

_MAX_WORKERS = 8


class ProbeCollector(Collector):
    """Live TLS and HTTP evidence from the endpoints listed in `[probes]`."""

    source: ClassVar[str] = SOURCE
    description: ClassVar[str] = (
        "live endpoints: TLS versions accepted, served certificate, security headers, cookie "
        "attributes, security.txt"
    )
    permission_kind: ClassVar[str] = "network access"
    permissions: ClassVar[Mapping[str, tuple[str, ...]]] = PERMISSIONS
    title: ClassVar[str] = "Probes"
    config_section: ClassVar[str | None] = "probes"
    config_model: ClassVar[type[Section] | None] = ProbesConfig

    def not_configured(self) -> str | None:
        # like every other source: no section is "not configured" (an error), never "nothing in
        # scope"; an explicitly empty list in the section is a stated scope (see `collect`)
        if self.settings(ProbesConfig) is None:
            return "no [probes] section in the configuration (tls_endpoints, urls)"
        return None

    @classmethod
    def scope(cls, section: Section | None) -> list[tuple[str, str]]:
        if not isinstance(section, ProbesConfig):
            return []
        targets = [*section.tls_endpoints, *(without_query(u) for u in section.urls)]
        return [("Probed endpoints", ", ".join(targets))] if targets else []

    # records ---------------------------------------------------------------
    def _record(self, sink: Sink, key: str, params: dict[str, Any], subject: str, response: Any) -> None:
        service, _, operation = key.partition(".")
        sink.record(EvidenceRecord(
            source=SOURCE, service=service, operation=operation, parameters=params, subject=subject,
            collected_at=iso(utc_now()), response=response,
        ))

    def _fail(self, sink: Sink, key: str, params: dict[str, Any], subject: str, error: CollectionError) -> None:
        service, _, operation = key.partition(".")
        log.warning("probe %s of %s failed: %s: %s", key, subject, error.code, error.message)
        sink.record(EvidenceRecord(
            source=SOURCE, service=service, operation=operation, parameters=params, subject=subject,
            collected_at=iso(utc_now()), error=error,
        ))

    # setup -----------------------------------------------------------------
    def _section(self) -> ProbesConfig:
        cfg = self.settings(ProbesConfig)
        if cfg is None:
            raise CollectorFailure("NotConfigured", self.not_configured() or "", "add a [probes] section",
                                   user_error=True)
        return cfg

    def _targets(self, cfg: ProbesConfig) -> tuple[list[TlsTarget], list[str]]:
        try:
            targets = [parse_endpoint(e) for e in cfg.tls_endpoints]
            urls = [u.strip() for u in cfg.urls]
            for u in urls:
                parse_url(u)
        except ProbeTargetError as exc:
            raise CollectorFailure("InvalidProbeTarget", f"[probes] {exc}",
                                   "fix the entry in the configuration", user_error=True) from exc
        return targets, urls

    def _verify_context(self, cfg: ProbesConfig) -> ssl.SSLContext:
        ctx = ssl.create_default_context()  # system trust store, TLS 1.2+, hostname checking
        ca_file = cfg.ca_file
        if ca_file:
            path: Path = self.config.resolve(ca_file)
            try:
                ctx.load_verify_locations(cafile=str(path))
            except (OSError, ssl.SSLError) as exc:
                raise CollectorFailure(
                    "InvalidCaFile", f"[probes] ca_file {path} cannot be loaded: {ssl_message(str(exc))}",
                    "point ca_file at a PEM file of CA certificates", user_error=True,
                ) from exc
        return ctx

    # collection ------------------------------------------------------------
    def _unstated(self, sink: Sink, key: str, name: str) -> bool:
        """Record the listing `key` as not configured when `[probes]` does not state `name`."""
        cfg = self._section()
        if cfg.stated(name):
            return False
        self._fail(sink, key, {}, "", CollectionError(
            code="NotConfigured",
            message=f"[probes] has no {name}, so what to probe is not stated",
            remedy=f"list them under [probes] {name}, or write {name} = [] to state there are none",
        ))
        return True

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        cfg = self._section()
        targets, urls = self._targets(cfg)
        timeout = cfg.timeout_seconds
        verify = self._verify_context(cfg)
        jobs: list[Callable[[], None]] = []
        # each listing names the configuration key that states it: an empty one is a stated,
        # empty scope, and the checks' not_applicable findings say so
        if wanted & set(TLS_KEYS) and not self._unstated(sink, TLS_LIST_ENDPOINTS, "tls_endpoints"):
            self._record(sink, TLS_LIST_ENDPOINTS, {}, "", {
                "endpoints": [t.text for t in targets], "versions": list(TLS_VERSIONS),
                "timeout_seconds": timeout, "ca_file": cfg.ca_file, "scope": "[probes] tls_endpoints",
            })
            offers = [build_offer(label) for label in TLS_VERSIONS] if TLS_HANDSHAKE in wanted else []
            jobs += [partial(self._probe_tls, sink, wanted, t, offers, timeout, verify) for t in targets]
        if wanted & set(HTTP_KEYS) and not self._unstated(sink, HTTP_LIST_URLS, "urls"):
            sites = list(dict.fromkeys(security_txt_url(u) for u in urls))
            self._record(sink, HTTP_LIST_URLS, {}, "", {"urls": urls, "security_txt": sites,
                                                         "timeout_seconds": timeout, "scope": "[probes] urls"})
            client = httpx.Client(
                verify=verify, timeout=timeout, follow_redirects=False, trust_env=False,
                headers={"User-Agent": f"evidence/{__version__} (SOC 2 evidence probe)"},
            )
            try:
                if HTTP_GET in wanted:
                    jobs += [partial(self._probe_http, sink, client, HTTP_GET, u, http_get, timeout)
                             for u in urls]
                if HTTP_SECURITY_TXT in wanted:
                    jobs += [partial(self._probe_http, sink, client, HTTP_SECURITY_TXT, site, http_security_txt,
                                     timeout) for site in sites]
                self._run(jobs)
            finally:
                client.close()
        else:
            self._run(jobs)

    def _run(self, jobs: list[Callable[[], None]]) -> None:
        if not jobs:
            return
        with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(jobs)), thread_name_prefix="probe") as pool:
            for fut in [pool.submit(job) for job in jobs]:
                fut.result()

    def _probe_tls(self, sink: Sink, wanted: frozenset[str], target: TlsTarget, offers: list[Offer],
                   timeout: float, verify: ssl.SSLContext) -> None:
        sink.progress(f"probe: TLS {target.text}")
        subject = target.text
        accepted = 0
        for offer in offers:
            params = {"endpoint": subject, "version": offer.label}
            if offer.context is None:
                self._fail(sink, TLS_HANDSHAKE, params, subject,
                           cannot_offer(offer.label, offer.unavailable or "cannot offer"))
                continue
            try:
                result = handshake(offer, target, timeout)
            except Unreachable as exc:
                self._fail(sink, TLS_HANDSHAKE, params, subject, exc.error)
                if exc.error.code == "HandshakeTimeout":
                    continue  # no answer to this version; the next ones may still be answered
                # no TCP connection at all: the other versions and the certificate are not tried
                if TLS_CERTIFICATE in wanted:
                    self._fail(sink, TLS_CERTIFICATE, {"endpoint": subject}, subject, exc.error.model_copy(
                        update={"message": exc.error.message + "; the certificate was not fetched"}))
                return
            if "client_error" in result:
                self._fail(sink, TLS_HANDSHAKE, params, subject,
                           cannot_offer(offer.label, str(result["client_error"])))
                continue
            accepted += bool(result["accepted"])
            self._record(sink, TLS_HANDSHAKE, params, subject, {"endpoint": subject, **result})
        if TLS_CERTIFICATE not in wanted:
            return
        if offers and not accepted:
            self._fail(sink, TLS_CERTIFICATE, {"endpoint": subject}, subject, CollectionError(
                code="NoHandshake",
                message=f"{subject} completed no TLS handshake in any version, so it served no certificate",
                remedy="check that the endpoint speaks TLS on this port (see the tls.Handshake evidence)",
            ))
            return
        try:
            cert = fetch_certificate(target, timeout, verify)
        except Unreachable as exc:
            self._fail(sink, TLS_CERTIFICATE, {"endpoint": subject}, subject, exc.error)
            return
        self._record(sink, TLS_CERTIFICATE, {"endpoint": subject}, subject, cert)

    def _probe_http(self, sink: Sink, client: httpx.Client, key: str, url: str,
                    fetch: Callable[[httpx.Client, str], dict[str, Any]], timeout: float) -> None:
        sink.progress(f"probe: GET {url}")
        params = {"url": url}
        try:
            response = fetch(client, url)
        except httpx.HTTPError as exc:
            self._fail(sink, key, params, url, http_error(exc, url, timeout))
            return
        status = response.get("status")
        if isinstance(status, int) and status >= 500:
            # a server error is not the page the URL serves: its headers, cookies or text judge nothing
            self._fail(sink, key, params, url, CollectionError(
                code=f"HTTP {status}", message=f"GET {url}: the server answered {status} (a server error)",
                remedy="check that the site is up and serving the URL, then run again"))
            return
        self._record(sink, key, params, url, response)
