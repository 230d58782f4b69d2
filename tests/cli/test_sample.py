"""`evidence sample`: the same seed gives byte-identical samples from separate processes and
from any order of the rows; mistakes are one line and exit 2."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.cli import cli

HEADER = "change,merged_at,author,reviewer"


def write_population(path: Path, n: int = 200, *, order_seed: int | None = None) -> Path:
    rows = [f"PR-{i},2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z,dev{i % 9},lead{i % 4}" for i in range(n)]
    if order_seed is not None:
        random.Random(order_seed).shuffle(rows)
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def run_in_a_new_process(*args: str, hash_seed: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run(
        [sys.executable, "-c", "from evidence.cli import main; main()", "sample", *args],
        capture_output=True, env=env, check=False, timeout=120,
    )


def test_same_seed_is_byte_identical_across_processes_and_row_orders(tmp_path: Path) -> None:
    population = write_population(tmp_path / "changes.csv")
    shuffled = write_population(tmp_path / "shuffled.csv", order_seed=7)
    assert population.read_bytes() != shuffled.read_bytes()
    first = run_in_a_new_process(str(population), "--size", "10", "--seed", "2026-11-03", hash_seed="1")
    second = run_in_a_new_process(str(population), "--size", "10", "--seed", "2026-11-03", hash_seed="2")
    reordered = run_in_a_new_process(str(shuffled), "--size", "10", "--seed", "2026-11-03", hash_seed="3")
    for proc in (first, second, reordered):
        assert proc.returncode == 0, proc.stderr
    assert first.stdout == second.stdout == reordered.stdout
    lines = first.stdout.decode("utf-8").splitlines()
    assert lines[0] == "sample_rank,sample_hash,sample_algorithm,sample_seed," + HEADER
    assert len(lines) == 11
    # independent check of the first row: the smallest sha256("2026-11-03\n" + whole row)
    body = population.read_text(encoding="utf-8").splitlines()[1:]
    digest, best = min((hashlib.sha256(f"2026-11-03\n{row.replace(',', chr(0x1F))}".encode()).hexdigest(), row)
                       for row in body)
    assert lines[1] == f"1,{digest},sha256-rank/1,2026-11-03,{best}"


def test_a_different_seed_gives_a_different_sample(tmp_path: Path) -> None:
    population = write_population(tmp_path / "changes.csv")
    a = CliRunner().invoke(cli, ["sample", str(population), "--size", "10", "--seed", "2026-11-03"])
    b = CliRunner().invoke(cli, ["sample", str(population), "--size", "10", "--seed", "2026-11-04"])
    assert a.exit_code == b.exit_code == 0, a.output + b.output
    picked_a = {line.split(",")[4] for line in a.stdout.splitlines()[1:]}
    picked_b = {line.split(",")[4] for line in b.stdout.splitlines()[1:]}
    assert len(picked_a) == len(picked_b) == 10
    assert picked_a != picked_b


def test_output_file_and_json_sidecar(tmp_path: Path) -> None:
    population = write_population(tmp_path / "changes.csv", n=30)
    out = tmp_path / "sample.csv"
    result = CliRunner().invoke(cli, ["sample", str(population), "--seed", "dice 5-2-6", "--key", "change",
                                      "--frequency", "monthly", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "sampled 2 of 30" in result.stderr
    rows = out.read_bytes().decode("utf-8").split("\n")
    assert rows[-1] == "" and len(rows) == 4 and "\r" not in out.read_text(encoding="utf-8")
    meta = json.loads((tmp_path / "sample.csv.json").read_text(encoding="utf-8"))
    assert meta == {
        "algorithm": "sha256-rank/1", "seed": "dice 5-2-6", "size": 2, "requested_size": 2, "population": 30,
        "rows": 30, "key": "change", "population_sha256": hashlib.sha256(population.read_bytes()).hexdigest(),
        "frequency": "monthly", "population_file": "changes.csv",
    }


def test_a_size_beyond_the_population_gives_all_of_it(tmp_path: Path) -> None:
    population = write_population(tmp_path / "changes.csv", n=12)
    result = CliRunner().invoke(cli, ["sample", str(population), "--size", "100", "--seed", "x"])
    assert result.exit_code == 0, result.output
    assert sorted(line.split(",", 4)[4] for line in result.stdout.splitlines()[1:]) == \
        sorted(population.read_text(encoding="utf-8").splitlines()[1:])


@pytest.mark.parametrize(("frequency", "expected"), [("annual", 1), ("quarterly", 2), ("weekly", 5),
                                                     ("daily", 20), ("per-event", 26)])
def test_frequency_gives_the_default_size(tmp_path: Path, frequency: str, expected: int) -> None:
    population = write_population(tmp_path / "events.csv", n=40)
    result = CliRunner().invoke(cli, ["sample", str(population), "--frequency", frequency, "--seed", "s"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + expected


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        (b"", ["--size", "2"], "empty"),
        (b"id,name\n1,a\n2,b,c\n", ["--size", "2"], "line 3"),
        (b"id,name\n1,a\n", ["--size", "2", "--key", "email"], "--key 'email' is not a column"),
        (b"id,name\n1,a\n", ["--size", "-1"], "negative"),
        (b"id,name\n1,a\n", [], "--size N or --frequency"),
        (b"id,name\n1,a\n", ["--size", "1", "--frequency", "daily"], "--size N or --frequency"),
        (b"id,name\n1,caf\xe9\n", ["--size", "1"], "not UTF-8"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(tmp_path: Path, content: bytes, args: list[str], fragment: str) -> None:
    population = tmp_path / "population.csv"
    population.write_bytes(content)
    out = tmp_path / "sample.csv"
    result = CliRunner().invoke(cli, ["sample", str(population), "--seed", "s", "--output", str(out), *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evidence: error: "), result.stderr
    assert fragment in lines[0]
    assert not out.exists()


def test_a_missing_population_file_is_exit_2_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sample", str(tmp_path / "nope.csv"), "--size", "1", "--seed", "s"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [f"evidence: error: cannot read {tmp_path / 'nope.csv'}: "
                                                  "No such file or directory"]
