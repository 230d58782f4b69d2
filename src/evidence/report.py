"""The reports an auditor reads, rendered from a bundle alone.

    report.html    self-contained (inline CSS, no script, a Content-Security-Policy that forbids
                   loading anything); failures first, passing resources collapsed
    report.pdf     the same content through WeasyPrint, with a table of contents and page numbers
    findings.csv   one row per finding, controls.csv one row per control, for spreadsheets
    oscal/assessment-results.json   see `evidence.oscal`

Everything is read from the bundle folder (findings.json, controls.json, judging.json,
checks.json, the evidence files and the manifest's run metadata), so `evidence report`
reproduces what `evidence run` wrote, byte for byte, with the same tool version. Nothing in
the output depends on the clock or the machine.

The cover cannot show the digest of `manifest.json` (the reports are written before the
manifest that lists them). It shows the *content digest* instead: the SHA-256 of the canonical
JSON object that maps every file of the bundle except the reports and the manifest files to its
SHA-256. `evidence verify` prints the same digest from the manifest, so a reader can tie a
printed report to the bundle it came from.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

import ijson
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evidence.bundle import (
    MANIFEST,
    MANIFEST_DIGEST,
    SIGNATURE,
    BundleError,
    PartialBundle,
    file_sha256,
    load_manifest,
    verify,
)
from evidence.catalog import CheckRef, Control, default_templates_dir
from evidence.checks.base import Check
from evidence.judge import Attachment, Judging, read_findings
from evidence.models import ControlVerdict, Finding, Status, sha256_of, verdict_from_counts
from evidence.spreadsheet import cell

if TYPE_CHECKING:
    from evidence.runner import RunResult

log = logging.getLogger(__name__)

FORMATS = ("html", "pdf", "csv", "oscal")
OUTPUTS: dict[str, tuple[str, ...]] = {
    "html": ("report.html",),
    "pdf": ("report.pdf",),
    "csv": ("findings.csv", "controls.csv"),
    "oscal": ("oscal/assessment-results.json",),
}
#: files the reports are written to: never inputs of a report, never in the content digest
REPORT_FILES = frozenset(name for names in OUTPUTS.values() for name in names)
#: the checks as they were at run time (id, source, description, ...), written by `ReportHook`
CHECKS_FILE = "checks.json"
_NOT_INPUTS = REPORT_FILES | {MANIFEST, MANIFEST_DIGEST, SIGNATURE}

#: the order findings are shown in: what needs action first
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.MANUAL, Status.WAIVED, Status.NOT_APPLICABLE, Status.PASS)
STATUS_LABEL = {
    Status.PASS: "Pass",
    Status.FAIL: "Fail",
    Status.ERROR: "Error",
    Status.MANUAL: "Manual",
    Status.NOT_APPLICABLE: "N/A",
    Status.WAIVED: "Waived",
}
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
#: values longer than this are cut in the HTML and PDF (findings.json and the CSV keep them whole)
MAX_VALUE_CHARS = 2000
#: values longer than this are cut in the PDF
PDF_MAX_VALUE_CHARS = 600
#: the PDF lists passing and not-applicable findings one by one up to this many in total, and
#: counts them per check beyond (failures, errors, waived and manual findings are listed up to
#: PDF_ROW_LIMIT per check and status)
PDF_PASS_LIMIT = 500
#: findings of one status a check lists at most in report.html / report.pdf; beyond, they are
#: counted and the report points at findings.csv, which lists every one. It keeps a report of a
#: large estate readable, and its rendering memory bounded however many findings there are.
HTML_ROW_LIMIT = 1000
PDF_ROW_LIMIT = 25


class ReportError(Exception):
    """A bundle the reports cannot be rendered from; the message names the file."""


class CheckInfo(BaseModel):
    """What the report says about a check; `checks.json` keeps it so reports need no plugins."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    description: str
    requires: list[str] = Field(default_factory=list)
    resource_type: str = ""


def checks_json(checks: Mapping[str, Check]) -> str:
    """The exact bytes of `checks.json`."""
    rows = [
        CheckInfo(
            id=c.id, source=c.source, description=c.description, requires=list(c.requires),
            resource_type=c.resource_type,
        ).model_dump(mode="json")
        for c in sorted(checks.values(), key=lambda c: c.id)
    ]
    return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def content_digest(hashes: Mapping[str, str]) -> str:
    """SHA-256 of `{path: sha256}` over a bundle's files, reports and manifest files excluded."""
    return sha256_of({p: h for p, h in hashes.items() if p not in _NOT_INPUTS})


def manifest_content_digest(manifest: Mapping[str, Any]) -> str:
    """The content digest from a manifest's file list (what `evidence verify` prints)."""
    files: Mapping[str, Mapping[str, Any]] = manifest.get("files", {})
    return content_digest({p: str(meta.get("sha256", "")) for p, meta in files.items()})


@dataclass(frozen=True)
class BundleContent:
    """Everything a report shows, read from a bundle folder."""

    root: Path
    meta: dict[str, Any]
    verdicts: list[ControlVerdict]
    judging: Judging
    checks: dict[str, CheckInfo]
    #: every input file of the bundle (not a report, not a manifest file) -> sha256
    hashes: dict[str, str]

    def iter_findings(self) -> Iterator[Finding]:
        """The bundle's findings in `findings.json` order, parsed one at a time (a large bundle's
        findings are never all in memory)."""
        path = self.root / "findings.json"
        try:
            yield from read_findings(path)
        except FileNotFoundError:
            raise ReportError(f"{path}: missing; this is not a complete bundle") from None
        except (OSError, ValueError, ijson.JSONError) as exc:
            # a ValidationError is a ValueError: a finding that does not fit the schema
            raise ReportError(f"{path}: unreadable ({str(exc).splitlines()[0]})") from None

    @property
    def findings(self) -> list[Finding]:
        """Every finding, in memory (prefer `iter_findings`)."""
        return list(self.iter_findings())

    @property
    def content_digest(self) -> str:
        return content_digest(self.hashes)


def _read_json(root: Path, rel: str) -> Any:
    path = root / rel
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: missing; this is not a complete bundle") from None
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: unreadable ({exc})") from None


def _input_hashes(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            if rel not in _NOT_INPUTS:
                out[rel] = file_sha256(p)
    return out


def load_bundle(root: Path, metadata: Mapping[str, Any] | None = None) -> BundleContent:
    """Read a bundle. `metadata` is the run metadata of a bundle still being written (the hook);
    without it the sealed manifest is read and every input file must match it."""
    hashes = _input_hashes(root)
    if metadata is None:
        try:
            manifest = load_manifest(root)
        except BundleError as exc:
            raise ReportError(str(exc)) from None
        listed: dict[str, Any] = manifest.get("files", {})
        altered = sorted(
            rel for rel in set(hashes) | {r for r in listed if r not in _NOT_INPUTS}
            if rel not in listed or rel not in hashes or listed[rel].get("sha256") != hashes[rel]
        )
        if altered:
            raise ReportError(
                f"{root}: {len(altered)} file(s) do not match the manifest ({', '.join(altered[:5])}"
                f"{', ...' if len(altered) > 5 else ''}); run evidence verify, reports are not rendered "
                "from an altered bundle"
            )
        metadata = manifest
    meta = {k: v for k, v in metadata.items() if k != "files"}
    try:
        verdicts = [ControlVerdict.model_validate(v) for v in _read_json(root, "controls.json")]
        judging = Judging.model_validate(_read_json(root, "judging.json"))
        checks: dict[str, CheckInfo] = {}
        if (root / CHECKS_FILE).is_file():
            checks = {c["id"]: CheckInfo.model_validate(c) for c in _read_json(root, CHECKS_FILE)}
    except ValidationError as exc:
        raise ReportError(f"{root}: a bundle file does not fit its schema ({exc.errors()[0]['msg']})") from None
    if not (root / "findings.json").is_file():
        raise ReportError(f"{root / 'findings.json'}: missing; this is not a complete bundle")
    return BundleContent(root, meta, verdicts, judging, checks, hashes)


# --------------------------------------------------------------------------------------------
# The view the templates render: computed here so the templates stay simple.


@dataclass(frozen=True)
class Link:
    """A file of the bundle a report points at; `href` is None when it is not in the bundle."""

    path: str
    label: str
    detail: str
    href: str | None


@dataclass(frozen=True)
class Row:
    status: Status
    check_id: str
    resource_id: str
    where: str
    message: str
    observed: str
    expected: str
    evidence: list[Link]
    waiver: str | None


@dataclass
class CheckView:
    id: str
    description: str
    source: str
    params: str
    verdict: Status | None
    counts: dict[str, int]
    problems: list[Row] = field(default_factory=list)
    others: list[Row] = field(default_factory=list)
    #: passing and not-applicable findings
    passing: list[Row] = field(default_factory=list)

    def _total(self, *statuses: Status) -> int:
        return sum(self.counts.get(s.value, 0) for s in statuses)

    @property
    def problem_total(self) -> int:
        return self._total(Status.FAIL, Status.ERROR)

    @property
    def problems_more(self) -> int:
        """Failures and errors counted but not listed (beyond the report's row limit)."""
        return self.problem_total - len(self.problems)

    @property
    def passing_total(self) -> int:
        return self._total(Status.PASS, Status.NOT_APPLICABLE)

    @property
    def passing_more(self) -> int:
        return self.passing_total - len(self.passing)

    @property
    def others_more(self) -> int:
        return self._total(Status.MANUAL) - len(self.others)


@dataclass(frozen=True)
class AttachmentView:
    link: Link
    valid_until: date
    valid: bool
    attached_by: str
    attached_at: str


@dataclass(frozen=True)
class ManualView:
    id: str
    description: str
    valid_for_days: int
    status: Status
    observed: str
    attachments: list[AttachmentView]


@dataclass
class WaiverView:
    id: str
    resource: str
    check_id: str
    reason: str
    approver: str
    expires: date
    expired: bool
    rows: list[Row]
    #: findings the waiver covers (`rows` lists up to the report's row limit of them)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass
class ControlView:
    id: str
    anchor: str
    title: str
    statement: str
    section: str
    criteria: list[str]
    verdict: Status
    counts: dict[str, int]
    checks: list[CheckView]
    manual: list[ManualView]
    waivers: list[WaiverView]
    notes: list[Row]

    @property
    def nonzero(self) -> list[tuple[str, int]]:
        return [(s, n) for s, n in self.counts.items() if n]

    @property
    def problem_count(self) -> int:
        return sum(c.problem_total for c in self.checks)

    @property
    def passing_count(self) -> int:
        return sum(c.passing_total for c in self.checks)


@dataclass(frozen=True)
class CriterionGroup:
    title: str
    criteria: list[tuple[str, list[ControlView]]]


def format_value(value: Any) -> str:
    """A finding's observed or expected value as shown: text as is, an object one `key: value`
    line per key (values as JSON), anything else as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict) and value:
        text = "\n".join(f"{k}: {json.dumps(v, sort_keys=True, ensure_ascii=False)}" for k, v in sorted(value.items()))
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + f"… (cut at {MAX_VALUE_CHARS} characters; the whole value is in findings.json)"
    return text


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


def _scope(content: BundleContent) -> list[tuple[str, str]]:
    """Rows of the cover's scope table: what was looked at."""
    scope: dict[str, Any] = content.meta.get("scope", {}) or {}
    accounts: dict[str, set[str]] = {}
    for rel in content.hashes:
        parts = rel.split("/")
        if len(parts) > 3 and parts[0] == "evidence" and parts[2] not in ("_", ""):
            accounts.setdefault(parts[1], set()).add(parts[2])
    rows: list[tuple[str, str]] = []
    sources = scope.get("sources") or {}
    if sources:
        rows.append(("Sources", "; ".join(f"{k}: {v}" for k, v in sorted(sources.items()))))
    if scope.get("only"):
        rows.append(("Limited to (--only)", ", ".join(scope["only"])))
    if "aws" in accounts:
        rows.append(("AWS accounts", ", ".join(sorted(accounts["aws"]))))
    if scope.get("aws_regions"):
        rows.append(("AWS regions", ", ".join(scope["aws_regions"])))
    if scope.get("aws_organization"):
        rows.append(("AWS organization", "every member account of the organization"))
    if scope.get("aws_assume_roles"):
        rows.append(("AWS roles assumed", ", ".join(scope["aws_assume_roles"])))
    if scope.get("google_workspace_customer"):
        rows.append(("Google Workspace tenant", str(scope["google_workspace_customer"])))
    if scope.get("github_org"):
        rows.append(("GitHub organization", str(scope["github_org"])))
    probes = scope.get("probes") or {}
    targets = [*probes.get("tls_endpoints", []), *probes.get("urls", [])]
    if targets:
        rows.append(("Probed endpoints", ", ".join(targets)))
    return rows


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
        "scope": _scope(content),
        "digests": [
            ("Content digest", content.content_digest),
            ("findings.json", content.hashes.get("findings.json", "—")),
            ("controls.json", content.hashes.get("controls.json", "—")),
            ("Catalog", meta.get("catalog_digest", "—")),
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


# --------------------------------------------------------------------------------------------
# Rendering


def _truncate_pdf(text: str) -> str:
    if len(text) <= PDF_MAX_VALUE_CHARS:
        return text
    return text[:PDF_MAX_VALUE_CHARS] + "… (cut; the whole value is in report.html and findings.json)"


def css_string(value: Any) -> str:
    """Text for the inside of a double-quoted CSS string in a <style> element: every character
    but letters, digits and `.,:;_-/()` and space is a CSS escape, so none needs HTML escaping."""
    return "".join(ch if ch.isalnum() or ch in " .,:;_-/()" else f"\\{ord(ch):x} " for ch in str(value))


def _environment(templates: Path | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates or default_templates_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["n"] = lambda v: f"{int(v):,}"
    env.filters["css_string"] = css_string
    env.filters["truncate_pdf"] = _truncate_pdf
    return env


def _html_chunks(content: BundleContent, prefix: str, templates: Path | None) -> Iterator[str]:
    view = build_view(content, prefix=prefix)
    return _environment(templates).get_template("report.html.j2").generate(view, v=view)


def render_html(content: BundleContent, *, prefix: str = "", templates: Path | None = None) -> str:
    """`report.html`: evidence links are `prefix` + the path inside the bundle."""
    return "".join(_html_chunks(content, prefix, templates))


def write_html(content: BundleContent, path: Path, *, prefix: str = "", templates: Path | None = None) -> None:
    """`report.html` written as the template renders it (the same bytes as `render_html`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(_html_chunks(content, prefix, templates))


def render_pdf(content: BundleContent, *, templates: Path | None = None) -> bytes:
    """`report.pdf` from the print variant of the same template, fetching nothing."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class _NoFetch(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise FatalURLFetchingError(f"the report must load nothing, yet it referenced {url}")

    view = build_view(content, pdf=True)
    html = _environment(templates).get_template("report_pdf.html.j2").render(view, v=view)
    pdf: bytes = HTML(string=html, url_fetcher=_NoFetch()).write_pdf()
    return pdf


def _write_csv(fh: TextIO, header: list[str], rows: Iterable[list[Any]]) -> None:
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    buf = io.StringIO()
    _write_csv(buf, header, rows)
    return buf.getvalue()


FINDINGS_CSV_HEADER = ["control_id", "check_id", "status", "source", "resource_id", "resource_type", "account",
                       "region", "observed", "expected", "message", "evidence", "waiver"]


def _finding_rows(findings: Iterable[Finding]) -> Iterator[list[Any]]:
    for f in findings:
        yield [f.control_id, f.check_id, f.status.value, f.source, f.resource_id, f.resource_type, f.account,
               f.region, f.observed, f.expected, f.message, "; ".join(f.evidence), f.waiver or ""]


def findings_csv(findings: Iterable[Finding]) -> str:
    return _csv(FINDINGS_CSV_HEADER, _finding_rows(findings))


def write_findings_csv(findings: Iterable[Finding], path: Path) -> None:
    """`findings.csv` written row by row (UTF-8 with a BOM, so spreadsheets read it as UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        _write_csv(fh, FINDINGS_CSV_HEADER, _finding_rows(findings))


def controls_csv(verdicts: Iterable[ControlVerdict], judging: Judging) -> str:
    header = ["control_id", "title", "verdict", "criteria", *(s.value for s in STATUS_ORDER), "checks",
              "manual_evidence", "section", "statement"]
    catalog = judging.catalog.controls
    return _csv(header, (
        [v.control_id, v.title, v.verdict.value, "; ".join(v.criteria),
         *(v.counts.get(s.value, 0) for s in STATUS_ORDER), "; ".join(v.checks), "; ".join(v.manual),
         catalog[v.control_id].section if v.control_id in catalog else "", v.statement]
        for v in verdicts
    ))


def _write(out: Path, rel: str, data: bytes) -> Path:
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def write_reports(
    content: BundleContent, out: Path, formats: Collection[str] = FORMATS, *, templates: Path | None = None
) -> list[Path]:
    """Render `formats` into `out` (the bundle itself, or another folder whose links point back
    into the bundle); returns the files written. CSV is written with a UTF-8 BOM so spreadsheets
    read it as UTF-8."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ReportError(f"unknown report format {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    written: list[Path] = []
    prefix = _prefix(content.root, out)
    if "html" in formats:
        write_html(content, out / "report.html", prefix=prefix, templates=templates)
        written.append(out / "report.html")
    if "pdf" in formats:
        written.append(_write(out, "report.pdf", render_pdf(content, templates=templates)))
    if "csv" in formats:
        write_findings_csv(content.iter_findings(), out / "findings.csv")
        written.append(out / "findings.csv")
        written.append(
            _write(out, "controls.csv", controls_csv(content.verdicts, content.judging).encode("utf-8-sig"))
        )
    if "oscal" in formats:
        from evidence.oscal import write_assessment_results

        # streamed: a large bundle's document is never held in memory
        write_assessment_results(content, out / "oscal/assessment-results.json", _prefix(content.root, out / "oscal"))
        written.append(out / "oscal/assessment-results.json")
    return written


def _prefix(bundle: Path, out: Path) -> str:
    """How a file in `out` refers to the bundle's files: '' inside it, else a relative path."""
    rel = Path(os.path.relpath(bundle.resolve(), out.resolve())).as_posix()
    return "" if rel == "." else quote(rel) + "/"


@dataclass
class ReportHook:
    """The runner hook that writes `checks.json` and the reports into a bundle before it is
    sealed. It must be the last hook, so the content digest on the cover covers every file.

    A report that cannot be rendered never costs the run its evidence: the failure is logged,
    recorded in the manifest (`report_errors`) and counted like a plugin error (exit code 3),
    and the bundle is sealed without that report; `evidence report` can render it later."""

    checks: Mapping[str, Check]
    formats: Collection[str] = FORMATS

    def __call__(self, result: RunResult, folder: Path) -> None:
        (folder / CHECKS_FILE).write_text(checks_json(self.checks), encoding="utf-8")
        errors: list[str] = []
        try:
            content = load_bundle(folder, metadata=result.manifest)
            for fmt in [f for f in FORMATS if f in self.formats]:
                try:
                    write_reports(content, folder, [fmt])
                except Exception as exc:  # recorded in the manifest and the exit code, never silent
                    log.exception("the %s report could not be rendered", fmt)
                    errors.append(f"{fmt}: {type(exc).__name__}: {exc}")
        except ReportError as exc:
            errors.append(f"all: {exc}")
        if errors:
            result.manifest["report_errors"] = errors
            result.plugin_errors.extend(
                f"report {e} (the evidence is in the bundle; render it again with evidence report BUNDLE --out DIR)"
                for e in errors
            )


def regenerate_in_place(bundle: Path, formats: Collection[str] = FORMATS) -> list[Path]:
    """Re-render reports inside a sealed bundle and re-seal its manifest.

    Only for an intact, unsigned bundle: re-sealing an altered bundle would launder the
    alteration, and re-sealing a signed one would invalidate a signature this tool cannot
    renew. The run metadata is kept as it is; with the same tool version the reports, and so
    the manifest, come out byte-identical.
    """
    problems = verify(bundle)
    if problems:
        raise ReportError(f"{bundle}: not re-sealed, the bundle does not verify: " + "; ".join(problems[:5]))
    if (bundle / SIGNATURE).is_file():
        raise ReportError(
            f"{bundle}: the bundle is signed; re-sealing would invalidate {SIGNATURE}. "
            "Write the reports elsewhere with --out DIR"
        )
    content = load_bundle(bundle)
    written = write_reports(content, bundle, formats)
    meta = dict(content.meta)
    # a report the run could not render and that is now rendered is no longer an error
    left = [e for e in meta.pop("report_errors", []) if e.split(":", 1)[0] not in formats]
    if left:
        meta["report_errors"] = left
    PartialBundle(tmp=bundle, final=bundle).seal(meta)
    return written
