"""`bench/aws_scale.py --shards N`: the estate collected as 1 shard and as N shards, each
`evidence run --shard K/N` in a process of its own (all at once, then each alone), then merged
with `evidence merge`; per-shard wall, records and peak RSS, the merge's, and the projected wall
on N machines. The estate, the moto server and the peak-RSS wrapper are `aws_scale`'s."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aws_scale import REGIONS, ROLE, CountingApp, moto, seed

#: the script whose `--cli-child PEAK_FILE ARGS...` runs `evidence ARGS...` and writes its peak RSS
SCALE = str(Path(__file__).with_name("aws_scale.py"))


def _start(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], float]:
    # stderr to a file: read one after another, pipes of processes run at once could fill and stall them
    err = (cwd / f"stderr-{time.monotonic_ns()}.txt").open("wb")
    try:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err), time.monotonic()
    finally:
        err.close()


def _finish(proc: subprocess.Popen[bytes], started: float, peak_file: Path) -> dict[str, Any]:
    code = proc.wait()
    if code not in (0, 1, 3, 4):  # a run's verdicts may fail; anything else is the bench's problem
        raise SystemExit(f"exit {code}: see the stderr-*.txt files of {peak_file.parent}")
    return {"wall": time.monotonic() - started, "rss_mb": float(peak_file.read_text()), "exit": code}


def _shard_argv(work: Path, peak: Path, k: int, count: int, config: Path, out: Path) -> list[str]:
    return [sys.executable, SCALE, "--cli-child", str(peak), "run", "--shard", f"{k}/{count}", "--only", "aws",
            "--config", str(config), "--out", str(out)]


def sharded(env: dict[str, str], work: Path, count: int, workers: int, counter: CountingApp) -> dict[str, Any]:
    """The estate collected as `count` shards, each `evidence run --shard K/count` in a process of
    its own, all started at once; then `evidence merge` of them. Per shard: wall, records and peak
    RSS; the merge's wall and peak RSS. Then each shard again, alone (this machine's 2 cores and
    one moto server are shared by shards run at once; separate machines share neither): the wall
    on `count` machines is the slowest shard alone, then the merge."""
    config = work / "evidence.toml"
    config.write_text(
        f'[aws]\nregions = {json.dumps(REGIONS)}\nassume_roles = ["{ROLE}"]\nmax_workers = {workers}\n')
    out = work / f"shards-{count}"
    started = time.monotonic()
    procs = []
    for k in range(count):
        peak = work / f"peak-{count}-{k}"
        procs.append((*_start(_shard_argv(work, peak, k, count, config, out), env, work), peak))
    shards = [_finish(proc, t0, peak) for proc, t0, peak in procs]
    together, requests = time.monotonic() - started, counter.total
    for k in range(count):
        peak = work / f"peak-alone-{count}-{k}"
        shards[k]["alone"] = _finish(*_start(_shard_argv(work, peak, k, count, config, work / "alone"), env, work),
                                     peak)["wall"]
    for k, row in enumerate(shards):
        manifest = next(out.glob(f"shards/*/shard-{k}-of-{count}-*/manifest.json"))
        row["records"] = sum(json.loads(manifest.read_text())["api_calls"].values())
    peak = work / f"peak-merge-{count}"
    proc, t0 = _start([sys.executable, SCALE, "--cli-child", str(peak), "merge", str(out / "shards"),
                       "--config", str(config), "--out", str(work / f"merged-{count}")], env, work)
    merge = _finish(proc, t0, peak)
    return {"count": count, "shards": shards, "together": together, "requests": requests, "merge": merge,
            "on_machines": max(r["alone"] for r in shards) + merge["wall"]}




def sharded_main(sizes: list[int], args: argparse.Namespace) -> None:
    for size in sizes:
        n = size if args.per == "cell" else math.ceil(size / (2 * len(REGIONS)))
        env: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix=f"aws-shards-{n}-") as tmp, moto(env) as (_, counter):
            seed(n, args.seed_threads)
            for count in (1, args.shards):
                counter.total = 0
                row = sharded(env, Path(tmp), count, args.workers, counter)
                print(f"N={size}, {count} shard{'s' if count > 1 else ''} at once on this machine: "
                      f"{row['together']:.1f} s, {row['requests']} requests", flush=True)
                for k, r in enumerate(row["shards"]):
                    print(f"    shard {k}: {r['wall']:.1f} s ({r['alone']:.1f} s alone), {r['records']} records, "
                          f"peak {r['rss_mb']:.0f} MB")
                m = row["merge"]
                print(f"    merge: {m['wall']:.1f} s, peak {m['rss_mb']:.0f} MB (exit {m['exit']})")
                print(f"    on {count} machine{'s' if count > 1 else ''}: {row['on_machines']:.1f} s "
                      "(the slowest shard alone, then the merge)", flush=True)
                if count == 1:
                    single = row["on_machines"]
                else:
                    print(f"    projected speed-up on {count} machines: x{single / row['on_machines']:.2f}")

