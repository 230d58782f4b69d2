"""The template context of report.html and report.pdf: the bundle's controls, checks,
findings, manual evidence and waivers as view models, in one streamed pass over the findings."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from evidence.catalog import CheckRef, Control
from evidence.judge import Attachment
from evidence.models import ControlVerdict, Finding, Status, verdict_from_counts
from evidence.reports.content import BundleContent
from evidence.reports.scope import scope_rows
from evidence.reports.views import (
    STATUS_LABEL,
    STATUS_ORDER,
    AttachmentView,
    CheckView,
    ControlView,
    CriterionGroup,
    Link,
    ManualView,
    Row,
    WaiverView,
    format_value,
)

#: SOC 2 (2017 Trust Services Criteria) categories, for the index by criterion
CRITERIA_GROUPS = {
    "CC1": "CC1 Control environment",
    "CC2": "CC2 Communication and information",
    "CC3": "CC3 Risk assessment",
    "CC4": "CC4 Monitoring activities",
    "CC5": "CC5 Control activities",
    "CC6": "CC6 Logical and physical access controls",
    "CC7": "CC7 System operations",
    "CC8": "CC8 Change management",
    "CC9": "CC9 Risk mitigation",
    "A1": "A1 Availability",
    "C1": "C1 Confidentiality",
    "PI1": "PI1 Processing integrity",
    "P": "P Privacy",
}
_GROUP_ORDER = list(CRITERIA_GROUPS)
#: the PDF lists passing and not-applicable findings one by one up to this many in total, and
#: counts them per check beyond (failures, errors, waived and manual findings are listed up to
#: PDF_ROW_LIMIT per check and status)
PDF_PASS_LIMIT = 500
#: findings of one status a check lists at most in report.html / report.pdf; beyond, they are
#: counted and the report points at findings.csv, which lists every one. It keeps a report of a
#: large estate readable, and its rendering memory bounded however many findings there are.
HTML_ROW_LIMIT = 1000
PDF_ROW_LIMIT = 25


def _criterion_key(criterion: str) -> tuple[int, str, tuple[int, ...]]:
    prefix = criterion.split(".")[0]
    group = next((g for g in _GROUP_ORDER if prefix == g), "P" if criterion.startswith("P") else prefix)
    rank = _GROUP_ORDER.index(group) if group in _GROUP_ORDER else len(_GROUP_ORDER)
    numbers = tuple(int(n) for n in "".join(ch if ch.isdigit() else " " for ch in criterion).split())
    return rank, group, numbers


class _Views:
    """Builds the template view of a bundle; `prefix` is prepended to links into the bundle."""

    def __init__(self, content: BundleContent, prefix: str, row_limit: int | None = None) -> None:
        self.content = content
        self.prefix = prefix
        #: findings of one status listed per check at most (None: all); the rest are counted
        self.row_limit = row_limit

    def link(self, path: str) -> Link:
        parts = path.split("/")
        if len(parts) == 6 and parts[0] == "evidence":
            _, source, account, region, service, name = parts
            operation = name.rsplit("-", 1)[0] if "-" in name else name.removesuffix(".json")
            label = f"{service}.{operation}"
            detail = " · ".join(p for p in (source, account.strip("_"), region) if p)
        else:
            label, detail = parts[-1], "/".join(parts[:-1])
        href = self.prefix + quote(path) if path in self.content.hashes else None
        return Link(path=path, label=label, detail=detail, href=href)

    def row(self, f: Finding) -> Row:
        where = " · ".join(p for p in (f.resource_type, f.account, f.region) if p)
        return Row(
            status=f.status, check_id=f.check_id, resource_id=f.resource_id, where=where, message=f.message,
            observed=format_value(f.observed), expected=format_value(f.expected),
            evidence=[self.link(p) for p in f.evidence], waiver=f.waiver,
        )

    def check(self, control: Control, ref: CheckRef) -> CheckView:
        info = self.content.checks.get(ref.id)
        params = self.content.judging.params.get(control.id, {}).get(ref.id, ref.params)
        return CheckView(
            id=ref.id, description=info.description if info else "", source=info.source if info else "",
            params=", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(params.items())),
            verdict=None, counts={},
        )

    def listed(self, nth: int) -> bool:
        """Whether the `nth` finding of one status (of a check, or of a waiver) is listed."""
        return self.row_limit is None or nth <= self.row_limit

    def manual(self, control: Control, findings: dict[str, Finding]) -> list[ManualView]:
        today = self.content.judging.reference_time.date()
        out: list[ManualView] = []
        for req in control.manual:
            f = findings.get(f"manual.{req.id}")
            attached: list[Attachment] = sorted(
                (a for a in self.content.judging.attachments if a.control_id == control.id and a.requirement == req.id),
                key=lambda a: (a.valid_until, a.path),
                reverse=True,
            )
            out.append(ManualView(
                id=req.id, description=req.description, valid_for_days=req.valid_for_days,
                status=f.status if f else Status.MANUAL, observed=format_value(f.observed) if f else "not judged",
                attachments=[
                    AttachmentView(self.link(a.path), a.valid_until, a.valid_until >= today, a.attached_by,
                                   a.attached_at)
                    for a in attached
                ],
            ))
        return out

    def controls(self) -> list[ControlView]:
        """One view per verdict, its findings routed in one streamed pass over `findings.json`;
        a check lists at most `row_limit` findings of each status and counts the rest."""
        parts = {v.control_id: _ControlParts(self, v) for v in self.content.verdicts}
        for f in self.content.iter_findings():
            part = parts.get(f.control_id)
            if part is not None:
                part.add(f)
        return [part.view() for part in parts.values()]


class _ControlParts:
    """A control's view, assembled finding by finding."""

    def __init__(self, views: _Views, verdict: ControlVerdict) -> None:
        self.views = views
        self.verdict = verdict
        catalog = views.content.judging.catalog.controls
        self.control = catalog.get(verdict.control_id) or Control(
            id=verdict.control_id, title=verdict.title, statement=verdict.statement or "—",
            criteria=verdict.criteria or ["—"],
        )
        self.checks = {ref.id: views.check(self.control, ref) for ref in self.control.checks}
        self.manual_ids = {f"manual.{m.id}" for m in self.control.manual}
        self.manual_findings: dict[str, Finding] = {}
        self.notes: list[tuple[str, Row]] = []
        today = views.content.judging.reference_time.date()
        self.waivers = {
            w.id: WaiverView(
                id=w.id, resource=w.resource, check_id=w.check_id or "any check", reason=w.reason,
                approver=w.approver, expires=w.expires, expired=w.expires < today, rows=[],
            )
            for w in sorted(views.content.judging.waivers, key=lambda w: w.id)
            if w.control_id == self.control.id
        }

    def add(self, f: Finding) -> None:
        view = self.checks.get(f.check_id)
        if view is None:
            if f.check_id in self.manual_ids:
                self.manual_findings.setdefault(f.check_id, f)
            else:
                self.notes.append((f.check_id, self.views.row(f)))
        else:
            nth = view.counts[f.status.value] = view.counts.get(f.status.value, 0) + 1
            # waived findings are listed under their waiver (below)
            if self.views.listed(nth) and f.status is not Status.WAIVED:
                if f.status in (Status.FAIL, Status.ERROR):
                    view.problems.append(self.views.row(f))
                elif f.status in (Status.PASS, Status.NOT_APPLICABLE):
                    view.passing.append(self.views.row(f))
                else:
                    view.others.append(self.views.row(f))
        if f.waiver in self.waivers:
            w = self.waivers[f.waiver]
            w.total += 1
            if self.views.listed(w.total):
                w.rows.append(self.views.row(f))

    def view(self) -> ControlView:
        order = {s: i for i, s in enumerate(STATUS_ORDER)}
        for view in self.checks.values():
            view.verdict = verdict_from_counts(view.counts) if view.counts else None
            view.problems.sort(key=lambda r: order[r.status])
            view.passing.sort(key=lambda r: order[r.status])
        v = self.verdict
        return ControlView(
            id=self.control.id, anchor=f"control-{self.control.id}", title=self.control.title,
            statement=self.control.statement, section=self.control.section, criteria=list(self.control.criteria),
            verdict=v.verdict, counts={s.value: v.counts.get(s.value, 0) for s in STATUS_ORDER},
            checks=list(self.checks.values()), manual=self.views.manual(self.control, self.manual_findings),
            waivers=list(self.waivers.values()), notes=[row for _, row in sorted(self.notes, key=lambda n: n[0])],
        )


def criteria_index(controls: Iterable[ControlView]) -> list[CriterionGroup]:
    by_criterion: dict[str, list[ControlView]] = {}
    for c in controls:
        for crit in c.criteria:
            by_criterion.setdefault(crit, []).append(c)
    groups: dict[str, list[tuple[str, list[ControlView]]]] = {}
    for crit in sorted(by_criterion, key=_criterion_key):
        group = _criterion_key(crit)[1]
        groups.setdefault(group, []).append((crit, by_criterion[crit]))
    return [CriterionGroup(CRITERIA_GROUPS.get(g, g), items) for g, items in groups.items()]


def build_view(content: BundleContent, *, prefix: str = "", pdf: bool = False) -> dict[str, Any]:
    """The template context for `report.html` (or `report.pdf` when `pdf`)."""
    controls = _Views(content, prefix, PDF_ROW_LIMIT if pdf else HTML_ROW_LIMIT).controls()
    meta = content.meta
    period: dict[str, Any] = meta.get("period", {}) or {}
    verdict_totals = Counter(c.verdict.value for c in controls)
    finding_totals: Counter[str] = Counter()
    for v in content.verdicts:
        finding_totals.update({s: n for s, n in v.counts.items() if n})
    passing_total = finding_totals.get("pass", 0) + finding_totals.get("not_applicable", 0)
    return {
        "pdf": pdf,
        "company": meta.get("company") or "Unnamed company",
        "period": period,
        "meta": meta,
        "tool": meta.get("tool", {}) or {},
        "signature": meta.get("signature"),
        "scope": scope_rows(content),
        "digests": [
            ("Content digest", content.content_digest),
            ("findings.json", content.hashes.get("findings.json", "—")),
            ("controls.json", content.hashes.get("controls.json", "—")),
            (f"Catalog ({meta.get('catalog_source', 'built-in')})", meta.get("catalog_digest", "—")),
            ("Configuration", meta.get("config_digest", "—")),
        ],
        "controls": controls,
        "criteria": criteria_index(controls),
        "status_order": [s.value for s in STATUS_ORDER],
        "labels": {s.value: STATUS_LABEL[s] for s in Status},
        "verdict_totals": verdict_totals,
        "finding_totals": finding_totals,
        "findings_total": sum(finding_totals.values()),
        "attention": [c for c in controls if c.verdict in (Status.FAIL, Status.ERROR)],
        "list_passing": not pdf or passing_total <= PDF_PASS_LIMIT,
        "evidence_files": sum(1 for p in content.hashes if p.startswith("evidence/")),
        "plugin_errors": meta.get("plugin_errors", []) or [],
        "api_calls": meta.get("api_calls", {}) or {},
    }
