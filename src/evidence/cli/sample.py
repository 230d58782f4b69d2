"""`evidence sample`: a reproducible audit sample of a population CSV (`evidence.sampling`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evidence.cli.common import _fail
from evidence.sampling import FREQUENCIES, SampleError, count_population, default_size, sample_csv


@click.command(name="sample")
@click.argument("population", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--seed", required=True,
              help="The seed, chosen by the auditor (e.g. the date of the request, or dice rolls); any text.")
@click.option("--size", type=int, default=None, help="How many rows to sample.")
@click.option("--frequency", type=click.Choice(FREQUENCIES), default=None,
              help="How often the control operates; the size then comes from the default table.")
@click.option("--key", default=None,
              help="Column identifying an item (duplicates keep one row); default: the whole row.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the sample here (and its metadata to OUTPUT.json) instead of to stdout.")
def sample_cmd(
    population: Path, seed: str, size: int | None, frequency: str | None, key: str | None, output: Path | None,
) -> None:
    """Draw a reproducible sample from POPULATION.csv (every merged change, every leaver...).

    Rows are ranked by sha256(SEED + "\\n" + KEY) in hex, KEY being the --key column or the
    row's cells joined with U+001F; the first N by rank are the sample, in rank order. No
    random number generator: the same seed gives the same sample on any platform, in any
    language, whatever the order of the rows. Give --size, or --frequency for the default
    size. Every row carries the algorithm and the seed; the README has the details."""
    if (size is None) == (frequency is None):
        _fail("give --size N or --frequency (annual, quarterly, ...), one of them")
    if output is not None and output.exists() and output.resolve() == population.resolve():
        _fail(f"--output {output} is the population file; write the sample elsewhere")
    try:
        data = population.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {population}: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _fail(f"{population} is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8'")
    try:
        n = size if size is not None else default_size(str(frequency), count_population(text, key=key))
        drawn = sample_csv(text, size=n, seed=seed, key=key)
    except SampleError as exc:
        _fail(f"{population}: {exc}")
    meta: dict[str, object] = {**drawn.meta, "frequency": frequency, "population_file": population.name}
    body = drawn.csv.encode("utf-8")
    where = ""
    if output is None:
        click.echo(body, nl=False)  # bytes go to the binary stream: "\n" line ends on every platform
    else:
        sidecar = output.with_name(output.name + ".json")
        try:
            output.write_bytes(body)
            sidecar.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
        except OSError as exc:
            _fail(f"cannot write {exc.filename or output}: {exc.strerror or exc}")
        where = f"; wrote {output} and {sidecar}"
    click.echo(
        f"sampled {meta['size']} of {meta['population']} with {meta['algorithm']}, seed {seed!r}, "
        f"key {meta['key']}{where}",
        err=True,
    )
