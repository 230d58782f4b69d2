"""`evidence diff`: what changed from one run to another, down to the evidence fields."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evidence.exit_codes import exit_code_for
from evidence.history.drift import DriftError, VerdictChange, verdict_changes
from evidence.history.snapshot import Snapshot
from evidence.judge import Judging
from evidence.models import ControlVerdict, Finding


def snapshot_from_bundle(bundle: Path) -> Snapshot:
    """A run read from its bundle (manifest, findings, controls, judging input)."""

    def load(name: str) -> Any:
        path = bundle / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DriftError(f"{bundle}: not a complete bundle (no {name})") from None
        except (OSError, ValueError) as exc:
            raise DriftError(f"{path}: unreadable ({exc})") from None

    manifest = load("manifest.json")
    verdicts = [ControlVerdict.model_validate(v) for v in load("controls.json")]
    findings = [Finding.model_validate(f) for f in load("findings.json")]
    judging = Judging.model_validate(load("judging.json"))
    return Snapshot.from_parts(
        manifest, verdicts, findings, bundle=str(bundle.resolve()), exit_code=exit_code_for(verdicts),
        waivers=judging.waivers, attachments=judging.attachments,
    )


@dataclass(frozen=True)
class FindingDelta:
    key: str
    before: Finding
    after: Finding
    fields: list[str]


@dataclass
class RunDiff:
    a: Snapshot
    b: Snapshot
    verdicts: list[VerdictChange]
    new: list[Finding]
    resolved: list[Finding]
    changed: list[FindingDelta]


_COMPARED = ("status", "observed", "expected", "message", "evidence", "waiver", "resource_type", "source")


def diff_runs(a: Snapshot, b: Snapshot) -> RunDiff:
    """Controls whose verdict changed, and findings new, resolved and changed, from `a` to `b`."""
    before = a.keyed
    after = b.keyed
    changes = [c for c in verdict_changes(a, b)]
    changes += [VerdictChange(cid, v.title, v.verdict.value, None) for cid, v in sorted(a.verdicts.items())
                if cid not in b.verdicts]
    changed: list[FindingDelta] = []
    for key in sorted(set(before) & set(after)):
        fa, fb = before[key], after[key]
        fields = [name for name in _COMPARED if getattr(fa, name) != getattr(fb, name)]
        if fields:
            changed.append(FindingDelta(key, fa, fb, fields))
    return RunDiff(
        a, b, sorted(changes, key=lambda c: c.control_id),
        [after[k] for k in sorted(set(after) - set(before))],
        [before[k] for k in sorted(set(before) - set(after))],
        changed,
    )


_ABSENT = object()


def _mentions(value: Any, needle: str) -> bool:
    return value is not _ABSENT and needle in json.dumps(value, default=str, ensure_ascii=False)


def json_diff(a: Any, b: Any, path: str = "$", focus: str | None = None) -> list[tuple[str, Any, Any]]:
    """Leaf values that differ between two JSON documents, as (JSON path, old, new); a side
    where the value does not exist is `ABSENT`. With `focus` (a resource id), a list whose
    elements mention it is compared on those elements only (a listing of every user or
    listener then shows what changed for that one)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[str, Any, Any]] = []
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{k}" if str(k).isidentifier() else f"{path}[{json.dumps(str(k))}]"
            out += json_diff(a.get(k, _ABSENT), b.get(k, _ABSENT), sub, focus)
        return out
    if isinstance(a, list) and isinstance(b, list):
        pairs = [
            (i, a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT) for i in range(max(len(a), len(b)))
        ]
        if focus:
            mentioned = [p for p in pairs if _mentions(p[1], focus) or _mentions(p[2], focus)]
            pairs = mentioned or pairs
        out = []
        for i, x, y in pairs:
            out += json_diff(x, y, f"{path}[{i}]", focus)
        return out
    if a is _ABSENT and b is _ABSENT:
        return []
    if type(a) is not type(b) or a != b:
        return [(path, a, b)]
    return []


ABSENT = _ABSENT

#: record fields that differ on every run without saying anything about the estate
_VOLATILE = ("collected_at", "sha256")


@dataclass(frozen=True)
class EvidenceChange:
    path: str
    status: Literal["changed", "identical", "only_before", "only_after", "missing"]
    fields: list[tuple[str, Any, Any]]


def evidence_changes(
    bundle_a: Path | None, bundle_b: Path | None, paths: Iterable[str], focus: str | None = None
) -> list[EvidenceChange]:
    """For each evidence path, the JSON paths whose values differ between the two bundles
    (ignoring `collected_at` and the response digest), focused on resource `focus`."""
    out: list[EvidenceChange] = []
    for rel in sorted(set(paths)):
        docs: list[Any] = []
        for bundle in (bundle_a, bundle_b):
            p = bundle / rel if bundle is not None else None
            if p is None or not p.is_file():
                docs.append(_ABSENT)
                continue
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                docs.append(_ABSENT)
                continue
            if isinstance(doc, dict):
                doc = {k: v for k, v in doc.items() if k not in _VOLATILE}
            docs.append(doc)
        old, new = docs
        if old is _ABSENT and new is _ABSENT:
            out.append(EvidenceChange(rel, "missing", []))
        elif old is _ABSENT:
            out.append(EvidenceChange(rel, "only_after", []))
        elif new is _ABSENT:
            out.append(EvidenceChange(rel, "only_before", []))
        else:
            fields = json_diff(old, new, focus=focus)
            out.append(EvidenceChange(rel, "changed" if fields else "identical", fields))
    return out
