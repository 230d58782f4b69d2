"""Time and peak memory of the commands that read a bundle, on a bundle whose findings.json is
large (issue 16: a 300 MB findings.json once took `report` 8 minutes and 719 MB, and `diff` 12
minutes and 1.6 GB).

    .venv/bin/python bench/large_bundle.py [--mb 300] [--work /tmp/evidence-large]

It runs `evidence demo` once, copies its bundle with findings.json grown to about `--mb` MB
(the demo's findings repeated, each copy with its own resource ids), reseals the copy's
manifest, then times `verify`, `report` (each format on its own) and `diff` of the copy with
itself and with a copy half its size, each in a process of its own (wall and peak RSS from GNU
time, Debian's `time` package).
Not used by the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EVIDENCE = str(Path(sys.executable).with_name("evidence"))


def grow(source: Path, target: Path, megabytes: int) -> int:
    """`target`: `source` with findings.json grown to about `megabytes` MB, resealed, unsigned."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    (target / "manifest.sig").unlink(missing_ok=True)
    findings = json.loads((source / "findings.json").read_text(encoding="utf-8"))
    written, copy = 0, 0
    with (target / "findings.json").open("w", encoding="utf-8") as fh:
        fh.write("[\n")
        while written < megabytes * 1024 * 1024:
            for row in findings:
                text = ("" if written == 0 else ",\n") + json.dumps(
                    dict(row, resource_id=f"{row['resource_id']}#{copy}"), indent=2, sort_keys=True)
                fh.write(text)
                written += len(text)
            copy += 1
        fh.write("\n]\n")
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    for rel in list(manifest["files"]):
        path = target / rel
        if not path.is_file():
            del manifest["files"][rel]
            continue
        manifest["files"][rel] = {**manifest["files"][rel], "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                  "size": path.stat().st_size}
    raw = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (target / "manifest.json").write_bytes(raw)
    (target / "manifest.sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n")
    return copy * len(findings)


def measure(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of `evidence ARGS`, launched by GNU time: a
    child forked from this process would start with this process's memory in its peak (the
    PDF's typesetter, a grandchild, is counted by time's %M only when it is the largest)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        done = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%e %M", EVIDENCE, *args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall, peak_kb = report.read().split()[-2:]
    return float(wall), int(peak_kb) / 1024, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--work", type=Path, default=Path("/tmp/evidence-large"))
    opts = parser.parse_args()
    work: Path = opts.work
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([EVIDENCE, "demo", "--out", str(work / "demo")], check=False, capture_output=True)
    source = next((work / "demo").glob("*/*/manifest.json")).parent
    big, half = work / "big", work / "half"
    print(f"findings in the large copy: {grow(source, big, opts.mb):,} "
          f"({(big / 'findings.json').stat().st_size / 1e6:.0f} MB)")
    grow(source, half, opts.mb // 2)
    print(f"{'command':<34} {'wall s':>8} {'peak MB':>8} {'exit':>5}")
    runs = [["verify", str(big)]]
    runs += [["report", str(big), "--format", fmt, "--out", str(work / f"r-{fmt}")]
             for fmt in ("csv", "html", "pdf", "oscal", "sarif", "junit")]
    runs += [["diff", str(big), str(big)], ["diff", str(half), str(big)]]
    for args in runs:
        wall, peak, code = measure(args)
        label = " ".join(a if not a.startswith(str(work)) else Path(a).name for a in args[:4])
        print(f"{label:<34} {wall:>8.1f} {peak:>8.0f} {code:>5}")


if __name__ == "__main__":
    main()
