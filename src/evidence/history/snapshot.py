"""A run as the history knows it: `RunInfo` (a row of `runs`) and `Snapshot` (everything drift
needs about one run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from evidence.history.database import HistoryError
from evidence.history.keyed import keyed_findings
from evidence.judge import Attachment, Judging, Waiver
from evidence.models import ControlVerdict, Finding


class CompletedRun(Protocol):
    """What the history reads of a finished run (the runner's `RunResult` is one)."""

    run_id: str
    manifest: dict[str, Any]
    verdicts: list[ControlVerdict]
    bundle: Path | None

    @property
    def findings(self) -> list[Finding]: ...

    @property
    def exit_code(self) -> int: ...


def parse_time(text: str) -> datetime:
    """An ISO-8601 timestamp as stored (`...Z`) back to an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class RunInfo:
    """One row of `runs`: a run's identity, period, times and scope."""

    seq: int
    run_id: str
    period: str
    period_start: str
    period_end: str
    started_at: str
    finished_at: str
    reference_time: datetime
    recorded_at: str
    #: the bundle's folder relative to the output folder (posix), e.g. `2026-Q4/<run-id>`
    bundle: str
    sources: tuple[str, ...]
    scope_key: str
    scope: dict[str, Any]
    exit_code: int
    tool_version: str
    config_digest: str
    catalog_digest: str


@dataclass
class Snapshot:
    """Everything drift needs about one run."""

    run: RunInfo
    verdicts: dict[str, ControlVerdict]
    #: the run's findings; a snapshot loaded for drift holds only some statuses, and of those
    #: only the fields drift reads (`History.snapshot(run, statuses)`)
    findings: list[Finding]
    waivers: list[Waiver] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    #: for a partial snapshot: a finding of the run by its key, looked up in the history
    lookup: Callable[[str], Finding | None] | None = field(default=None, repr=False, compare=False)
    _keyed: dict[str, Finding] | None = field(default=None, repr=False, compare=False)
    #: for a snapshot read from a bundle: its findings streamed from `findings.json`, none held
    stream: Callable[[], Iterator[Finding]] | None = field(default=None, repr=False, compare=False)

    def iter_findings(self) -> Iterator[Finding]:
        """Every finding of the run, one at a time (streamed when the snapshot came from a bundle)."""
        return self.stream() if self.stream is not None else iter(self.findings)

    @property
    def keyed(self) -> dict[str, Finding]:
        """`findings` by their key (computed once)."""
        if self._keyed is None:
            self._keyed = keyed_findings(self.findings)
        return self._keyed

    def find(self, key: str) -> Finding | None:
        """The run's finding with this key, whether or not this snapshot holds it (a partial
        snapshot holds the fields drift reads; `whole` has every field)."""
        hit = self.keyed.get(key)
        if hit is None and self.lookup is not None:
            return self.lookup(key)
        return hit

    def whole(self, key: str) -> Finding | None:
        """The run's finding with this key, every field of it."""
        return self.lookup(key) if self.lookup is not None else self.keyed.get(key)

    @classmethod
    def from_parts(
        cls,
        manifest: dict[str, Any],
        verdicts: Sequence[ControlVerdict],
        findings: Sequence[Finding],
        *,
        bundle: str,
        exit_code: int,
        waivers: Sequence[Waiver] = (),
        attachments: Sequence[Attachment] = (),
    ) -> Snapshot:
        """A snapshot from a run's manifest metadata and results (not yet in any history)."""
        scope = manifest.get("scope", {})
        sources = tuple(sorted(scope.get("sources", {})))
        period = manifest.get("period", {})
        run = RunInfo(
            seq=0,
            run_id=manifest["run_id"],
            period=period.get("name", ""),
            period_start=str(period.get("start", "")),
            period_end=str(period.get("end", "")),
            started_at=manifest.get("started_at", ""),
            finished_at=manifest.get("finished_at", ""),
            reference_time=parse_time(manifest["reference_time"]),
            recorded_at="",
            bundle=bundle,
            sources=sources,
            scope_key=",".join(sources),
            scope=scope,
            exit_code=exit_code,
            tool_version=manifest.get("tool", {}).get("version", ""),
            config_digest=manifest.get("config_digest", ""),
            catalog_digest=manifest.get("catalog_digest", ""),
        )
        return cls(run, {v.control_id: v for v in verdicts}, list(findings), list(waivers), list(attachments))

    @classmethod
    def from_result(cls, result: CompletedRun, out: Path, *, with_findings: bool = True) -> Snapshot:
        """The snapshot of a committed run; its waivers and attachments come from the bundle's
        `judging.json`, exactly what was judged. Without `with_findings` it holds none: record
        it with `History.record(snap, result.iter_findings())`, which streams them."""
        if result.bundle is None:
            raise HistoryError(f"run {result.run_id} has no bundle; only complete runs are recorded")
        judging_path = result.bundle / "judging.json"
        try:
            judging = Judging.model_validate_json(judging_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HistoryError(f"{judging_path}: cannot read the run's judging input ({exc})") from None
        try:
            rel = result.bundle.resolve().relative_to(out.resolve()).as_posix()
        except ValueError:
            rel = str(result.bundle.resolve())
        return cls.from_parts(
            result.manifest, result.verdicts, result.findings if with_findings else [], bundle=rel,
            exit_code=result.exit_code,
            waivers=judging.waivers, attachments=judging.attachments,
        )

    def bundle_path(self, out: Path) -> Path:
        p = Path(self.run.bundle)
        return p if p.is_absolute() else out / p
