"""Audit samples drawn from a population CSV, reproducible in any language (`evidence sample`).

The algorithm, `sha256-rank/1`, uses no random number generator:

1. The text is read as UTF-8 with a leading byte-order mark dropped and every line end
   (CRLF or CR) read as LF, also inside quoted cells. The first row is the header; blank
   lines are skipped; every other row must have as many cells as the header.
2. Each row's *key* is the text of its `key` column, or, without one, the row's cells joined
   with U+001F (the unit separator) in header order: the row's *canonical text*. (No cell may
   contain U+001F, so the canonical text names one row.)
3. Duplicate keys: one row is kept per key, the one whose canonical text is smallest in
   Unicode code point order (the same as UTF-8 byte order), so which row is kept does not
   depend on the order of the rows.
4. Each kept row's hash is `sha256(seed + "\\n" + key)` over UTF-8, as 64 lowercase hex
   digits. The rows are ranked by hash, ties (only possible between equal keys) by key.
5. The sample is the first `size` rows by rank (all of them if there are fewer), in rank
   order. It depends only on the seed, the size, the key column and the set of rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

ALGORITHM = "sha256-rank/1"
WHOLE_ROW = "(whole row)"
SEPARATOR = "\x1f"
SAMPLE_COLUMNS = ("sample_rank", "sample_hash", "sample_algorithm", "sample_seed")
FREQUENCIES = ("annual", "quarterly", "monthly", "weekly", "daily", "per-event")


class SampleError(ValueError):
    """A population, key, size or frequency the user must fix; the message is one line."""


@dataclass(frozen=True)
class Sample:
    """The sample as CSV text, and its metadata (the `.json` sidecar)."""

    csv: str
    meta: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class _Population:
    header: list[str]
    rows: int  # data rows read, duplicates included
    units: dict[str, list[str]]  # key -> the row kept for it


def default_size(frequency: str, population: int) -> int:
    """How many items to test for a control that operates `frequency`, from `population`
    occurrences in the period (the usual AICPA-style table), never more than the population:

    - `annual` 1; `quarterly` 2; `monthly` 2;
    - `weekly` 5 while population <= 52, else ceil(5 * population / 52) capped at 15;
    - `daily` 20 while population <= 250, else ceil(25 * population / 365) at least 25 and
      capped at 40;
    - `per-event` (each occurrence, possibly many a day): the whole population while it is
      <= 25, else 25 + floor(15 * (population - 25) / 225) capped at 40 (so 40 from 250 on).
    """
    if population < 0:
        raise SampleError(f"population {population} is negative")
    if frequency == "annual":
        size = 1
    elif frequency in ("quarterly", "monthly"):
        size = 2
    elif frequency == "weekly":
        size = 5 if population <= 52 else min(15, -(-5 * population // 52))
    elif frequency == "daily":
        size = 20 if population <= 250 else min(40, max(25, -(-25 * population // 365)))
    elif frequency == "per-event":
        size = population if population <= 25 else min(40, 25 + 15 * (population - 25) // 225)
    else:
        raise SampleError(f"unknown frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}")
    return min(size, population)


def normalise(text: str) -> str:
    """The text the sample depends on: no leading byte-order mark, LF line ends."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def sample_hash(seed: str, key: str) -> str:
    """A row's rank: sha256 of the seed, LF, and the key, as UTF-8, in lowercase hex."""
    return hashlib.sha256(f"{seed}\n{key}".encode()).hexdigest()


def count_population(text: str, *, key: str | None) -> int:
    """How many items the sample is drawn from: distinct keys (see the module docstring)."""
    return len(_read(normalise(text), key).units)


def sample_csv(text: str, *, size: int, seed: str, key: str | None) -> Sample:
    """Draw `size` rows of the population CSV `text` with `seed` (module docstring).

    The output header is `sample_rank,sample_hash,sample_algorithm,sample_seed` followed by
    the population's header; every row carries its rank (from 1), its hash, the algorithm
    and the seed, then its cells unchanged. Duplicate keys keep one row each (the one with
    the smallest canonical text), so the sample never depends on the order of the rows."""
    if size < 0:
        raise SampleError(f"--size {size} is negative: give 0 or more rows to sample")
    if seed == "":
        raise SampleError("--seed is empty: give the seed the auditor chose (e.g. a date or dice rolls)")
    normal = normalise(text)
    population = _read(normal, key)
    ranked = sorted((sample_hash(seed, k), k) for k in population.units)
    chosen = ranked[:size]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*SAMPLE_COLUMNS, *population.header])
    for rank, (digest, k) in enumerate(chosen, start=1):
        writer.writerow([str(rank), digest, ALGORITHM, seed, *population.units[k]])
    meta: dict[str, object] = {
        "algorithm": ALGORITHM,
        "seed": seed,
        "size": len(chosen),
        "requested_size": size,
        "population": len(population.units),
        "rows": population.rows,
        "key": key if key is not None else WHOLE_ROW,
        "population_sha256": hashlib.sha256(normal.encode()).hexdigest(),
    }
    return Sample(csv=out.getvalue(), meta=meta)


def _read(normal: str, key: str | None) -> _Population:
    if normal.strip() == "":
        raise SampleError("the population file is empty: it needs a header line and one row per item")
    reader = csv.reader(io.StringIO(normal, newline=""), strict=True)
    header: list[str] | None = None
    key_index: int | None = None
    units: dict[str, list[str]] = {}
    rows = 0
    line = 1
    try:
        for row in reader:
            if SEPARATOR in "".join(row):
                raise SampleError(f"line {line}: a cell contains the control character U+001F; remove it")
            if header is None:
                if not any(cell.strip() for cell in row):
                    raise SampleError(f"line {line}: no header; the first line must name the columns")
                header = row
                key_index = _key_index(header, key)
            elif row:
                if len(row) != len(header):
                    raise SampleError(
                        f"line {line}: {len(row)} cells where the header has {len(header)}; "
                        "fix the row (quote cells that contain commas)"
                    )
                rows += 1
                canonical = SEPARATOR.join(row)
                k = canonical if key_index is None else row[key_index]
                kept = units.get(k)
                if kept is None or canonical < SEPARATOR.join(kept):
                    units[k] = row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SampleError(f"line {line}: not valid CSV ({exc}); fix the quoting") from None
    if header is None:
        raise SampleError("the population file is empty: it needs a header line and one row per item")
    return _Population(header=header, rows=rows, units=units)


def _key_index(header: list[str], key: str | None) -> int | None:
    if key is None:
        return None
    matches = [i for i, name in enumerate(header) if name == key]
    if not matches:
        raise SampleError(f"--key {key!r} is not a column; the header has: {', '.join(header)}")
    if len(matches) > 1:
        raise SampleError(f"--key {key!r} names {len(matches)} columns; rename them so the key column is unique")
    return matches[0]
