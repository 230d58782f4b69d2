"""Checks on live endpoint evidence (the `probe` source): TLS versions, the served certificate,
security headers, session cookies and security.txt.

What they judge is what `[probes]` lists, as the probe collector records it: the endpoints of
`tls.ListEndpoints` (`endpoints`) and the URLs and sites of `http.ListUrls` (`urls`,
`security_txt`); each probe record was collected for one of them and names it in its `subject`
(a chain: a listed endpoint without any record is an `error` from the judge). Resource ids are
`host:port` for TLS endpoints and the URL for HTTP. Collection failures (refused, timed out, a
version the local OpenSSL cannot offer) are `error` findings from the judge; a field these checks
decide on that is missing from a record is an `error` for that endpoint, never a pass. An
explicitly empty list in `[probes]` is a stated scope: `not_applicable`, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field

from evidence.checks.acm import key_strength
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Item
from evidence.checks.params import NoParams, Params
from evidence.checks.probe_support import (
    CERTIFICATES,
    GETS,
    HANDSHAKES,
    SECURITY_TXTS,
    SITES,
    TLS_ENDPOINTS,
    URLS,
    Judged,
    by_latest_record,
    each_listed,
    failed_subjects,
    host_of,
    hostname_matches,
    hsts_max_age,
    page_of,
    records_by_subject,
    stated_empty,
    strings,
)
from evidence.checks.protocols import MinTlsParams, parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status
from evidence.models import parse_time as _parse_time

#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH: the chain
#: verified, only the name did not match
_NAME_MISMATCH = {62, 64}


# --- TLS protocol versions ------------------------------------------------------------------


@check(
    id="probe.tls_protocols",
    source="probe",
    description=(
        "Each listed TLS endpoint refuses every protocol version below min_tls and accepts at least one "
        "version at or above it (live handshakes pinned to TLS 1.0, 1.1, 1.2 and 1.3)."
    ),
    inventory=HANDSHAKES,
    params=MinTlsParams,
)
def tls_protocols(ctx: CheckContext[MinTlsParams]) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params.min_tls)
    label = version_label(minimum)
    expected = f"refuses below {label}; accepts {label} or later"
    handshakes = records_by_subject(ctx, HANDSHAKES)
    failed = failed_subjects(ctx, HANDSHAKES.key)

    def below(v: str) -> bool:
        return (protocol_version(v) or (9, 9)) < minimum

    def one(endpoint: Item) -> Judged:
        recs = handshakes.get(endpoint.name, [])
        results = {r.need("version", str): r.need("accepted", bool) for r in recs}
        evs = [r.ev for r in recs]
        probed = sorted({*strings(page_of(endpoint), "versions", required=True), *results},
                        key=lambda v: protocol_version(v) or (9, 9))
        accepted = [v for v in probed if results.get(v) is True]
        refused = [v for v in probed if results.get(v) is False]
        untested = [v for v in probed if v not in results]
        observed = {"accepted": accepted, "refused": refused, "not determined": untested}
        weak = [v for v in accepted if below(v)]
        strong = [v for v in accepted if not below(v)]
        where: dict[str, Any] = {"resource_id": endpoint.resource_id, "observed": observed, "expected": expected}
        if weak:
            return ctx.finding(Status.FAIL, **where, evidence=evs,
                               message=f"{endpoint.name} accepts {', '.join(weak)}, below {label}.")
        if any(below(v) for v in untested) or (not strong and untested):
            if endpoint.name in failed:
                return []  # the judge reports the collection failure (with its remedy) as an error
            return ctx.finding(
                Status.ERROR, **where, evidence=evs or [endpoint.ev],
                message=f"{endpoint.name}: no handshake result for {', '.join(untested)}, so it cannot be judged.",
            )
        if not strong:
            return ctx.finding(
                Status.FAIL, **where, evidence=evs,
                message=f"{endpoint.name} accepts no TLS version at or above {label} (refused {', '.join(refused)}).",
            )
        lower = [v for v in refused if below(v)]
        return ctx.finding(
            Status.PASS, **where, evidence=evs,
            message=f"{endpoint.name} accepts {', '.join(strong)}" + (f" and refuses {', '.join(lower)}." if lower
                                                                      else "."),
        )

    yield from stated_empty(ctx, TLS_ENDPOINTS, "TLS endpoints")
    yield from each_listed(ctx, TLS_ENDPOINTS, one)


# --- the served certificate -------------------------------------------------------------------


class CertificateParams(Params):
    min_rsa_bits: int = Field(2048, ge=1024, le=16384, description="Smallest RSA key allowed, in bits.")
    allow_ec: bool = Field(True, description="Whether an elliptic-curve key is accepted where RSA is stated.")
    min_signature_hash_bits: int = Field(
        256, ge=1, le=512, description="Weakest signature hash allowed, as SHA-N (SHA-1 counts as 1)."
    )
    min_days_valid: int = Field(30, ge=0, le=3650, description="Days the certificate must still be valid for.")
    require_trusted: bool = Field(
        True, description="Whether the chain must validate against the system trust store and [probes] ca_file."
    )


@check(
    id="probe.certificate",
    source="probe",
    description=(
        "The certificate each listed TLS endpoint serves uses RSA >= min_rsa_bits (EC when allow_ec), a "
        "signature hash of min_signature_hash_bits or more, has min_days_valid days left, names the host "
        "in its SAN and (with require_trusted) validates against the system trust store and ca_file."
    ),
    inventory=CERTIFICATES,
    params=CertificateParams,
)
def certificate(ctx: CheckContext[CertificateParams]) -> Iterator[Finding]:
    p = ctx.params
    expected = (
        f"RSA >= {p.min_rsa_bits} bits{' or EC' if p.allow_ec else ''}, signature SHA-"
        f"{p.min_signature_hash_bits} or stronger, >= {p.min_days_valid} days before expiry, host named in the SAN"
        + (", chain trusted" if p.require_trusted else "")
    )

    def judge(cert: Item) -> Finding:
        endpoint = cert.name
        host = cert.need("host", str, host_of(endpoint))
        key_algorithm = cert.need("key_algorithm", str)
        signature_algorithm = cert.need("signature_algorithm", str)
        signature = cert.need("signature_hash", str, None) or signature_algorithm
        problems = key_strength(key_algorithm, signature, p.min_rsa_bits, p.allow_ec, p.min_signature_hash_bits)
        not_after = _parse_time(cert.need("not_after", str))
        not_before = _parse_time(cert.need("not_before", str))
        days: int | None = None
        if not_after is None:
            problems.append("no readable expiry date")
        else:
            days = (not_after - ctx.now).days
            if not_after <= ctx.now:
                problems.append(f"expired on {not_after.date().isoformat()}")
            elif days < p.min_days_valid:
                problems.append(f"expires in {days} days (on {not_after.date().isoformat()}), under "
                                f"{p.min_days_valid}")
        if not_before is None:
            problems.append("no readable start of validity")
        elif not_before > ctx.now:
            problems.append(f"not valid before {not_before.date().isoformat()}")
        san_dns, san_ip = strings(cert, "san_dns", required=True), strings(cert, "san_ip", required=True)
        names = san_dns + san_ip
        verified = cert.need("verification.verified", bool)
        code = cert.need("verification.verify_code", int, None)
        why = cert.need("verification.verify_message", str, "").strip().rstrip(".")
        if not hostname_matches(host, san_dns, san_ip):
            problems.append(f"{host} is not among its names {names}")
        elif code in _NAME_MISMATCH:
            problems.append(f"OpenSSL finds {host} does not match: {why}")
        if p.require_trusted and not verified and code not in _NAME_MISMATCH:
            problems.append(f"does not validate: {why or 'not verified'}")
        raw: dict[str, Any] = cert.value
        observed = {
            "key_algorithm": key_algorithm, "signature_algorithm": signature_algorithm,
            "signature_hash": raw.get("signature_hash"), "not_after": raw.get("not_after"), "days_left": days,
            "names": names, "issuer": raw.get("issuer"), "verified": verified,
            "verify_message": raw["verification"].get("verify_message"),
        }
        return ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=cert.resource_id, evidence=[cert.ev], observed=observed, expected=expected,
            message=(
                f"Certificate served by {endpoint}: {'; '.join(problems)}."
                if problems
                else f"Certificate served by {endpoint} is {key_algorithm} signed with {signature_algorithm}, "
                     f"valid for {days} more days, names {host} and validates."
            ),
        )

    yield from stated_empty(ctx, TLS_ENDPOINTS, "TLS endpoints")
    yield from each_listed(ctx, TLS_ENDPOINTS, by_latest_record(ctx, records_by_subject(ctx, CERTIFICATES), judge))


# --- HTTP security headers ---------------------------------------------------------------------


def _header(get: Item, name: str) -> str | None:
    """The first value of a recorded response header; None when the response had none."""
    get.need("headers", dict)
    values = strings(get, f"headers.{name}")
    return values[0] if values else None


class SecurityHeadersParams(Params):
    min_hsts_max_age: int = Field(
        15552000, ge=0, description="Smallest Strict-Transport-Security max-age allowed, in seconds.",
    )


@check(
    id="probe.security_headers",
    source="probe",
    description=(
        "Each listed HTTPS URL sends Strict-Transport-Security with max-age >= min_hsts_max_age and a "
        "Content-Security-Policy (redirect responses need HSTS only); a plain-HTTP URL must redirect to HTTPS."
    ),
    inventory=GETS,
    params=SecurityHeadersParams,
)
def security_headers(ctx: CheckContext[SecurityHeadersParams]) -> Iterator[Finding]:
    min_age = ctx.params.min_hsts_max_age

    def judge(get: Item) -> Finding:
        url = get.name
        status = get.need("status", int)
        redirect = get.need("redirect", str, None)
        if url.lower().startswith("http://"):
            observed_http = {"status": status, "redirect": redirect}
            to_https = bool(redirect) and str(redirect).lower().startswith("https://")
            return ctx.finding(
                Status.NOT_APPLICABLE if to_https else Status.FAIL, resource_id=get.resource_id, evidence=[get.ev],
                observed=observed_http, expected="a plain-HTTP URL redirects to HTTPS",
                message=f"{url} redirects to HTTPS ({redirect}); list HTTPS URLs to judge their headers." if to_https
                else f"{url} is served over plain HTTP (status {status}) without redirecting to HTTPS.",
            )
        hsts = _header(get, "strict-transport-security")
        csp = _header(get, "content-security-policy")
        is_redirect = bool(redirect) or 300 <= status < 400
        problems: list[str] = []
        age = hsts_max_age(hsts) if hsts is not None else None
        if hsts is None:
            problems.append("no Strict-Transport-Security header")
        elif age is None:
            problems.append(f"Strict-Transport-Security {hsts!r} has no valid max-age")
        elif age < min_age:
            problems.append(f"HSTS max-age {age} is under {min_age}")
        if not is_redirect and not (csp and csp.strip()):
            only_report = _header(get, "content-security-policy-report-only")
            problems.append("no Content-Security-Policy header" + (
                " (only a Report-Only policy, which enforces nothing)" if only_report else ""))
        observed: dict[str, Any] = {"status": status, "strict-transport-security": hsts, "hsts_max_age": age,
                                    "content-security-policy": csp}
        if is_redirect:
            observed["redirect"] = redirect
        return ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=get.resource_id, evidence=[get.ev], observed=observed,
            expected=f"Strict-Transport-Security max-age >= {min_age}"
                     + ("" if is_redirect else "; a Content-Security-Policy"),
            message=(
                f"{url}: {'; '.join(problems)}."
                if problems
                else f"{url} sends HSTS (max-age {age})" + ("." if is_redirect else " and a Content-Security-Policy.")
            ),
        )

    yield from stated_empty(ctx, URLS, "URLs")
    yield from each_listed(ctx, URLS, by_latest_record(ctx, records_by_subject(ctx, GETS), judge))


# --- session cookies -----------------------------------------------------------------------------


SameSite = Annotated[str, Field(pattern=r"^(?i:strict|lax|none)$")]


class SessionCookiesParams(Params):
    allowed_same_site: list[SameSite] = Field(
        ["Lax", "Strict"], min_length=1, description="SameSite values a cookie may have (Strict, Lax, None).",
    )
    http_only_exempt: list[str] = Field(
        [], description="Cookie names allowed without HttpOnly (a CSRF token the page's script must read).",
    )


@check(
    id="probe.session_cookies",
    source="probe",
    description=(
        "Every cookie a listed URL sets is Secure, HttpOnly (except names in http_only_exempt) and SameSite "
        "Lax or Strict (allowed_same_site). URLs that set no cookie are not judged."
    ),
    inventory=GETS,
    params=SessionCookiesParams,
)
def session_cookies(ctx: CheckContext[SessionCookiesParams]) -> Iterator[Finding]:
    allowed = list(ctx.params.allowed_same_site)
    allowed_lower = {v.lower() for v in allowed}
    exempt = set(ctx.params.http_only_exempt)
    expected = f"every cookie Secure, HttpOnly, SameSite in {'/'.join(allowed)}"

    def judge(get: Item) -> Finding:
        url = get.name
        cookies = get.parts("cookies")
        if not cookies:
            return ctx.skip(get, "the URL sets no cookie")
        problems: list[str] = []
        observed: list[dict[str, Any]] = []
        for cookie in cookies:
            name = cookie.need("name", str) or "(nameless)"
            secure, http_only = cookie.need("secure", bool), cookie.need("http_only", bool)
            same_site = cookie.need("same_site", str, None)
            missing: list[str] = []
            if not secure:
                missing.append("Secure")
            if not http_only and name not in exempt:
                missing.append("HttpOnly")
            if not same_site or same_site.lower() not in allowed_lower:
                missing.append(f"SameSite {'/'.join(allowed)} (has {same_site or 'none'})")
            if missing:
                problems.append(f"{name} lacks {', '.join(missing)}")
            observed.append({"name": name, "secure": secure, "http_only": http_only, "same_site": same_site})
        return ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=get.resource_id, evidence=[get.ev], observed=observed, expected=expected,
            message=(
                f"{url} sets cookies without protection: {'; '.join(problems)}."
                if problems
                else f"{url} sets {len(cookies)} cookie(s), all Secure, HttpOnly and SameSite "
                     f"{'/'.join(sorted({str(c['same_site']) for c in observed}))}."
            ),
        )

    yield from stated_empty(ctx, URLS, "URLs")
    yield from each_listed(ctx, URLS, by_latest_record(ctx, records_by_subject(ctx, GETS), judge))


# --- security.txt -----------------------------------------------------------------------------------


@check(
    id="probe.security_txt",
    source="probe",
    description=(
        "Each listed site serves /.well-known/security.txt (RFC 9116) naming at least one Contact and one "
        "Expires date still in the future."
    ),
    inventory=SECURITY_TXTS,
)
def security_txt(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    expected = "HTTP 200 with a Contact and one Expires in the future"

    def judge(txt: Item) -> Finding:
        site = txt.name
        status = txt.need("status", int)
        txt.need("fields", dict)
        contacts, expires = strings(txt, "fields.contact"), strings(txt, "fields.expires")
        observed: dict[str, Any] = {"status": status, "contact": contacts, "expires": expires}
        problems: list[str] = []
        if status != 200:
            redirect = txt.need("redirect", str, None)
            problems.append(f"not served (HTTP {status}{f', redirects to {redirect}' if redirect else ''})")
        else:
            if not contacts:
                problems.append("no Contact field")
            if not expires:
                problems.append("no Expires field")
            elif len(expires) > 1:
                problems.append(f"{len(expires)} Expires fields (RFC 9116 allows one)")
            else:
                when = _parse_time(expires[0])
                if when is None:
                    problems.append(f"Expires {expires[0]!r} is not an RFC 3339 date")
                elif when <= ctx.now:
                    problems.append(f"expired on {when.date().isoformat()}")
                else:
                    observed["days_left"] = (when - ctx.now).days
        return ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=txt.resource_id, evidence=[txt.ev], observed=observed, expected=expected,
            message=(
                f"{site}: {'; '.join(problems)}."
                if problems
                else f"{site} names {', '.join(contacts)} and is valid until {expires[0]}."
            ),
        )

    yield from stated_empty(ctx, SITES, "sites")
    yield from each_listed(ctx, SITES, by_latest_record(ctx, records_by_subject(ctx, SECURITY_TXTS), judge))


__all__ = [
    "CERTIFICATES",
    "GETS",
    "HANDSHAKES",
    "SECURITY_TXTS",
    "SITES",
    "TLS_ENDPOINTS",
    "URLS",
    "certificate",
    "hostname_matches",
    "hsts_max_age",
    "security_headers",
    "security_txt",
    "session_cookies",
    "tls_protocols",
]
