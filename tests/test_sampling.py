"""`evidence.sampling`: samples that depend only on the seed, the size, the key and the set of
rows, checked against an independent re-implementation of "sort by sha256(seed \\n key)"."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import random
from pathlib import Path

import pytest

from evidence import sampling
from evidence.sampling import ALGORITHM, SampleError, count_population, default_size, sample_csv

CHANGES = (
    "id,title,merged_by\nPR-1,Fix login,alice\nPR-2,Bump deps,bob\nPR-3,New API,carol\nPR-4,Docs,dave\n"
    "PR-5,Hotfix,erin\n"
)
SEED = "2026-01-15"


def reference(text: str, seed: str, size: int, key: str | None) -> list[tuple[str, list[str]]]:
    """The algorithm as an auditor would re-implement it from the README, without the module."""
    rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n"), newline="")))
    header, body = rows[0], [r for r in rows[1:] if r]
    kept: dict[str, list[str]] = {}
    for row in body:
        k = "\x1f".join(row) if key is None else row[header.index(key)]
        if k not in kept or "\x1f".join(row) < "\x1f".join(kept[k]):
            kept[k] = row
    ranked = sorted(kept, key=lambda k: (hashlib.sha256((seed + "\n" + k).encode("utf-8")).hexdigest(), k))
    return [(hashlib.sha256((seed + "\n" + k).encode("utf-8")).hexdigest(), kept[k]) for k in ranked[:size]]


def parse(sample_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(sample_text, newline="")))


def shuffled(text: str, seed: int) -> str:
    header, *rows = text.splitlines(keepends=True)
    random.Random(seed).shuffle(rows)
    return header + "".join(rows)


def test_known_vector_rank_order_and_columns() -> None:
    drawn = sample_csv(CHANGES, size=5, seed=SEED, key="id")
    out = parse(drawn.csv)
    assert out[0] == ["sample_rank", "sample_hash", "sample_algorithm", "sample_seed", "id", "title", "merged_by"]
    # hard-coded: sha256("2026-01-15\nPR-3") is the smallest of the five
    assert [r[4] for r in out[1:]] == ["PR-3", "PR-2", "PR-5", "PR-1", "PR-4"]
    assert out[1][:4] == ["1", "0e8e1052553d717b51694920e6e61be949b641981121f2a714583b05be794c99", ALGORITHM, SEED]
    assert out[1][4:] == ["PR-3", "New API", "carol"]
    assert [(r[1], r[4:]) for r in out[1:]] == [(h, row) for h, row in reference(CHANGES, SEED, 5, "id")]
    assert [r[0] for r in out[1:]] == ["1", "2", "3", "4", "5"]
    assert all(r[2] == ALGORITHM and r[3] == SEED for r in out[1:])


@pytest.mark.parametrize("key", [None, "id", "merged_by"])
@pytest.mark.parametrize("size", [0, 1, 3, 5])
def test_agrees_with_the_reimplementation(key: str | None, size: int) -> None:
    out = parse(sample_csv(CHANGES, size=size, seed="dice 3-6-1-4", key=key).csv)
    assert [(r[1], r[4:]) for r in out[1:]] == reference(CHANGES, "dice 3-6-1-4", size, key)


def population(n: int) -> str:
    lines = ["ticket,opened,owner"] + [f"T-{i:04d},2026-0{1 + i % 9}-1{i % 10},user{i % 7}" for i in range(n)]
    return "\n".join(lines) + "\n"


def test_the_order_of_the_rows_line_ends_and_bom_do_not_matter() -> None:
    text = population(200)
    expected = sample_csv(text, size=10, seed="2026-10-01", key=None).csv
    for variant in (shuffled(text, 1), shuffled(text, 2), text.replace("\n", "\r\n"), "\ufeff" + text):
        assert sample_csv(variant, size=10, seed="2026-10-01", key=None).csv == expected
    assert sample_csv(shuffled(text, 3), size=10, seed="2026-10-01", key="ticket").csv == \
        sample_csv(text, size=10, seed="2026-10-01", key="ticket").csv


def test_a_different_seed_gives_a_different_sample() -> None:
    text = population(200)
    a = [r[4] for r in parse(sample_csv(text, size=10, seed="2026-10-01", key="ticket").csv)[1:]]
    b = [r[4] for r in parse(sample_csv(text, size=10, seed="2026-10-02", key="ticket").csv)[1:]]
    assert len(a) == len(b) == 10
    assert set(a) != set(b)


def test_a_size_beyond_the_population_is_the_whole_population_in_rank_order() -> None:
    drawn = sample_csv(CHANGES, size=50, seed=SEED, key="id")
    assert [r[4] for r in parse(drawn.csv)[1:]] == ["PR-3", "PR-2", "PR-5", "PR-1", "PR-4"]
    assert drawn.meta["size"] == 5 and drawn.meta["requested_size"] == 50 and drawn.meta["population"] == 5


def test_size_zero_and_an_empty_population_give_the_header_alone() -> None:
    assert sample_csv(CHANGES, size=0, seed=SEED, key=None).csv == \
        "sample_rank,sample_hash,sample_algorithm,sample_seed,id,title,merged_by\n"
    assert sample_csv("id,title\n", size=3, seed=SEED, key="id").csv == \
        "sample_rank,sample_hash,sample_algorithm,sample_seed,id,title\n"


def test_meta_describes_the_draw() -> None:
    crlf = CHANGES.replace("\n", "\r\n")
    drawn = sample_csv(crlf, size=2, seed=SEED, key=None)
    assert drawn.meta == {
        "algorithm": "sha256-rank/1",
        "seed": SEED,
        "size": 2,
        "requested_size": 2,
        "population": 5,
        "rows": 5,
        "key": "(whole row)",
        "population_sha256": hashlib.sha256(CHANGES.encode("utf-8")).hexdigest(),
    }


def test_duplicate_keys_keep_the_row_with_the_smallest_canonical_text_whatever_the_order() -> None:
    text = "user,left_on\nbob,2026-03-01\nalice,2026-02-01\nbob,2026-01-15\nalice,2026-02-01\n"
    for variant in (text, shuffled(text, 1), shuffled(text, 5)):
        drawn = sample_csv(variant, size=10, seed=SEED, key="user")
        rows = {r[4]: r[5] for r in parse(drawn.csv)[1:]}
        assert rows == {"alice": "2026-02-01", "bob": "2026-01-15"}
        assert drawn.meta["population"] == 2 and drawn.meta["rows"] == 4
        assert count_population(variant, key="user") == 2
    # without a key, only identical rows are duplicates
    assert count_population(text, key=None) == 3


def test_cells_keep_their_exact_text() -> None:
    text = 'id,note\n1,"  spaced , comma "\n2,"quote "" inside"\n3,"two\nlines"\n4,café ünïcode 🙂\n'
    drawn = sample_csv(text, size=10, seed=SEED, key="id")
    notes = {r[4]: r[5] for r in parse(drawn.csv)[1:]}
    assert notes == {"1": "  spaced , comma ", "2": 'quote " inside', "3": "two\nlines", "4": "café ünïcode 🙂"}
    assert "\r" not in drawn.csv and not drawn.csv.startswith("\ufeff")


@pytest.mark.parametrize(
    ("text", "size", "seed", "key", "fragment"),
    [
        ("", 2, SEED, None, "empty"),
        ("\n \n", 2, SEED, None, "empty"),
        (",,\n1,2,3\n", 2, SEED, None, "line 1: no header"),
        (CHANGES, 2, SEED, "ticket", "--key 'ticket' is not a column"),
        ("id,id\n1,2\n", 2, SEED, "id", "names 2 columns"),
        (CHANGES, -1, SEED, None, "--size -1 is negative"),
        (CHANGES, 2, "", None, "--seed is empty"),
        ('id,note\n1,"a\nb"\n2,x,extra\n', 2, SEED, None, "line 4: 3 cells where the header has 2"),
        ('id,note\n1,"open"x\n', 2, SEED, None, "line 2: not valid CSV"),
        ("id,note\n1,a\x1fb\n", 2, SEED, None, "line 2: a cell contains the control character U+001F"),
    ],
)
def test_mistakes_are_one_line_sample_errors(text: str, size: int, seed: str, key: str | None, fragment: str) -> None:
    with pytest.raises(SampleError) as caught:
        sample_csv(text, size=size, seed=seed, key=key)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("frequency", "population", "size"),
    [
        ("annual", 0, 0), ("annual", 1, 1), ("annual", 5, 1),
        ("quarterly", 1, 1), ("quarterly", 4, 2),
        ("monthly", 1, 1), ("monthly", 12, 2), ("monthly", 40, 2),
        ("weekly", 3, 3), ("weekly", 52, 5), ("weekly", 53, 6), ("weekly", 104, 10), ("weekly", 500, 15),
        ("daily", 10, 10), ("daily", 250, 20), ("daily", 251, 25), ("daily", 365, 25), ("daily", 438, 30),
        ("daily", 584, 40), ("daily", 5000, 40),
        ("per-event", 0, 0), ("per-event", 7, 7), ("per-event", 25, 25), ("per-event", 26, 25),
        ("per-event", 100, 30), ("per-event", 249, 39), ("per-event", 250, 40), ("per-event", 100_000, 40),
    ],
)
def test_default_sizes(frequency: str, population: int, size: int) -> None:
    assert default_size(frequency, population) == size


def test_default_size_never_exceeds_the_population_and_rejects_unknown_frequencies() -> None:
    for frequency in sampling.FREQUENCIES:
        for n in range(0, 700):
            assert 0 <= default_size(frequency, n) <= n
    with pytest.raises(SampleError, match="unknown frequency 'hourly'"):
        default_size("hourly", 10)


def test_no_random_state_and_no_layer_above() -> None:
    tree = ast.parse(Path(sampling.__file__).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported == {"__future__", "csv", "hashlib", "io", "dataclasses"}
    random.seed(1)
    first = sample_csv(population(50), size=5, seed="s", key=None).csv
    random.seed(2)
    assert sample_csv(population(50), size=5, seed="s", key=None).csv == first
