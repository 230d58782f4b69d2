"""Checks on live endpoint evidence (the `probe` source): TLS versions, the served certificate,
security headers, session cookies and security.txt.

Resource ids are `host:port` for TLS endpoints and the URL for HTTP. Collection failures
(refused, timed out, a version the local OpenSSL cannot offer) are turned into `error`
findings by the judge; these checks never pass an endpoint whose evidence is incomplete.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from evidence.checks.acm import key_strength
from evidence.checks.base import CheckContext, check
from evidence.checks.protocols import parse_min_tls, protocol_version, version_label
from evidence.models import Finding, Status
from evidence.models import parse_time as _parse_time
from evidence.records import Evidence

_TLS_LISTING = "tls.ListEndpoints"
_HTTP_LISTING = "http.ListUrls"
#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH: the chain
#: verified, only the name did not match
_NAME_MISMATCH = {62, 64}


def _listed(ctx: CheckContext, key: str, field: str) -> tuple[list[str], list[Evidence]]:
    names: list[str] = []
    listings: list[Evidence] = []
    for ev in ctx.evidence(key):
        listings.append(ev)
        names.extend(str(n) for n in (ev.response or {}).get(field, []))
    return list(dict.fromkeys(names)), listings


def _failed_subjects(ctx: CheckContext, key: str) -> set[str]:
    """Subjects with a failed record of `key`: the judge already reports those as errors."""
    out: set[str] = set()
    for entry in ctx.index.entries_for(key):
        if not entry.ok:
            out.add(ctx.index.load(entry).record.subject)
    return out


def _by_subject(ctx: CheckContext, key: str) -> dict[str, list[Evidence]]:
    out: dict[str, list[Evidence]] = {}
    for ev in ctx.evidence(key):
        out.setdefault(ev.record.subject, []).append(ev)
    return out


def _missing(ctx: CheckContext, key: str, subject: str, listings: list[Evidence]) -> Finding:
    return ctx.finding(
        Status.ERROR, resource_id=subject, evidence=listings, observed="no evidence",
        expected=f"{key} collected for {subject}",
        message=f"{subject} is listed but no {key} evidence was recorded for it, so it cannot be judged.",
    )


def _latest_listed(
    ctx: CheckContext, listing_key: str, field: str, key: str
) -> tuple[list[tuple[str, Evidence]], list[Finding]]:
    """For each listed subject, its latest `key` record; and an error for each listed subject
    with no record at all (a failed record is already an error from the judge)."""
    names, listings = _listed(ctx, listing_key, field)
    by_subject = _by_subject(ctx, key)
    failed = _failed_subjects(ctx, key)
    found: list[tuple[str, Evidence]] = []
    missing: list[Finding] = []
    for name in names:
        evs = by_subject.get(name)
        if evs:
            found.append((name, evs[-1]))
        elif name not in failed:
            missing.append(_missing(ctx, key, name, listings))
    return found, missing


def _sentence(value: Any) -> str:
    return str(value or "").strip().rstrip(".")




# --- TLS protocol versions ------------------------------------------------------------------


@check(
    id="probe.tls_protocols",
    source="probe",
    description=(
        "Each listed TLS endpoint refuses every protocol version below min_tls and accepts at least one "
        "version at or above it (live handshakes pinned to TLS 1.0, 1.1, 1.2 and 1.3)."
    ),
    requires=(_TLS_LISTING, "tls.Handshake"),
    params={"min_tls": "1.2"},
    resource_type="tls_endpoint",
)
def tls_protocols(ctx: CheckContext) -> Iterator[Finding]:
    minimum = parse_min_tls(ctx.params["min_tls"])
    label = version_label(minimum)
    expected = f"refuses below {label}; accepts {label} or later"
    endpoints, listings = _listed(ctx, _TLS_LISTING, "endpoints")
    probed: list[str] = []
    for ev in listings:
        probed.extend(str(v) for v in (ev.response or {}).get("versions", []))
    by_endpoint = _by_subject(ctx, "tls.Handshake")
    probed += [str(ev.response["version"]) for evs in by_endpoint.values() for ev in evs]
    probed = sorted(set(probed), key=lambda v: protocol_version(v) or (9, 9))
    failed = _failed_subjects(ctx, "tls.Handshake")
    for endpoint in endpoints:
        evs = by_endpoint.get(endpoint, [])
        results: dict[str, bool] = {}
        for ev in evs:
            results[str(ev.response["version"])] = bool(ev.response["accepted"])

        def below(v: str) -> bool:
            return (protocol_version(v) or (9, 9)) < minimum

        accepted = [v for v in probed if results.get(v) is True]
        refused = [v for v in probed if results.get(v) is False]
        untested = [v for v in probed if v not in results]
        observed = {"accepted": accepted, "refused": refused, "not determined": untested}
        weak = [v for v in accepted if below(v)]
        strong = [v for v in accepted if not below(v)]
        if weak:
            yield ctx.finding(
                Status.FAIL, resource_id=endpoint, evidence=evs, observed=observed, expected=expected,
                message=f"{endpoint} accepts {', '.join(weak)}, below {label}.",
            )
        elif any(below(v) for v in untested) or (not strong and untested):
            if endpoint in failed:
                continue  # the judge reports the collection failure (with its remedy) as an error
            yield ctx.finding(
                Status.ERROR, resource_id=endpoint, evidence=evs or listings, observed=observed, expected=expected,
                message=f"{endpoint}: no handshake result for {', '.join(untested)}, so it cannot be judged.",
            )
        elif not strong:
            yield ctx.finding(
                Status.FAIL, resource_id=endpoint, evidence=evs, observed=observed, expected=expected,
                message=f"{endpoint} accepts no TLS version at or above {label} (refused {', '.join(refused)}).",
            )
        else:
            lower = [v for v in refused if below(v)]
            yield ctx.finding(
                Status.PASS, resource_id=endpoint, evidence=evs, observed=observed, expected=expected,
                message=(
                    f"{endpoint} accepts {', '.join(strong)}"
                    + (f" and refuses {', '.join(lower)}." if lower else ".")
                ),
            )


# --- the served certificate -------------------------------------------------------------------


def _host_of(endpoint: str) -> str:
    if endpoint.startswith("["):
        return endpoint[1:].partition("]")[0]
    return endpoint.rpartition(":")[0] if endpoint.count(":") == 1 else endpoint


def hostname_matches(host: str, san_dns: list[str], san_ip: list[str]) -> bool:
    """RFC 6125 matching against the SAN only (no Common Name fallback, as browsers do): an IP
    host matches an IP SAN; a name matches a DNS SAN exactly or through a `*.` wildcard that
    stands for exactly one left-most label."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        for value in san_ip:
            try:
                if ipaddress.ip_address(value) == ip:
                    return True
            except ValueError:
                continue
        return False
    name = host.rstrip(".").lower()
    for pattern in san_dns:
        pat = pattern.rstrip(".").lower()
        if pat == name:
            return True
        if pat.startswith("*.") and "*" not in pat[2:]:
            first, _, rest = name.partition(".")
            if first and rest and rest == pat[2:] and "." in rest:
                return True
    return False


@check(
    id="probe.certificate",
    source="probe",
    description=(
        "The certificate each listed TLS endpoint serves uses RSA >= min_rsa_bits (EC when allow_ec), a "
        "signature hash of min_signature_hash_bits or more, has min_days_valid days left, names the host "
        "in its SAN and (with require_trusted) validates against the system trust store and ca_file."
    ),
    requires=(_TLS_LISTING, "tls.Certificate"),
    params={
        "min_rsa_bits": 2048,
        "allow_ec": True,
        "min_signature_hash_bits": 256,
        "min_days_valid": 30,
        "require_trusted": True,
    },
    resource_type="tls_endpoint",
)
def certificate(ctx: CheckContext) -> Iterator[Finding]:
    p = ctx.params
    min_days = int(p["min_days_valid"])
    expected = (
        f"RSA >= {p['min_rsa_bits']} bits{' or EC' if p['allow_ec'] else ''}, signature SHA-"
        f"{p['min_signature_hash_bits']} or stronger, >= {min_days} days before expiry, host named in the SAN"
        + (", chain trusted" if p["require_trusted"] else "")
    )
    found, missing = _latest_listed(ctx, _TLS_LISTING, "endpoints", "tls.Certificate")
    yield from missing
    for endpoint, ev in found:
        cert: dict[str, Any] = ev.response
        host = str(cert.get("host") or _host_of(endpoint))
        signature = str(cert.get("signature_hash") or cert.get("signature_algorithm") or "")
        problems = key_strength(
            str(cert.get("key_algorithm", "")), signature, int(p["min_rsa_bits"]), bool(p["allow_ec"]),
            int(p["min_signature_hash_bits"]),
        )
        not_after = _parse_time(cert.get("not_after"))
        not_before = _parse_time(cert.get("not_before"))
        days: int | None = None
        if not_after is None:
            problems.append("no readable expiry date")
        else:
            days = (not_after - ctx.now).days
            if not_after <= ctx.now:
                problems.append(f"expired on {not_after.date().isoformat()}")
            elif days < min_days:
                problems.append(f"expires in {days} days (on {not_after.date().isoformat()}), under {min_days}")
        if not_before is not None and not_before > ctx.now:
            problems.append(f"not valid before {not_before.date().isoformat()}")
        san_dns = [str(n) for n in cert.get("san_dns", [])]
        san_ip = [str(n) for n in cert.get("san_ip", [])]
        verification: dict[str, Any] = cert.get("verification") or {}
        code = verification.get("verify_code")
        if not hostname_matches(host, san_dns, san_ip):
            problems.append(f"{host} is not among its names {san_dns + san_ip}")
        elif code in _NAME_MISMATCH:
            problems.append(f"OpenSSL finds {host} does not match: {_sentence(verification.get('verify_message'))}")
        if p["require_trusted"] and not verification.get("verified") and code not in _NAME_MISMATCH:
            problems.append(f"does not validate: {_sentence(verification.get('verify_message')) or 'not verified'}")
        observed = {
            "key_algorithm": cert.get("key_algorithm"),
            "signature_algorithm": cert.get("signature_algorithm"),
            "signature_hash": cert.get("signature_hash"),
            "not_after": cert.get("not_after"),
            "days_left": days,
            "names": san_dns + san_ip,
            "issuer": cert.get("issuer"),
            "verified": verification.get("verified"),
            "verify_message": verification.get("verify_message"),
        }
        yield ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=endpoint, evidence=[ev], observed=observed, expected=expected,
            message=(
                f"Certificate served by {endpoint}: {'; '.join(problems)}."
                if problems
                else f"Certificate served by {endpoint} is {cert.get('key_algorithm')} signed with "
                     f"{cert.get('signature_algorithm')}, valid for {days} more days, names {host} and validates."
            ),
        )


# --- HTTP security headers ---------------------------------------------------------------------


def hsts_max_age(value: str) -> int | None:
    """The max-age of a Strict-Transport-Security value; None when absent or malformed."""
    for directive in value.split(";"):
        name, _, arg = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            arg = arg.strip().strip('"')
            return int(arg) if arg.isdigit() else None
    return None


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name) or []
    return values[0] if values else None


@check(
    id="probe.security_headers",
    source="probe",
    description=(
        "Each listed HTTPS URL sends Strict-Transport-Security with max-age >= min_hsts_max_age and a "
        "Content-Security-Policy (redirect responses need HSTS only); a plain-HTTP URL must redirect to HTTPS."
    ),
    requires=(_HTTP_LISTING, "http.Get"),
    params={"min_hsts_max_age": 15552000},
    resource_type="url",
)
def security_headers(ctx: CheckContext) -> Iterator[Finding]:
    min_age = int(ctx.params["min_hsts_max_age"])
    found, missing = _latest_listed(ctx, _HTTP_LISTING, "urls", "http.Get")
    yield from missing
    for url, ev in found:
        resp: dict[str, Any] = ev.response
        status = resp.get("status")
        redirect = resp.get("redirect")
        if url.lower().startswith("http://"):
            observed_http = {"status": status, "redirect": redirect}
            if redirect and str(redirect).lower().startswith("https://"):
                yield ctx.finding(
                    Status.NOT_APPLICABLE, resource_id=url, evidence=[ev], observed=observed_http,
                    expected="a plain-HTTP URL redirects to HTTPS",
                    message=f"{url} redirects to HTTPS ({redirect}); list HTTPS URLs to judge their headers.",
                )
            else:
                yield ctx.finding(
                    Status.FAIL, resource_id=url, evidence=[ev], observed=observed_http,
                    expected="a plain-HTTP URL redirects to HTTPS",
                    message=f"{url} is served over plain HTTP (status {status}) without redirecting to HTTPS.",
                )
            continue
        headers: dict[str, list[str]] = resp.get("headers") or {}
        hsts = _first(headers, "strict-transport-security")
        csp = _first(headers, "content-security-policy")
        is_redirect = bool(redirect) or (isinstance(status, int) and 300 <= status < 400)
        problems: list[str] = []
        age = hsts_max_age(hsts) if hsts is not None else None
        if hsts is None:
            problems.append("no Strict-Transport-Security header")
        elif age is None:
            problems.append(f"Strict-Transport-Security {hsts!r} has no valid max-age")
        elif age < min_age:
            problems.append(f"HSTS max-age {age} is under {min_age}")
        if not is_redirect and not (csp and csp.strip()):
            only_report = _first(headers, "content-security-policy-report-only")
            problems.append(
                "no Content-Security-Policy header" + (" (only a Report-Only policy, which enforces nothing)"
                                                       if only_report else "")
            )
        observed = {"status": status, "strict-transport-security": hsts, "hsts_max_age": age,
                    "content-security-policy": csp}
        if is_redirect:
            observed["redirect"] = redirect
        yield ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=url, evidence=[ev], observed=observed,
            expected=f"Strict-Transport-Security max-age >= {min_age}"
                     + ("" if is_redirect else "; a Content-Security-Policy"),
            message=(
                f"{url}: {'; '.join(problems)}."
                if problems
                else f"{url} sends HSTS (max-age {age})" + ("." if is_redirect else " and a Content-Security-Policy.")
            ),
        )


# --- session cookies -----------------------------------------------------------------------------


@check(
    id="probe.session_cookies",
    source="probe",
    description=(
        "Every cookie a listed URL sets is Secure, HttpOnly (except names in http_only_exempt) and SameSite "
        "Lax or Strict (allowed_same_site). URLs that set no cookie are not judged."
    ),
    requires=(_HTTP_LISTING, "http.Get"),
    params={"allowed_same_site": ["Lax", "Strict"], "http_only_exempt": []},
    resource_type="url",
)
def session_cookies(ctx: CheckContext) -> Iterator[Finding]:
    allowed = [str(v) for v in ctx.params["allowed_same_site"]]
    allowed_lower = {v.lower() for v in allowed}
    exempt = {str(v) for v in ctx.params["http_only_exempt"]}
    expected = f"every cookie Secure, HttpOnly, SameSite in {'/'.join(allowed)}"
    urls, _ = _listed(ctx, _HTTP_LISTING, "urls")
    by_url = _by_subject(ctx, "http.Get")
    for url in urls:
        evs = by_url.get(url, [])
        if not evs:
            continue  # security_headers reports the missing evidence; the judge the failed call
        ev = evs[-1]
        cookies: list[dict[str, Any]] = ev.response.get("cookies") or []
        if not cookies:
            continue
        problems: list[str] = []
        observed: list[dict[str, Any]] = []
        for cookie in cookies:
            name = str(cookie.get("name") or "(nameless)")
            same_site = cookie.get("same_site")
            missing: list[str] = []
            if not cookie.get("secure"):
                missing.append("Secure")
            if not cookie.get("http_only") and name not in exempt:
                missing.append("HttpOnly")
            if not same_site or str(same_site).lower() not in allowed_lower:
                missing.append(f"SameSite {'/'.join(allowed)} (has {same_site or 'none'})")
            if missing:
                problems.append(f"{name} lacks {', '.join(missing)}")
            observed.append({"name": name, "secure": bool(cookie.get("secure")),
                             "http_only": bool(cookie.get("http_only")), "same_site": same_site})
        yield ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=url, evidence=[ev], observed=observed, expected=expected,
            message=(
                f"{url} sets cookies without protection: {'; '.join(problems)}."
                if problems
                else f"{url} sets {len(cookies)} cookie(s), all Secure, HttpOnly and SameSite "
                     f"{'/'.join(sorted({str(c.get('same_site')) for c in cookies}))}."
            ),
        )


# --- security.txt -----------------------------------------------------------------------------------


@check(
    id="probe.security_txt",
    source="probe",
    description=(
        "Each listed site serves /.well-known/security.txt (RFC 9116) naming at least one Contact and one "
        "Expires date still in the future."
    ),
    requires=(_HTTP_LISTING, "http.SecurityTxt"),
    resource_type="security_txt",
)
def security_txt(ctx: CheckContext) -> Iterator[Finding]:
    expected = "HTTP 200 with a Contact and one Expires in the future"
    found, missing = _latest_listed(ctx, _HTTP_LISTING, "security_txt", "http.SecurityTxt")
    yield from missing
    for site, ev in found:
        resp: dict[str, Any] = ev.response
        status = resp.get("status")
        fields: dict[str, list[str]] = resp.get("fields") or {}
        contacts = fields.get("contact", [])
        expires = fields.get("expires", [])
        observed: dict[str, Any] = {"status": status, "contact": contacts, "expires": expires}
        problems: list[str] = []
        if status != 200:
            where = f", redirects to {resp['redirect']}" if resp.get("redirect") else ""
            problems.append(f"not served (HTTP {status}{where})")
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
        yield ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=site, evidence=[ev], observed=observed, expected=expected,
            message=(
                f"{site}: {'; '.join(problems)}."
                if problems
                else f"{site} names {', '.join(contacts)} and is valid until {expires[0]}."
            ),
        )


__all__ = [
    "certificate",
    "hostname_matches",
    "hsts_max_age",
    "security_headers",
    "security_txt",
    "session_cookies",
    "tls_protocols",
]
