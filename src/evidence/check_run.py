"""Judging one check for one control: the check's own findings, and around them every
failed call, malformed page, unjudged listed resource and empty listing, so that nothing
listed goes unjudged and an error is never a pass."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from evidence.checks.base import Check, CheckContext
from evidence.checks.inventory import FieldError, Item, Listing, children_missing
from evidence.checks.params import NoParams
from evidence.checks.params import problem as param_problem
from evidence.judging import Judging
from evidence.models import Finding, Status
from evidence.records import Evidence, EvidenceIndex, IndexEntry

log = logging.getLogger(__name__)


#: source -> how that source names the scope of a failed call that has no subject, from the
#: call's (service, account, region); each collector says (`Collector.failed_scope`)
ScopeNames = Mapping[str, Callable[[str, str, str], str]]


def scope_of(entry: IndexEntry, subject: str, names: ScopeNames | None = None) -> str:
    """The resource a failed call was about: its subject, else the scope it listed as its
    source names it (an AWS ARN with a wildcard, say), else account/region."""
    if subject:
        return subject
    name = (names or {}).get(entry.source)
    if name is not None:
        return name(entry.service, entry.account, entry.region)
    parts = [p for p in (entry.account, entry.region) if p]
    return "/".join(parts) or entry.source


def _covers(findings: Iterable[Finding]) -> Callable[[Item], bool]:
    """Whether some finding is about a listed item: same resource id, and the same region
    unless either side names none (account-wide settings, global services)."""
    anywhere: set[str] = set()
    placed: set[tuple[str, str]] = set()
    for f in findings:
        if f.region:
            placed.add((f.resource_id, f.region))
        else:
            anywhere.add(f.resource_id)
    regions = {rid for rid, _ in placed}

    def covered(item: Item) -> bool:
        rid = item.resource_id
        if rid in anywhere or (rid, item.region) in placed:
            return True
        return not item.region and rid in regions

    return covered


def _shape_findings(ctx: CheckContext[Any], listings: Iterable[Listing], names: ScopeNames) -> list[Finding]:
    """One `error` per page whose items are not where declared (or an item without its id)."""
    out: list[Finding] = []
    for listing in listings:
        for problem in listing.problems:
            inv = problem.inventory
            out.append(
                ctx.finding(
                    Status.ERROR,
                    resource_id=problem.ev.record.subject or scope_of(_entry_of(problem.ev), "", names),
                    resource_type="",
                    account=problem.ev.account,
                    region=problem.ev.region,
                    evidence=[problem.ev],
                    observed=problem.message,
                    expected=inv.describe(),
                    message=(
                        f"The {inv.key} page {problem.ev.path} does not hold its items where {ctx.check.id} "
                        f"reads them ({problem.path}): {problem.message}; nothing on it can be judged."
                    ),
                )
            )
    return out


def _entry_of(ev: Evidence) -> IndexEntry:
    return IndexEntry.of(ev.path, ev.record)


def _failed_calls(ctx: CheckContext[Any], chk: Check, index: EvidenceIndex, names: ScopeNames) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[tuple[str, str, str, str]] = set()
    for key in chk.requires:
        for entry in index.entries_for(key):
            if entry.ok:
                continue
            ev = index.load(entry)
            err = ev.record.error
            assert err is not None
            resource = scope_of(entry, ev.record.subject, names)
            marker = (resource, entry.account, entry.region, key + err.code)
            if marker in seen:
                continue
            seen.add(marker)
            remedy = f" Remedy: {err.remedy}" if err.remedy else ""
            findings.append(
                ctx.finding(
                    Status.ERROR,
                    resource_id=resource,
                    resource_type="",
                    account=entry.account,
                    region=entry.region,
                    message=f"Could not collect {key}: {err.code}: {err.message}.{remedy}",
                    observed=err.code,
                    expected=f"{key} readable",
                    evidence=[ev],
                )
            )
    return findings


def _source_error(chk: Check, control_id: str, judging: Judging, index: EvidenceIndex, why: str) -> list[Finding]:
    ctx: CheckContext[Any] = CheckContext(chk, control_id, NoParams(), judging.reference_time, index)
    return [
        ctx.finding(
            Status.ERROR,
            resource_id=chk.source,
            resource_type="",
            message=why,
            observed="not collected" if "not collected" in why else "cannot judge",
            expected="evidence collected" if "not collected" in why else "check judges",
        )
    ]


def run_check(
    chk: Check, control_id: str, judging: Judging, index: EvidenceIndex, scope_names: ScopeNames | None = None
) -> list[Finding]:
    """Judge one check for one control, including the failures, malformed pages, unjudged
    resources and empty listings around it (`scope_names`: how each source names the scope of
    a failed call without a subject)."""
    names = scope_names or {}
    reason = judging.sources.get(chk.source)
    if reason is not None:
        remedy = (f"configure {chk.source} in evidence.toml (`evidence init` writes the sections of the built-in "
                  f"sources; `evidence collectors list` names each source's section), or leave it out of the run "
                  f"with --only")
        return _source_error(chk, control_id, judging, index,
                             f"{chk.source} evidence was not collected: {reason}. Remedy: {remedy}")
    raw = judging.params.get(control_id, {}).get(chk.id, dict(chk.params))
    if (bad := param_problem(chk.param_model, raw)) is not None:
        name, why = bad
        return _source_error(chk, control_id, judging, index, f"parameter '{name}' of {chk.id}: {why}")
    ctx = CheckContext(chk, control_id, chk.param_model.model_validate(raw), judging.reference_time, index)
    findings: list[Finding] = []
    inv = chk.inventory
    root = inv.root.key
    if not index.entries_for(root):
        findings.append(
            ctx.finding(
                Status.ERROR,
                resource_id=chk.source,
                resource_type="",
                message=f"no {root} evidence was collected, so {chk.id} cannot be judged",
                observed="no evidence",
                expected=f"{root} collected",
            )
        )
    findings.extend(_failed_calls(ctx, chk, index, names))
    chain = [ctx.listing(i) for i in inv.chain()]
    extra = [ctx.listing(i) for other in chk.listings for i in other.chain()]
    findings.extend(_shape_findings(ctx, {id(li): li for li in [*chain, *extra]}.values(), names))
    judged: list[Finding] = []
    try:
        # a finding is the check's that made it: findings are grouped and ordered by check
        for f in chk(ctx):
            if (f.control_id, f.check_id) != (control_id, chk.id):
                f = f.model_copy(update={"control_id": control_id, "check_id": chk.id})
            judged.append(f)
    except FieldError as exc:
        judged.append(ctx.field_error(exc))
    except Exception as exc:
        log.exception("check %s raised", chk.id)
        judged.append(
            ctx.finding(
                Status.ERROR,
                resource_id=chk.source,
                resource_type="",
                message=f"check {chk.id} raised {type(exc).__name__}: {exc}",
                observed=type(exc).__name__,
                expected="check completes",
            )
        )
    findings.extend(judged)
    covered = _covers(findings)
    for parent, child in zip(chain, inv.chain()[1:], strict=False):
        for item in children_missing(parent, child, index):
            if covered(item):
                continue
            findings.append(
                ctx.finding(
                    Status.ERROR,
                    resource_id=item.resource_id,
                    resource_type=parent.inventory.resource_type,
                    account=item.account,
                    region=item.region,
                    evidence=[item.ev],
                    observed="not collected",
                    expected=f"{child.key} collected",
                    message=f"Listed in {parent.inventory.key}, but no {child.key} record was collected for it, "
                    f"so what it holds cannot be judged by {chk.id}.",
                )
            )
    leaves = chain[-1]
    for item in leaves.items:
        if covered(item):
            continue
        findings.append(
            ctx.finding(
                Status.ERROR,
                resource_id=item.resource_id,
                account=item.account,
                region=item.region,
                evidence=[item.ev],
                observed="not judged",
                expected="a finding for every listed resource",
                message=f"Listed in {item.ev.path} ({item.at or 'the record'}) but not judged by {chk.id}.",
            )
        )
    if not findings:
        pages = [ev.path for listing in chain for ev in listing.pages]
        read = "; ".join(
            f"{listing.inventory.key}: {len(listing.pages)} page(s), {len(listing.items)} item(s)" for listing in chain
        )
        findings.append(
            ctx.finding(
                Status.NOT_APPLICABLE,
                resource_id=chk.source,
                resource_type="",
                message=f"No resources in scope for {chk.id}: every page was read and none holds one ({read}).",
                observed="0 resources",
                expected="resources judged when present",
                evidence=pages,
            )
        )
    return findings
