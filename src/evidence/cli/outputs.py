"""What `evidence run` does with its outcome: where the human lines go (`--format`, `--quiet`),
which exit code it ends with (`--fail-on`, `--soft-fail`), and the copies of the bundle's
SARIF and JUnit files a CI job asked for (`--sarif`, `--junit`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

import click

from evidence.exit_codes import EXIT_ERRORS, EXIT_FAIL, EXIT_OK, EXIT_USAGE
from evidence.history.drift import EXIT_DRIFT
from evidence.models import ControlVerdict, Status

#: what can make `evidence run` exit non-zero, in the order it decides: fail (1), error (3), drift (4)
FAIL_ON = ("fail", "error", "drift")


def parse_fail_on(value: str) -> frozenset[str] | None:
    """`--fail-on` as a set of FAIL_ON names, or None when it names something else."""
    names = {part.strip() for part in value.split(",") if part.strip()}
    return frozenset(names) if names and names <= set(FAIL_ON) else None


def gated_exit(
    code: int, verdicts: Iterable[ControlVerdict], drifted: bool, gate: Collection[str], soft_fail: bool,
    plugin_errors: Collection[str] = (),
) -> int:
    """The exit code: 2 for a usage error whatever else; 3 for a plugin that failed to load
    (never gated: its checks were not run at all); 0 with `soft_fail`; else the first of fail
    (1), error (3) and drift (4) that happened and that `gate` names. With every name in `gate`
    this is DESIGN.md's code composed with drift (`compose_exit`)."""
    if code == EXIT_USAGE:
        return EXIT_USAGE
    if plugin_errors:
        return EXIT_FAIL if code == EXIT_FAIL and not soft_fail and "fail" in gate else EXIT_ERRORS
    if soft_fail:
        return EXIT_OK
    states = {v.verdict for v in verdicts}
    if Status.FAIL in states and "fail" in gate:
        return EXIT_FAIL
    if (Status.ERROR in states or code == EXIT_ERRORS) and "error" in gate:
        return EXIT_ERRORS
    if drifted and "drift" in gate:
        return EXIT_DRIFT
    return EXIT_OK


def human_echo(output_format: str, quiet: bool) -> Callable[[str], None]:
    """Where the summary's lines go: stdout; stderr when stdout carries the json document;
    nowhere with --quiet (errors are always printed, on stderr, by their own lines)."""
    if quiet:
        return lambda line: None
    if output_format == "json":
        return lambda line: click.echo(line, err=True)
    return lambda line: click.echo(line)


def copy_outputs(bundle: Path | None, wanted: Mapping[str, Path | None], echo: Callable[[str], None]) -> int | None:
    """Copy each named file of the bundle to the path asked for. None when every copy was made;
    else the exit code it calls for, each cause said in one line: 2 when a path cannot be
    written (the user's to fix), 3 when the bundle has no such file (its report failed)."""
    code: int | None = None
    for name, target in wanted.items():
        if target is None:
            continue
        source = bundle / name if bundle is not None else None
        if source is None or not source.is_file():
            click.echo(f"evidence: error: no {name} to copy to {target} (its report failed; see above)", err=True)
            code = code or EXIT_ERRORS
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        except OSError as exc:
            click.echo(f"evidence: error: cannot write {target} ({exc.strerror or exc})", err=True)
            code = EXIT_USAGE
            continue
        echo(f"{name}: {target}")
    return code


__all__ = ["FAIL_ON", "copy_outputs", "gated_exit", "human_echo", "parse_fail_on"]
