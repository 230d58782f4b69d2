"""The probe source as the probe checks read it: the inventories of what `[probes]` lists, the
records collected for each listed resource, and the pure parsers the checks share.

`tls.ListEndpoints` lists the endpoints (`endpoints`) and `http.ListUrls` the URLs (`urls`) and
the security.txt sites (`security_txt`), as the probe collector writes them; each probe record
(`tls.Handshake`, `tls.Certificate`, `http.Get`, `http.SecurityTxt`) was collected for one
listed resource and names it in its `subject`: a chain, so a listed resource without any record
is an `error` from the judge. An explicitly empty list is a stated scope (`stated_empty`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from evidence.checks.base import CheckContext
from evidence.checks.inventory import FieldError, Inventory, Item, kind_name
from evidence.models import Finding, Status
from evidence.sources.probe import (
    HTTP_GET,
    HTTP_LIST_URLS,
    HTTP_SECURITY_TXT,
    TLS_CERTIFICATE,
    TLS_HANDSHAKE,
    TLS_LIST_ENDPOINTS,
)

TLS_ENDPOINTS = Inventory(TLS_LIST_ENDPOINTS, items="endpoints", resource_type="tls_endpoint")
HANDSHAKES = Inventory(TLS_HANDSHAKE, items=None, resource_type="tls_endpoint", parent=TLS_ENDPOINTS)
CERTIFICATES = Inventory(TLS_CERTIFICATE, items=None, resource_type="tls_endpoint", parent=TLS_ENDPOINTS)
URLS = Inventory(HTTP_LIST_URLS, items="urls", resource_type="url")
GETS = Inventory(HTTP_GET, items=None, resource_type="url", parent=URLS)
SITES = Inventory(HTTP_LIST_URLS, items="security_txt", resource_type="security_txt")
SECURITY_TXTS = Inventory(HTTP_SECURITY_TXT, items=None, resource_type="security_txt", parent=SITES)

#: what a check's function for one resource returns: a finding, or none or several
Judged = Finding | Iterable[Finding]


def strings(item: Item, name: str, *, required: bool = False) -> list[str]:
    """The list of strings `name` of `item` (absent: an error when `required`, else empty)."""
    values = item.need(name, list) if required else item.need(name, list, [])
    for n, value in enumerate(values):
        if not isinstance(value, str):
            found = "null" if value is None else kind_name(type(value)).split(" ", 1)[-1]
            at = f"{item.at}.{name}[{n}]" if item.at else f"{name}[{n}]"
            raise FieldError(at, "a string", found, item.ev.path, item.resource_id)
    return values


def page_of(item: Item) -> Item:
    """The listing page `item` is listed on, as an Item of the same resource (for its fields)."""
    return Item(item.ev.response, item.ev, item.resource_id, item.name, "")


def records_by_subject(ctx: CheckContext[Any], inv: Inventory) -> dict[str, list[Item]]:
    """The records of `inv` by the listed resource they were collected for, oldest first."""
    out: dict[str, list[Item]] = {}
    for item in ctx.items(inv):
        out.setdefault(item.name, []).append(item)
    return out


def failed_subjects(ctx: CheckContext[Any], key: str) -> set[str]:
    """Subjects with a failed record of `key`: the judge reports those as errors."""
    return {e.subject for e in ctx.index.entries_for(key) if not e.ok}


def each_listed(ctx: CheckContext[Any], inv: Inventory, judge: Callable[[Item], Judged]) -> Iterator[Finding]:
    """`judge` for each listed resource once (a resource listed twice is judged once)."""
    seen: set[str] = set()

    def once(item: Item) -> Judged:
        if item.name in seen:
            return []
        seen.add(item.name)
        return judge(item)

    yield from ctx.each(inv, once)


def by_latest_record(
    ctx: CheckContext[Any], records: dict[str, list[Item]], judge: Callable[[Item], Finding]
) -> Callable[[Item], Judged]:
    """Judge a listed resource by its latest record; none: nothing here (the judge reports the
    failed call, or that no record was collected for it). A decisive field missing from the record
    is an `error` naming that record."""

    def one(listed: Item) -> Judged:
        found = records.get(listed.name)
        if not found:
            return []
        try:
            return judge(found[-1])
        except FieldError as exc:
            return ctx.field_error(exc, found[-1])

    return one


def stated_empty(ctx: CheckContext[Any], inv: Inventory, what: str) -> Iterator[Finding]:
    """`not_applicable` for a listing the configuration states empty (`tls_endpoints = []`): every
    page read, none malformed, no item, and each names the configuration key it lists."""
    listing = ctx.listing(inv)
    if listing.items or listing.problems or not listing.pages or not all(e.ok for e in ctx.index.entries_for(inv.key)):
        return
    scopes = {ev.response.get("scope") for ev in listing.pages}
    if len(scopes) != 1 or not all(isinstance(s, str) and s for s in scopes):
        return  # a listing that does not say what states it: the judge's own not_applicable
    scope = str(scopes.pop())
    yield ctx.finding(
        Status.NOT_APPLICABLE, resource_id=ctx.check.source, resource_type="", evidence=listing.pages,
        observed=f"0 {what}: {scope} = []", expected=f"{what} judged when listed",
        message=f"No {what} in scope for {ctx.check.id}: the configured scope is empty ({scope} = [] states "
                f"there are none), so there is nothing to judge.",
    )


def host_of(endpoint: str) -> str:
    """The host of a `host:port` or `[v6addr]:port` endpoint."""
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


def hsts_max_age(value: str) -> int | None:
    """The max-age of a Strict-Transport-Security value; None when absent or malformed."""
    for directive in value.split(";"):
        name, _, arg = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            arg = arg.strip().strip('"')
            return int(arg) if arg.isdigit() else None
    return None


__all__ = [
    "CERTIFICATES",
    "GETS",
    "HANDSHAKES",
    "SECURITY_TXTS",
    "SITES",
    "TLS_ENDPOINTS",
    "URLS",
    "Judged",
    "by_latest_record",
    "each_listed",
    "failed_subjects",
    "host_of",
    "hostname_matches",
    "hsts_max_age",
    "page_of",
    "records_by_subject",
    "stated_empty",
    "strings",
]
