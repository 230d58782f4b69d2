"""How often a piped `evidence run` says where it is (issue 17, acceptance 3: a piped run of at
least 60 s prints a progress line at least every 10 s).

    .venv/bin/python bench/progress_cadence.py [--delay 0.6] [--workers 2] [--size 2]

Starts a moto server on 127.0.0.1 (port 0) whose answers to the collector (its `app/evidence`
User-Agent) are held back `--delay` seconds each, so that a small estate (`--size` resources
of each kind, `aws_scale.seed`) takes a minute or more to collect with `--workers` threads;
runs `evidence run --only aws,manual` (reports included) with stderr piped; timestamps each
stderr line as it arrives, and prints the run's wall time, its progress lines and the largest
gap between two of them (and from the start to the first, and from the last to the exit).

Not collected by pytest (no `test_` prefix); nothing but loopback is contacted.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

from aws_scale import REGIONS, ROLE, moto, seed

PROGRESS = re.compile(r"^evidence: (\w+) [\d,]+/[\d,]+ units")


class SlowApp:
    """WSGI middleware: holds back each answer to the collector by `delay` seconds."""

    def __init__(self, app: Callable[..., Any], delay: float) -> None:
        self.app = app
        self.delay = delay

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "app/evidence" in environ.get("HTTP_USER_AGENT", ""):
            time.sleep(self.delay)
        return self.app(environ, start_response)


def timed_run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, list[tuple[float, str]]]:
    """Run `argv` with stderr piped; (wall seconds, exit code, [(seconds since start, line)])."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.monotonic() - started, line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code = proc.wait()
    wall = time.monotonic() - started
    reader.join(timeout=10)
    return wall, code, lines


def cadence(wall: float, lines: list[tuple[float, str]]) -> dict[str, Any]:
    stamps = [t for t, line in lines if PROGRESS.match(line)]
    phases: list[str] = []
    for _, line in lines:
        m = PROGRESS.match(line)
        if m is not None and (not phases or phases[-1] != m[1]):
            phases.append(m[1])
    gaps = [b - a for a, b in pairwise(stamps)]
    return {
        "wall_s": round(wall, 1),
        "progress_lines": len(stamps),
        "phases": phases,
        "largest_gap_s": round(max(gaps), 2) if gaps else None,
        "start_to_first_s": round(stamps[0], 2) if stamps else None,
        "last_to_exit_s": round(wall - stamps[-1], 2) if stamps else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.6, help="seconds each collector request is held back")
    parser.add_argument("--workers", type=int, default=2, help="[aws] max_workers")
    parser.add_argument("--size", type=int, default=2, help="resources of each kind per (account, region)")
    parser.add_argument("--show", action="store_true", help="print every stderr line with its time")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the moto server's request log
    env: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="evidence-cadence-") as scratch, moto(env) as (_, counter):
        work = Path(scratch)
        seeded = seed(args.size, threads=8)
        counter.app = SlowApp(counter.app, args.delay)
        config = work / "evidence.toml"
        config.write_text(f'[aws]\nregions = {json.dumps(REGIONS)}\nassume_roles = ["{ROLE}"]\n'
                          f'max_workers = {args.workers}\n', encoding="utf-8")
        evidence = str(Path(sys.executable).with_name("evidence"))
        wall, code, lines = timed_run(
            [evidence, "run", "--only", "aws,manual", "--config", str(config), "--out", str(work / "out")], env, work)
        if args.show:
            for t, line in lines:
                print(f"{t:7.2f}  {line}")
        summary = {"exit": code, "seed_s": round(seeded, 1), "delay_s": args.delay, "workers": args.workers,
                   "requests": counter.total, **cadence(wall, lines)}
        print(json.dumps(summary))
        if code not in (0, 1, 3, 4):
            raise SystemExit(f"the run failed (exit {code}): {[line for _, line in lines][-5:]}")


if __name__ == "__main__":
    main()
