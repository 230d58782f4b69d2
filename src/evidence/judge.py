"""Judging: evidence records + the resolved catalog -> findings -> control verdicts.

This is the pure half of the pipeline. It reads nothing but the evidence index and the
`Judging` input stored in every bundle (`judging.json`), so `evidence evaluate` re-judges a
bundle offline and reproduces `findings.json` byte for byte.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import Any

import ijson

from evidence.catalog import Control, ManualRequirement
from evidence.check_run import ScopeNames, run_check, scope_of
from evidence.checks.base import Check
from evidence.judging import Attachment, Judging, Waiver
from evidence.models import ControlVerdict, Finding, Status, verdict_from_counts
from evidence.records import EvidenceIndex

log = logging.getLogger(__name__)


def _manual_findings(control: Control, req: ManualRequirement, judging: Judging) -> list[Finding]:
    """The finding for one manual-evidence requirement: pass while its latest attachment is valid."""
    attached = [a for a in judging.attachments if a.control_id == control.id and a.requirement == req.id]
    base: dict[str, Any] = {
        "control_id": control.id,
        "check_id": f"manual.{req.id}",
        "source": "manual",
        "resource_id": req.id,
        "resource_type": "manual_evidence",
        "expected": f"{req.description}, valid (kept {req.valid_for_days} days)",
    }
    if not attached:
        return [Finding(
            status=Status.MANUAL,
            observed="not attached",
            message=f"{req.description} is needed: evidence attach {control.id} FILE --valid-until DATE",
            **base,
        )]
    latest = max(attached, key=lambda a: a.valid_until)
    until = latest.valid_until
    if until >= judging.reference_time.date():
        status, observed = Status.PASS, f"attached, valid until {until.isoformat()}"
        message = f"{req.description} attached ({latest.path}), valid until {until}."
    else:
        status, observed = Status.MANUAL, f"expired on {until.isoformat()}"
        message = f"{req.description} expired on {until}; attach a current one."
    return [Finding(status=status, observed=observed, message=message, evidence=[latest.path], **base)]


def _apply_waivers(findings: Iterable[Finding], judging: Judging) -> list[Finding]:
    today = judging.reference_time.date()
    out: list[Finding] = []
    for f in findings:
        if f.status is Status.FAIL:
            for w in judging.waivers:
                if (
                    w.control_id == f.control_id
                    and (w.check_id is None or w.check_id == f.check_id)
                    and fnmatchcase(f.resource_id, w.resource)
                    and w.expires >= today
                ):
                    f = f.model_copy(update={"status": Status.WAIVED, "waiver": w.id})
                    break
        out.append(f)
    return out


def scope_failures(
    judging: Judging, checks: Mapping[str, Check], index: EvidenceIndex, scope_names: ScopeNames | None = None
) -> dict[str, list[Finding]]:
    """Failed calls no check reads (listing accounts or regions, identifying the caller…), by source.

    Such a failure shrinks what was looked at without any check noticing, so it is an error of
    every control the source evidences (`<source>.collection`), never silence.
    """
    required: dict[str, set[str]] = {}
    for control in judging.catalog.controls.values():
        for ref in control.checks:
            chk = checks.get(ref.id)
            if chk is not None and chk.source in judging.sources:
                required.setdefault(chk.source, set()).update(chk.requires)
    out: dict[str, list[Finding]] = {}
    seen: set[tuple[str, str, str]] = set()
    for entry in index.entries:
        if entry.ok or entry.source not in required or entry.key in required[entry.source]:
            continue
        ev = index.load(entry)
        err = ev.record.error
        assert err is not None
        resource = scope_of(entry, ev.record.subject, scope_names)
        if (entry.source, resource, entry.key) in seen:
            continue
        seen.add((entry.source, resource, entry.key))
        remedy = f" Remedy: {err.remedy}" if err.remedy else ""
        out.setdefault(entry.source, []).append(
            Finding(
                control_id="",
                check_id=f"{entry.source}.collection",
                status=Status.ERROR,
                source=entry.source,
                resource_id=resource,
                account=entry.account,
                region=entry.region,
                observed=err.code,
                expected=f"{entry.key} readable",
                message=(
                    f"Could not collect {entry.key}, so the {entry.source} scope may be incomplete: "
                    f"{err.code}: {err.message}.{remedy}"
                ),
                evidence=[ev.path],
            )
        )
    return out


def _unavailable(control_id: str, check_id: str, why: str) -> list[Finding]:
    return [
        Finding(
            control_id=control_id,
            check_id=check_id,
            status=Status.ERROR,
            source="",
            resource_id=check_id,
            message=f"check {check_id} is not available: {why}",
            observed="check unavailable",
            expected="check installed",
        )
    ]


def _unassessed(control_id: str) -> list[Finding]:
    # the catalog names no evidence yet: never a pass, a person has to look
    return [
        Finding(
            control_id=control_id,
            check_id="manual.unassessed",
            status=Status.MANUAL,
            source="manual",
            resource_id=control_id,
            message="No automated check evidences this control yet; it needs a person's review.",
            observed="no evidence",
            expected="evidence for the statement",
        )
    ]


def _for_control(findings: list[Finding], control_id: str) -> list[Finding]:
    return [f.model_copy(update={"control_id": control_id}) for f in findings]


#: one group of a control's findings: produced on demand, all with one check id
_Group = Callable[[], list[Finding]]


class Judge:
    """Judges control by control, check by check, yielding findings in `findings.json` order.

    Only one check's findings are held at a time (sorted, then handed on), so judging an estate
    of any size needs memory for its largest check, not for every finding; each control's
    verdict is appended to `verdicts` once its last finding has been yielded.
    """

    def __init__(
        self, judging: Judging, checks: Mapping[str, Check], index: EvidenceIndex, scope_names: ScopeNames | None = None
    ) -> None:
        self.judging = judging
        self.checks = checks
        self.index = index
        self.scope_names = scope_names or {}
        self.verdicts: list[ControlVerdict] = []

    def findings(self) -> Iterator[Finding]:
        """Every finding for the sources in `judging.sources`, sorted by `Finding.sort_key`."""
        judging = self.judging
        scope_errors = scope_failures(judging, self.checks, self.index, self.scope_names)
        for control in sorted(judging.catalog.controls.values(), key=lambda c: c.id):
            groups = self._groups(control, scope_errors)
            if groups is None:
                continue
            counts = {s.value: 0 for s in Status}
            # the sort key starts (control, check): sorting each check's group and taking the
            # groups in check order is the order of sorting the whole control
            for check_id in sorted(groups):
                these: list[Finding] = []
                for make in groups[check_id]:
                    these.extend(make())
                for f in sorted(_apply_waivers(these, judging), key=Finding.sort_key):
                    counts[f.status.value] += 1
                    yield f
            self.verdicts.append(
                ControlVerdict(
                    control_id=control.id,
                    title=control.title,
                    statement=control.statement,
                    criteria=control.criteria,
                    verdict=verdict_from_counts(counts),
                    counts=counts,
                    checks=[r.id for r in control.checks],
                    manual=[m.id for m in control.manual],
                )
            )

    def _groups(self, control: Control, scope_errors: Mapping[str, list[Finding]]) -> dict[str, list[_Group]] | None:
        """The control's findings as thunks by check id; None when nothing of it is in scope."""
        judging = self.judging
        groups: dict[str, list[_Group]] = {}
        in_scope = False
        sources_here: set[str] = set()

        def add(check_id: str, make: _Group) -> None:
            groups.setdefault(check_id, []).append(make)

        for ref in control.checks:
            chk = self.checks.get(ref.id)
            if chk is None or ref.id in judging.unavailable:
                in_scope = True
                why = judging.unavailable.get(ref.id, "no plugin provides it")
                add(ref.id, partial(_unavailable, control.id, ref.id, why))
                continue
            if chk.source not in judging.sources:
                continue
            in_scope = True
            sources_here.add(chk.source)
            add(chk.id, partial(run_check, chk, control.id, judging, self.index, self.scope_names))
        for source in sorted(sources_here):
            errors = scope_errors.get(source, [])
            if errors:
                add(f"{source}.collection", partial(_for_control, errors, control.id))
        if control.manual and "manual" in judging.sources:
            in_scope = True
            for req in control.manual:
                add(f"manual.{req.id}", partial(_manual_findings, control, req, judging))
        if not control.checks and not control.manual and "manual" in judging.sources:
            # the catalog names no evidence yet: never a pass, a person has to look
            in_scope = True
            add("manual.unassessed", partial(_unassessed, control.id))
        return groups if in_scope else None


def judge(
    judging: Judging, checks: Mapping[str, Check], index: EvidenceIndex
) -> tuple[list[Finding], list[ControlVerdict]]:
    """Every finding and every control verdict for the sources in `judging.sources`, as lists
    (`Judge` streams them instead)."""
    j = Judge(judging, checks, index)
    findings = list(j.findings())
    return findings, j.verdicts


def findings_json_chunks(findings: Iterable[Finding]) -> Iterator[str]:
    """`findings.json` piece by piece (one finding at a time), so writing it never holds the
    whole document; joined, the chunks are exactly `json.dumps(rows, indent=2, sort_keys=True)`."""
    first = True
    for f in findings:
        text = json.dumps(f.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)
        yield ("[\n" if first else ",\n") + "\n".join("  " + line for line in text.split("\n"))
        first = False
    yield "[]\n" if first else "\n]\n"


def read_findings(path: Path) -> Iterator[Finding]:
    """The findings of a `findings.json`, one at a time (the file is parsed as a stream)."""
    with path.open("rb") as fh:
        for row in ijson.items(fh, "item", use_float=True):
            yield Finding.model_validate(row)


def stream_findings(path: Path, fail: Callable[[str], Exception]) -> Iterator[Finding]:
    """`read_findings` of a file that may not be one: each way it can be unreadable (missing,
    not JSON, nested too deeply, a finding that does not fit the schema) is raised as
    `fail("<path>: <why>")`, one line."""
    try:
        yield from read_findings(path)
    except FileNotFoundError:
        raise fail(f"{path}: missing; this is not a complete bundle") from None
    except RecursionError:
        raise fail(f"{path}: unreadable (nested too deeply)") from None
    except (OSError, ValueError, ijson.JSONError) as exc:  # a ValidationError is a ValueError
        raise fail(f"{path}: unreadable ({(str(exc).splitlines() or [type(exc).__name__])[0]})") from None


def findings_json(findings: list[Finding]) -> str:
    """The exact bytes of `findings.json`."""
    return "".join(findings_json_chunks(findings))


def controls_json(verdicts: list[ControlVerdict]) -> str:
    rows = [v.model_dump(mode="json") for v in verdicts]
    return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = [
    "Attachment",
    "Judge",
    "Judging",
    "Waiver",
    "controls_json",
    "findings_json",
    "findings_json_chunks",
    "judge",
    "read_findings",
    "run_check",
    "scope_failures",
    "stream_findings",
]
