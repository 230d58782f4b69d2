"""The runs a period draws on: every recorded run whose reference day falls in the period."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from evidence.bundle import MANIFEST, not_a_bundle, verify
from evidence.json_depth import TooDeep, check_depth
from evidence.models import ControlVerdict, Period, parse_time


class PeriodError(Exception):
    """A period bundle cannot be built or checked: one line naming what to fix."""


@dataclass(frozen=True)
class RunRef:
    """One run bundle of the period: its id, its reference day, where it is, and the digest of
    its manifest (which pins every file of it)."""

    run_id: str
    day: date
    #: the run bundle's folder relative to the output folder (posix), e.g. `2026-Q4/<run-id>`
    bundle: str
    manifest_sha256: str

    def path(self, out: Path) -> Path:
        return out / self.bundle

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "day": self.day.isoformat(), "bundle": self.bundle,
                "manifest_sha256": self.manifest_sha256}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRef:
        return cls(str(data["run_id"]), date.fromisoformat(str(data["day"])), str(data["bundle"]),
                   str(data["manifest_sha256"]))


class RunTampered(PeriodError):
    """A run bundle the period would draw on does not verify (exit 1, as `evidence verify`)."""


def checked_run(bundle: Path) -> None:
    """A run bundle is untrusted input: it must be a bundle, verify whole (links, escaping paths,
    duplicates, hashes) and nest its findings within bounds before the period reads it."""
    reason = not_a_bundle(bundle)
    if reason is not None:
        raise PeriodError(reason)
    problems = verify(bundle)
    if problems:
        raise RunTampered(f"{bundle}: does not verify ({problems[0]}); run evidence verify {bundle}")
    try:
        check_depth(bundle / "findings.json")
    except (OSError, TooDeep) as exc:
        raise PeriodError(f"{bundle / 'findings.json'}: unreadable ({exc})") from None


def run_ref(out: Path, bundle: Path) -> RunRef:
    """A run bundle as the period records it (its day is its reference time's UTC date)."""
    try:
        raw = (bundle / MANIFEST).read_bytes()
        manifest = json.loads(raw)
        reference = parse_time(manifest["reference_time"])
        run_id = str(manifest["run_id"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PeriodError(f"{bundle}: not a readable run bundle ({exc})") from None
    if reference is None:
        raise PeriodError(f"{bundle}: its manifest has no reference_time")
    try:
        rel = bundle.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        rel = str(bundle.resolve())
    return RunRef(run_id, reference.date(), rel, hashlib.sha256(raw).hexdigest())


def runs_of_period(out: Path, bundles: list[Path], period: Period) -> list[RunRef]:
    """The run bundles whose reference day is in `period`, by day then run id."""
    refs = [run_ref(out, b) for b in bundles]
    return sorted((r for r in refs if period.start <= r.day <= period.end), key=lambda r: (r.day, r.run_id))


def read_verdicts(bundle: Path) -> list[ControlVerdict]:
    """A run bundle's control verdicts (`controls.json`)."""
    path = bundle / "controls.json"
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [ControlVerdict.model_validate(row) for row in rows]
    except RecursionError:
        raise PeriodError(f"{path}: cannot read the run's verdicts (nested too deeply)") from None
    except (OSError, ValueError, TypeError) as exc:  # a ValidationError is a ValueError
        raise PeriodError(f"{path}: cannot read the run's verdicts ({str(exc).splitlines()[0]})") from None
