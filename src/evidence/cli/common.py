"""What the commands share: one-line user errors, configuration and registry loading, the
verdict summary, progress, and recording a run in the history."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from evidence.catalog import CatalogError, load_catalog
from evidence.cli.progress import ProgressDisplay
from evidence.config import Config, ConfigError, load_config
from evidence.exit_codes import EXIT_FAIL, EXIT_USAGE
from evidence.models import ControlVerdict, Period, Status, reference_now, verdict_totals
from evidence.registry import Registry
from evidence.reports.causes import EXPLAINED, Cause, first_causes
from evidence.reports.content import written_reports
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


def refuse_altered(problems: list[str], then: str = "", *, prefix: str = "") -> None:
    """A bundle that does not verify: each problem as a `MISMATCH` line, then `then` (what the
    command does not do), on stderr, and exit 1 (tampering, as `evidence verify` says it);
    nothing when there is no problem."""
    if not problems:
        return
    for problem in problems:
        click.echo(f"MISMATCH {prefix}{problem}", err=True)
    if then:
        click.echo(then, err=True)
    sys.exit(EXIT_FAIL)


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


Echo = Callable[[str], None]


def _stdout(line: str) -> None:
    click.echo(line)


def print_summary(verdicts: Iterable[ControlVerdict], echo: Echo = _stdout) -> None:
    rows = list(verdicts)
    header = (
        f"{'control':<20} {'verdict':<15} {'pass':>5} {'fail':>5} {'error':>5} {'n/a':>5} {'manual':>6} {'waived':>6}"
    )
    echo(header)
    echo("-" * len(header))
    for v in rows:
        c = v.counts
        verdict = click.style(f"{v.verdict.value:<15}", fg=_COLOURS.get(v.verdict))
        echo(
            f"{v.control_id:<20} {verdict} {c.get('pass', 0):>5} {c.get('fail', 0):>5} "
            f"{c.get('error', 0):>5} {c.get('not_applicable', 0):>5} {c.get('manual', 0):>6} "
            f"{c.get('waived', 0):>6}"
        )
    echo("-" * len(header))
    echo("controls: " + ", ".join(f"{n} {k}" for k, n in sorted(verdict_totals(rows).items())))


#: checks named per control in the summary's "why" (each by its first finding)
_CAUSES_SHOWN = 8


def print_causes(verdicts: Iterable[ControlVerdict], causes: dict[str, list[Cause]], echo: Echo = _stdout) -> None:
    """For each control that is not passing: the first finding of each check that makes it so
    (its cause, one line each), and the first remedy."""
    rows = [(v, causes.get(v.control_id, [])) for v in verdicts if v.verdict in EXPLAINED]
    if not rows:
        return
    echo("")
    echo("why (the first finding of each check that keeps a control from passing; all are in report.html):")
    for v, found in rows:
        if not found:
            echo(f"  {v.control_id:<20} {v.verdict.value}")
            continue
        total = v.counts.get(v.verdict.value, len(found))
        label = click.style(v.verdict.value, fg=_COLOURS.get(v.verdict))
        for i, c in enumerate(found):
            resource = c.finding.resource_id if c.finding.resource_id != c.finding.source else ""
            where = " ".join(part for part in (resource, c.finding.region) if part)
            line = f"{c.cause}{f' [{where}]' if where and where not in c.cause else ''}"
            head = f"  {v.control_id:<20} {label}" + (f" ({total} findings)" if total > 1 else "") if i == 0 \
                else f"  {'':<20} +"
            echo(f"{head}: {line}" if i == 0 else f"{head} {line}")
        remedy = next((c.remedy for c in found if c.remedy), "")
        if remedy:
            echo(f"  {'':<20} remedy: {remedy}")


def _progress_printer(quiet: bool = False) -> ProgressDisplay:
    """The run's progress on stderr (`evidence.cli.progress`): a live line on a terminal, plain
    lines when piped; nothing with `quiet`. The runner ends it before returning."""
    return ProgressDisplay(quiet=quiet)


def run_causes(result: RunResult) -> dict[str, list[Cause]]:
    """Why each control of the run that is not passing is so: the first finding of each check that
    keeps it from passing (one pass over findings.json, for the summary and the json document)."""
    return first_causes(result.verdicts, result.iter_findings(), per_control=_CAUSES_SHOWN, one_per_check=True)


def report_run(result: RunResult, echo: Echo = _stdout, causes: dict[str, list[Cause]] | None = None) -> int:
    """The verdicts, why each control that is not passing is so (`causes`, else read now),
    where the bundle and its reports are, and every error in one line each (on stderr);
    returns the run's exit code."""
    if sys.stderr.isatty():
        click.echo("\r\033[K", err=True, nl=False)
    print_summary(result.verdicts, echo)
    print_causes(result.verdicts, run_causes(result) if causes is None else causes, echo)
    calls = sum(result.api_calls.values())
    by_source = ", ".join(f"{k} {v}" for k, v in sorted(result.api_calls.items()))
    echo("")
    echo(f"evidence records: {calls} API calls ({by_source})")
    echo(f"bundle: {result.bundle}")
    if result.bundle is not None:
        shown = [path.name if path.parent == result.bundle else path.relative_to(result.bundle).as_posix()
                 for paths in written_reports(result.bundle, result.report_errors).values() for path in paths]
        if "report.html" in shown:
            echo(f"report: {result.bundle / 'report.html'} (also {', '.join(n for n in shown if n != 'report.html')})")
    for err in result.plugin_errors:
        click.echo(f"evidence: plugin error: {err}", err=True)
    for err in result.report_errors:
        click.echo(f"evidence: report {err} (the evidence is sealed in the bundle; render it again with "
                   f"evidence report {result.bundle} --format {err.split(':', 1)[0]})", err=True)
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



def _catalog_dir(cfg: Config, option: str | Path | None) -> Path | None:
    """The catalog folder a command uses: --catalog, else `[bundle] catalog`, else None (the
    built-in catalog)."""
    if option is not None:
        return Path(option)
    return cfg.resolve(cfg.bundle.catalog) if cfg.bundle.catalog else None


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


def _print_outcome(outcome: Outcome, brief: bool = False, echo: Echo = _stdout) -> None:
    """Drift and alerts. A first run of its sources (or `brief`, the demo) has every condition
    new, which the causes above already name: one line for the drift then. Each alert is one
    line (sent ones with where they went); `brief` gives only their count."""
    from evidence.history import render_drift, render_outcome

    lines = render_drift(outcome.drift)
    out, err = render_outcome(outcome)
    if brief or outcome.drift.reference is None:
        controls = len({c.control_id for c in outcome.drift.new})
        lines = [f"{lines[0]}: {controls} controls with new conditions (details: evidence drift --out DIR)"]
    if out and brief:
        out = out[:1]
    for line in lines + out:
        echo(line)
    for line in err:
        click.echo(line, err=True)


def record_and_alert(
    result: RunResult, cfg: Config, out_dir: Path, code: int, brief: bool = False, echo: Echo = _stdout,
    progress: ProgressDisplay | None = None,
) -> tuple[int, Outcome | None]:
    """After a run: record it in `<out>/history.sqlite`, report drift since the last run, send
    alerts; returns `code` composed with drift (`evidence.history.compose_exit`) and the
    outcome (None when the run could not be recorded). A failed notification is reported and
    recorded and does not change the code."""
    from evidence.history import HISTORY_FILE, DriftError, HistoryError, after_run, compose_exit

    try:
        with progress.phase("history") if progress is not None else nullcontext():
            outcome = after_run(result, cfg.alerts, out=out_dir)
    except (HistoryError, DriftError) as exc:
        click.echo(f"evidence: error: the run was not recorded in the history: {exc}", err=True)
        return EXIT_USAGE, None
    _print_outcome(outcome, brief=brief, echo=echo)
    echo(f"history: {out_dir / HISTORY_FILE}")
    return compose_exit(code, outcome.drift.drifted), outcome


_OUT_HELP = "Output folder holding the bundles and history.sqlite (default: [bundle] out)."
