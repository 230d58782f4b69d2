"""What the commands share: one-line user errors, configuration and registry loading, the
verdict summary, progress, and recording a run in the history."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from evidence.catalog import CatalogError, load_catalog
from evidence.config import Config, ConfigError, load_config
from evidence.exit_codes import EXIT_USAGE
from evidence.models import ControlVerdict, Period, Status, reference_now
from evidence.registry import Registry
from evidence.runner import Runner, RunResult

if TYPE_CHECKING:
    from evidence.history import Outcome
    from evidence.judge import Attachment, Waiver


_EPILOG = """\b
Exit codes:
  0  no control fails or errors (controls awaiting manual evidence are reported, not counted)
  1  some control fails
  2  usage or configuration error (one line names what to fix)
  3  some evidence could not be collected (errors), and nothing fails
  4  drift (run, drift): since the last run (or the baseline) something went wrong that
     leaves no control failing, e.g. manual evidence or a waiver expired or expires within
     [alerts] warn_days; `evidence drift` exits 4 on any drift, 0 on none
"""


class UserError(click.ClickException):
    """A mistake the user can fix: one line, exit code 2, no traceback."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"evidence: error: {self.format_message()}", err=True)


def _fail(message: str) -> NoReturn:
    raise UserError(message)


NO_CONFIG_NOTE = "evidence: no evidence.toml here; using the defaults (write one with `evidence init`)"


def _config(path: str | None, *, note: bool = False) -> Config:
    """The configuration from `path`, else ./evidence.toml, else the defaults (with `note`,
    saying so in one line on stderr, which stays clear of a --format json stdout)."""
    try:
        if path is None:
            default = Path("evidence.toml")
            if not default.is_file():
                if note:
                    click.echo(NO_CONFIG_NOTE, err=True)
                return load_config(None)
            return load_config(default)
        return load_config(Path(path))
    except ConfigError as exc:
        _fail(str(exc))


def _registry() -> Registry:
    reg = Registry.load()
    for err in reg.errors:
        click.echo(f"evidence: warning: {err}", err=True)
    return reg


_COLOURS = {
    Status.PASS: "green",
    Status.FAIL: "red",
    Status.ERROR: "yellow",
    Status.MANUAL: "cyan",
    Status.NOT_APPLICABLE: "white",
    Status.WAIVED: "blue",
}


def print_summary(verdicts: Iterable[ControlVerdict]) -> None:
    rows = list(verdicts)
    header = (
        f"{'control':<20} {'verdict':<15} {'pass':>5} {'fail':>5} {'error':>5} {'n/a':>5} {'manual':>6} {'waived':>6}"
    )
    click.echo(header)
    click.echo("-" * len(header))
    for v in rows:
        c = v.counts
        verdict = click.style(f"{v.verdict.value:<15}", fg=_COLOURS.get(v.verdict))
        click.echo(
            f"{v.control_id:<20} {verdict} {c.get('pass', 0):>5} {c.get('fail', 0):>5} "
            f"{c.get('error', 0):>5} {c.get('not_applicable', 0):>5} {c.get('manual', 0):>6} "
            f"{c.get('waived', 0):>6}"
        )
    totals: dict[str, int] = {}
    for v in rows:
        totals[v.verdict.value] = totals.get(v.verdict.value, 0) + 1
    click.echo("-" * len(header))
    click.echo("controls: " + ", ".join(f"{n} {k}" for k, n in sorted(totals.items())))


def _progress_printer() -> Callable[[str], None]:
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(message: str) -> None:
        now = time.monotonic()
        if tty:
            click.echo(f"\r\033[K{message}", err=True, nl=False)
        elif now - last[0] >= 5:
            click.echo(message, err=True)
        last[0] = now

    return show


def report_run(result: RunResult) -> int:
    if sys.stderr.isatty():
        click.echo("\r\033[K", err=True, nl=False)
    print_summary(result.verdicts)
    calls = sum(result.api_calls.values())
    by_source = ", ".join(f"{k} {v}" for k, v in sorted(result.api_calls.items()))
    click.echo(f"evidence records: {calls} API calls ({by_source})")
    click.echo(f"bundle: {result.bundle}")
    for err in result.plugin_errors:
        click.echo(f"evidence: plugin error: {err}", err=True)
    for err in result.user_errors:
        click.echo(f"evidence: error: {err}", err=True)
    return result.exit_code


def _split(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}



def _period(value: str | None) -> Period:
    try:
        return Period.parse(value) if value else Period.current()
    except ValueError as exc:
        _fail(f"--period: {exc}" if value else str(exc))


def execute(runner: Runner) -> RunResult:
    try:
        return runner.run()
    except (ConfigError, CatalogError) as exc:
        _fail(str(exc))



def _out_dir(cfg: Config, out: str | None) -> Path:
    return Path(out) if out else cfg.resolve(cfg.bundle.out)


def _manual_inputs(
    cfg: Config, out_dir: Path, catalog_dir: Path | None, *, waivers: bool = True
) -> tuple[list[Attachment], list[Waiver], dict[str, Path]]:
    """Attachments to judge (from the output folder's store) and waivers (from the exceptions
    folder), validated before any API call; with the files to copy into the bundle."""
    from evidence.attachments import AttachmentError, for_run
    from evidence.notify import unusable
    from evidence.waivers import WaiverError, WaiverSet, load_waivers

    bad = unusable(cfg.alerts.urls)
    if bad:
        _fail(f"{cfg.path or 'configuration'}: key 'alerts.urls': not a notification URL apprise can use: "
              f"{', '.join(bad)} (see https://appriseit.com/services/)")
    try:
        catalog = load_catalog(catalog_dir)
        found = load_waivers(cfg.resolve(cfg.bundle.exceptions_dir), catalog) if waivers else WaiverSet()
        atts = for_run(out_dir, reference_now().date(), catalog)
    except (CatalogError, WaiverError, AttachmentError) as exc:
        _fail(str(exc))
    return atts.attachments, found.waivers, {**atts.files, **found.files}


def _print_outcome(outcome: Outcome, brief: bool = False) -> None:
    from evidence.history import render_drift, render_outcome

    lines = render_drift(outcome.drift)
    out, err = render_outcome(outcome)
    if brief:
        # the demo's first run: every condition is new, so the detail is the summary above again
        controls = len({c.control_id for c in outcome.drift.new})
        click.echo(f"{lines[0]}: {controls} controls with new conditions (details: evidence drift --out DIR)")
        click.echo(out[0] if out else f"alerts: {len(outcome.alerts)}")
    else:
        for line in lines + out:
            click.echo(line)
    for line in err:
        click.echo(line, err=True)


def record_and_alert(result: RunResult, cfg: Config, out_dir: Path, code: int, brief: bool = False) -> int:
    """After a run: record it in `<out>/history.sqlite`, report drift since the last run, send
    alerts; returns `code` composed with drift (`evidence.history.compose_exit`). A failed
    notification is reported and recorded and does not change the code."""
    from evidence.history import HISTORY_FILE, DriftError, HistoryError, after_run, compose_exit

    try:
        outcome = after_run(result, cfg.alerts, out=out_dir)
    except (HistoryError, DriftError) as exc:
        click.echo(f"evidence: error: the run was not recorded in the history: {exc}", err=True)
        return EXIT_USAGE
    _print_outcome(outcome, brief=brief)
    click.echo(f"history: {out_dir / HISTORY_FILE}")
    return compose_exit(code, outcome.drift.drifted)


_OUT_HELP = "Output folder holding the bundles and history.sqlite (default: [bundle] out)."
