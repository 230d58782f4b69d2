"""What `evidence run` does with its outcome: where the human lines go (`--format`, `--quiet`),
which exit code it ends with (`--fail-on`, `--soft-fail`), and the copies of the bundle's
SARIF and JUnit files a CI job asked for (`--sarif`, `--junit`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

import click

from evidence.exit_codes import EXIT_ERRORS, EXIT_FAIL, EXIT_OK, EXIT_USAGE, exit_code_for
from evidence.history.drift import compose_exit
from evidence.models import ControlVerdict, Status

#: what can make `evidence run` exit non-zero, in the order it decides: fail (1), error (3), drift (4)
FAIL_ON = ("fail", "error", "drift")


def parse_fail_on(value: str) -> frozenset[str] | None:
    """`--fail-on` as a set of FAIL_ON names, or None when it names something else."""
    names = {part.strip() for part in value.split(",") if part.strip()}
    return frozenset(names) if names and names <= set(FAIL_ON) else None


#: the verdicts `--fail-on` can keep from the exit code, by the name that keeps them in
_GATED = {Status.FAIL: "fail", Status.ERROR: "error"}


def gated_exit(
    code: int, verdicts: Iterable[ControlVerdict], drifted: bool, gate: Collection[str], soft_fail: bool,
    plugin_errors: Collection[str] = (),
) -> int:
    """The run's exit code with `--fail-on` and `--soft-fail`: DESIGN.md's code
    (`exit_code_for`, composed with drift by `compose_exit`) over the verdicts and the drift that
    `gate` names. A usage error (2) and a plugin that failed to load (its checks never ran) are
    never gated away; `soft_fail` leaves only those."""
    if code == EXIT_USAGE:
        return EXIT_USAGE
    if soft_fail:
        return EXIT_ERRORS if plugin_errors else EXIT_OK
    kept = [v for v in verdicts if v.verdict not in _GATED or _GATED[v.verdict] in gate]
    return compose_exit(exit_code_for(kept, plugin_errors=plugin_errors), drifted and "drift" in gate)


def with_copies(code: int, copied: int | None) -> int:
    """The exit code once the copies `--sarif`/`--junit` asked for are made, or not (never gated
    away: the job asked for the file): a path that cannot be written is a usage error (2); a
    report the bundle lacks is 3 unless the run already says usage (2) or fail (1)."""
    if copied is None or code == EXIT_USAGE:
        return code
    if copied == EXIT_USAGE:
        return EXIT_USAGE
    return code if code == EXIT_FAIL else copied


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


__all__ = ["FAIL_ON", "copy_outputs", "gated_exit", "human_echo", "parse_fail_on", "with_copies"]
