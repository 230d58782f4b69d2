"""Benchmark: build a period bundle from N daily run bundles (default 30 and 92).

    .venv/bin/python bench/period_scale.py [--runs 30 92] [--findings 2000] [--keep DIR]

Writes N synthetic run bundles of one quarter (the real catalog's controls, `--findings`
findings each, a few resources failing every other week, day 20 without a run),
records them in the history, then times `evidence period` in a child process and reads its
peak memory (maxrss). Building streams every run's findings one at a time, so the peak should
stay flat as N grows; the time grows with N × findings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evidence.bundle import PartialBundle
from evidence.catalog import load_catalog
from evidence.history import History, Snapshot
from evidence.judge import controls_json, findings_json
from evidence.models import ControlVerdict, Finding, Period, Status, iso, verdict_of

PERIOD = Period.parse("2026-Q4")


def run_bundle(out: Path, day: int, findings_per_run: int) -> None:
    catalog = load_catalog()
    controls = [c for c in catalog.controls.values() if c.checks]
    reference = datetime(2026, 10, 1, 6, tzinfo=UTC) + timedelta(days=day)
    run_id = f"{reference.strftime('%Y%m%dT%H%M%SZ')}-{day:06x}"
    findings: list[Finding] = []
    for n in range(findings_per_run):
        control = controls[n % len(controls)]
        check = control.checks[n % len(control.checks)].id
        failing = n % 97 == 0 and (day // 7) % 2 == 0  # some resources fail every other week
        findings.append(Finding(control_id=control.id, check_id=check, status=Status.FAIL if failing else Status.PASS,
                                source=check.split(".")[0], resource_id=f"arn:aws:demo:::resource/{n}",
                                message="synthetic", evidence=[f"evidence/aws/1/r/x/Op-{n % 50:012x}.json"]))
    findings.sort(key=lambda f: f.sort_key())
    verdicts = []
    for control in controls:
        mine = [f for f in findings if f.control_id == control.id]
        counts = {s.value: sum(1 for f in mine if f.status is s) for s in Status}
        verdicts.append(ControlVerdict(control_id=control.id, title=control.title, statement=control.statement,
                                       criteria=control.criteria, verdict=verdict_of(mine), counts=counts,
                                       checks=[r.id for r in control.checks]))
    partial = PartialBundle.create(out, PERIOD.name, run_id)
    partial.write_text("findings.json", findings_json(findings))
    partial.write_text("controls.json", controls_json(verdicts))
    manifest: dict[str, Any] = {"schema": "evidence.manifest/1", "run_id": run_id,
                                "period": PERIOD.model_dump(mode="json"), "started_at": iso(reference),
                                "finished_at": iso(reference), "reference_time": iso(reference),
                                "scope": {"sources": {"aws": "collected"}}}
    partial.seal(manifest)
    bundle = partial.commit()
    rel = bundle.relative_to(out).as_posix()
    History.open(out).record(Snapshot.from_parts(manifest, verdicts, findings, bundle=rel, exit_code=1))


def measure(out: Path) -> dict[str, float]:
    env_now = "2026-12-31T18:00:00Z"
    code = ("import resource, sys, time; from evidence.cli import main; t = time.perf_counter()\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "print('BENCH', time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
            " file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, "period", PERIOD.name, "--out", str(out)],
                          capture_output=True, text=True, env={"EVIDENCE_NOW": env_now, "PATH": "/usr/bin:/bin"},
                          check=False)
    line = next(x for x in proc.stderr.splitlines() if x.startswith("BENCH"))
    _, seconds, maxrss = line.split()
    return {"seconds": round(float(seconds), 2), "peak_mib": round(int(maxrss) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, nargs="+", default=[30, 92])
    parser.add_argument("--findings", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    results = []
    for n in args.runs:
        out = Path(tempfile.mkdtemp(prefix=f"evidence-period-{n}-"))
        started = time.perf_counter()
        for day in range(n):
            if day != 19:  # day 20 has no run
                run_bundle(out, day, args.findings)
        seeded = time.perf_counter() - started
        results.append({"runs": n - (1 if n > 19 else 0), "findings_per_run": args.findings,
                        "seed_seconds": round(seeded, 1), **measure(out)})
        if args.keep:
            shutil.copytree(out, args.keep / f"runs-{n}", dirs_exist_ok=True)
        shutil.rmtree(out)
    print(json.dumps(results, indent=2))



if __name__ == "__main__":
    main()
