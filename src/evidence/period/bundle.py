"""The period bundle: built from the run bundles of a period, sealed and signed like a run
bundle, its manifest pinning the manifest digest of every run bundle it draws on.

    <out>/<period>/period-<id>/
      manifest.json  manifest.sha256  [manifest.sig]
      coverage.csv  coverage.json  deviations.csv  populations/*.csv
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from evidence import __version__
from evidence.bundle import MANIFEST, PERIOD_SCHEMA, PartialBundle, load_manifest, verify
from evidence.catalog import Catalog
from evidence.history import History, HistoryError
from evidence.models import Period, iso, reference_now
from evidence.period.coverage import SCHEDULES, ControlCoverage, compute_coverage, coverage_csv, coverage_json
from evidence.period.deviations import deviations_csv, episodes
from evidence.period.oscal import period_assessment_results
from evidence.period.populations import populations
from evidence.period.report import render_period_html, render_period_pdf
from evidence.period.runs import PeriodError, RunRef, checked_run, runs_of_period
from evidence.reports import ReportError
from evidence.sampling import count_population, default_size, sample_csv

#: the logger report failures are logged to, as in a run (`evidence.reports.phase`)
log = logging.getLogger("evidence.report")

#: the files `evidence evaluate` recomputes from the run bundles and compares byte for byte
RECOMPUTED = ("coverage.json", "deviations.csv")


@dataclass(frozen=True)
class PeriodPlan:
    """What a period bundle is computed from (all of it recorded in its manifest)."""

    period: Period
    start: date
    end: date
    schedule: str
    runs: list[RunRef]
    #: control id -> days a failing resource may take to be fixed
    sla: dict[str, int]

    def meta(self) -> dict[str, Any]:
        return {"period": self.period.model_dump(mode="json"), "range": {"start": self.start.isoformat(),
                "end": self.end.isoformat()}, "schedule": self.schedule, "runs": len(self.runs)}


def plan(out: Path, period: Period, schedule: str, catalog: Catalog) -> PeriodPlan:
    """The runs the history recorded for `period` (their bundles must be in `out`), the days to
    cover (the period's start up to its end or today, whichever is first) and each SLA."""
    if schedule not in SCHEDULES:
        raise PeriodError(f"--schedule: {schedule!r} is not one of {', '.join(SCHEDULES)}")
    try:
        recorded = History.open(out).runs()
    except HistoryError as exc:
        raise PeriodError(str(exc)) from None
    # by the day a run judged, not the period it was labelled with (a year holds its quarters' runs)
    bundles = [out / r.bundle for r in recorded if period.start <= r.reference_time.date() <= period.end]
    outside = [b for b in bundles if not b.resolve().is_relative_to(out.resolve())]
    if outside:
        raise PeriodError(f"{outside[0]}: the history names a run bundle outside {out}; a period reads only its own")
    missing = [b for b in bundles if not (b / MANIFEST).is_file()]
    if missing:
        raise PeriodError(f"{missing[0]}: a run the history recorded has no bundle here; a period needs every run")
    for bundle in bundles:
        checked_run(bundle)
    runs = runs_of_period(out, bundles, period)
    if not runs:
        raise PeriodError(f"no run of {period.name} is recorded in {out}; run `evidence run` first")
    # up to the period's end, or yesterday: today counts once its run exists
    end = min(period.end, max(reference_now().date() - timedelta(days=1), runs[-1].day))
    sla = {cid: c.remediate_within_days for cid, c in sorted(catalog.controls.items())}
    return PeriodPlan(period, period.start, end, schedule, runs, sla)


def compute(out: Path, p: PeriodPlan) -> tuple[list[ControlCoverage], dict[str, str]]:
    """The coverage, and every file of the bundle computed from the run bundles."""
    cov = compute_coverage(out, p.runs, p.start, p.end, p.schedule)
    files = {
        "coverage.csv": coverage_csv(cov),
        "coverage.json": coverage_json(cov, p.meta()),
        "deviations.csv": deviations_csv(episodes(out, p.runs), p.sla, p.end),
    }
    for name, text in populations(out, p.runs, p.period):
        files[f"populations/{name}"] = text
    return cov, files


def samples(files: Mapping[str, str], seed: str) -> dict[str, str]:
    """`samples/<population>.csv` (and its `.json` metadata) for every population, at the
    per-event default size, drawn with `seed` (`evidence.sampling`, sha256-rank/1)."""
    out: dict[str, str] = {}
    for rel, text in sorted(files.items()):
        if rel.startswith("populations/"):
            name = rel.removeprefix("populations/")
            size = default_size("per-event", count_population(text, key=None))
            drawn = sample_csv(text, size=size, seed=seed, key=None)
            out[f"samples/{name}"] = drawn.csv
            out[f"samples/{name.removesuffix('.csv')}.json"] = json.dumps(
                {**drawn.meta, "population_file": rel}, indent=2, sort_keys=True) + "\n"
    return out


def write_period_bundle(out: Path, p: PeriodPlan, *, company: str = "",
                        sign: Callable[[bytes], bytes] | None = None,
                        sample_seed: str | None = None) -> tuple[Path, list[ControlCoverage]]:
    """Compute, write, seal (and sign) the period bundle (with `sample_seed`, a sample of every
    population too); returns its folder and the coverage."""
    cov, files = compute(out, p)
    extra = samples(files, sample_seed) if sample_seed is not None else {}
    period_id = f"period-{reference_now().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    partial = PartialBundle.create(out, p.period.name, period_id)
    try:
        for rel, text in {**files, **extra}.items():
            partial.write_text(rel, text)
        manifest: dict[str, Any] = {
            "schema": PERIOD_SCHEMA, "tool": {"name": "evidence", "version": __version__},
            "period_id": period_id, **p.meta(), "built_at": iso(reference_now()), "company": company,
            "remediate_within_days": p.sla, "runs": [r.as_json() for r in p.runs],
        }
        partial.write_text("report.html", render_period_html(files, manifest))
        try:  # as in a run (reports.phase): a PDF Typst could not make costs the bundle only that file
            (partial.tmp / "report.pdf").write_bytes(render_period_pdf(files, manifest))
        except ReportError as exc:  # recorded in the manifest and logged, never silent
            log.exception("the pdf report could not be rendered; the period bundle is written without it")
            manifest["report_errors"] = [f"pdf: {type(exc).__name__}: {exc}"]
        hashes = {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in files.items()}
        partial.write_text("oscal/assessment-results.json", period_assessment_results(files, manifest, hashes))
        partial.seal(manifest, sign=sign)
        return partial.commit(), cov
    except BaseException:
        partial.discard()
        raise


def _plan_of(bundle: Path) -> tuple[Path, PeriodPlan]:
    manifest = load_manifest(bundle)
    if manifest.get("schema") != PERIOD_SCHEMA:
        raise PeriodError(f"{bundle}: not a period bundle")
    out = bundle.resolve().parents[1]
    try:
        period = Period.model_validate(manifest["period"])
        p = PeriodPlan(period, date.fromisoformat(manifest["range"]["start"]),
                       date.fromisoformat(manifest["range"]["end"]), str(manifest["schedule"]),
                       [RunRef.from_json(r) for r in manifest["runs"]],
                       {str(k): int(v) for k, v in manifest["remediate_within_days"].items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise PeriodError(f"{bundle}/{MANIFEST}: not a valid period manifest ({type(exc).__name__}: {exc})") from None
    for run in p.runs:
        where = (out / run.bundle).resolve()
        if Path(run.bundle).is_absolute() or not where.is_relative_to(out):
            raise PeriodError(f"{bundle}/{MANIFEST}: run bundle {run.bundle!r} is outside the output folder")
    return out, p


def is_period_bundle(bundle: Path) -> bool:
    try:
        return load_manifest(bundle).get("schema") == PERIOD_SCHEMA
    except Exception:  # noqa: BLE001 - anything unreadable is simply not a period bundle here
        return False


def verify_runs(bundle: Path, verify_signature: Any = None) -> list[str]:
    """Every run bundle a period bundle draws on: there, its manifest the one pinned, every file
    intact. One line per problem, naming the run bundle and the file."""
    out, p = _plan_of(bundle)
    problems: list[str] = []
    for run in p.runs:
        path = run.path(out)
        manifest = path / MANIFEST
        if not manifest.is_file():
            problems.append(f"{run.bundle}: the run bundle is missing")
            continue
        if hashlib.sha256(manifest.read_bytes()).hexdigest() != run.manifest_sha256:
            problems.append(f"{run.bundle}/{MANIFEST}: not the manifest the period pinned")
        problems.extend(f"{run.bundle}/{problem}" for problem in verify(path, verify_signature=verify_signature))
    return problems


def recompute_differences(bundle: Path) -> list[str]:
    """`coverage.json` and `deviations.csv` computed again from the run bundles, compared byte
    for byte with the period bundle's: one line per file that differs."""
    out, p = _plan_of(bundle)
    _, files = compute(out, p)
    return [f"{name}: differs from the one computed again from the run bundles" for name in RECOMPUTED
            if (bundle / name).read_text(encoding="utf-8") != files[name]]


__all__ = ["PERIOD_SCHEMA", "PeriodPlan", "is_period_bundle", "plan", "recompute_differences", "verify_runs",
           "write_period_bundle"]
