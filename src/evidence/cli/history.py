"""`evidence diff`, `drift`, `baseline`, `history`: what changed between runs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from evidence.cli.common import (
    _OUT_HELP,
    _config,
    _fail,
    _out_dir,
    _print_outcome,
    refuse_altered,
)
from evidence.cli.machine import FORMAT_OPTION, alerts_doc, diff_doc, drift_doc, emit, history_doc


@click.command(name="diff")
@click.argument("a")
@click.argument("b")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--max-fields", default=20, show_default=True, type=click.IntRange(min=1),
              help="Evidence fields shown per changed record.")
@FORMAT_OPTION
def diff_cmd(a: str, b: str, config_path: str | None, out: str | None, max_fields: int, output_format: str) -> None:
    """What changed from run A to run B: verdicts, findings new/resolved/changed, and for a
    changed finding the evidence fields that differ. A and B are bundle folders or run ids
    (or `latest`, `baseline`, a unique prefix) recorded in the output folder's history."""
    from evidence.bundle import not_a_bundle, verify
    from evidence.history import (
        DriftError,
        History,
        HistoryError,
        Snapshot,
        diff_runs,
        render_diff,
        snapshot_from_bundle,
    )

    def checked(bundle: Path) -> Path:
        """A bundle diff may read: a bundle (exit 2 otherwise), and intact (exit 1 otherwise)."""
        reason = not_a_bundle(bundle)
        if reason is not None:
            _fail(reason)
        refuse_altered(verify(bundle), f"{bundle}: does not verify; not compared", prefix=f"{bundle}: ")
        return bundle

    def resolve(ref: str) -> tuple[Snapshot, Path | None]:
        path = Path(ref)
        if path.is_dir():
            return snapshot_from_bundle(checked(path)), path
        out_dir = _out_dir(_config(config_path), out)
        with History.open(out_dir, create=False) as history:
            info = history.find(ref)
            bundle = Path(info.bundle) if Path(info.bundle).is_absolute() else out_dir / info.bundle
            if (bundle / "manifest.json").is_file():
                return snapshot_from_bundle(checked(bundle)), bundle
            click.echo(f"evidence: warning: bundle {bundle} not found; evidence records not compared", err=True)
            return history.snapshot(info), None

    try:
        (snap_a, bundle_a), (snap_b, bundle_b) = resolve(a), resolve(b)
    except (DriftError, HistoryError) as exc:
        _fail(str(exc))
    try:
        with diff_runs(snap_a, snap_b) as d:
            if output_format == "json":
                emit("diff", diff_doc(d))
                return
            for line in render_diff(d, bundle_a, bundle_b, max_fields=max_fields):
                click.echo(line)
    except DriftError as exc:  # a findings.json that cannot be read, found while streaming it
        _fail(str(exc))


@click.command(name="drift")
@click.option("--against", type=click.Choice(["last", "baseline"]), default="last", show_default=True,
              help="Compare the latest run with the previous run of the same sources, or with the baseline.")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--no-notify", is_flag=True, help="Only report; decide and send no alerts.")
@FORMAT_OPTION
def drift_cmd(against: str, config_path: str | None, out: str | None, no_notify: bool, output_format: str) -> None:
    """Drift of the latest recorded run and its alerts (an alert already sent is not sent
    again before [alerts] repeat_after_days). Exit 0: no drift; 4: drift; 2: usage error."""
    from evidence.history import EXIT_DRIFT, DriftError, History, HistoryError, evaluate

    cfg = _config(config_path)
    out_dir = _out_dir(cfg, out)
    try:
        with History.open(out_dir, create=False) as history:
            outcome = evaluate(
                history, history.find("latest"), out=out_dir, alerts=cfg.alerts, against=against,
                notify=not no_notify,
            )
    except (HistoryError, DriftError) as exc:
        _fail(str(exc))
    if output_format == "json":
        _print_outcome(outcome, echo=lambda line: click.echo(line, err=True))
        emit("drift", {"run_id": outcome.run.run_id, **drift_doc(outcome.drift),
                       "alerts": alerts_doc(outcome) if outcome.decided else None})
    else:
        _print_outcome(outcome)
    sys.exit(EXIT_DRIFT if outcome.drift.drifted else 0)


@click.command()
@click.argument("run_ref", required=False)
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
def baseline(run_ref: str | None, config_path: str | None, out: str | None) -> None:
    """Show the baseline `evidence drift --against baseline` compares with, or set it to RUN_REF
    (a run id, a unique prefix, or `latest`)."""
    from evidence.history import History, HistoryError

    out_dir = _out_dir(_config(config_path), out)
    try:
        with History.open(out_dir, create=False) as history:
            info = history.set_baseline(run_ref) if run_ref else history.baseline()
    except HistoryError as exc:
        _fail(str(exc))
    if info is None:
        click.echo("no baseline set (evidence baseline RUN)")
        return
    click.echo(f"baseline: {info.run_id} ({info.period}, {info.reference_time.isoformat()})")


@click.command(name="history")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@FORMAT_OPTION
def history_cmd(config_path: str | None, out: str | None, output_format: str) -> None:
    """Runs recorded in the output folder's history, oldest first."""
    from evidence.history import History, HistoryError
    from evidence.models import iso

    out_dir = _out_dir(_config(config_path), out)
    try:
        with History.open(out_dir, create=False) as history:
            runs, base = history.runs(), history.baseline()
    except HistoryError as exc:
        _fail(str(exc))
    if output_format == "json":
        emit("history", history_doc(runs, base))
        return
    for r in runs:
        mark = "  (baseline)" if base is not None and base.run_id == r.run_id else ""
        click.echo(
            f"{r.run_id}  {r.period}  {iso(r.reference_time)}  exit {r.exit_code}  sources {r.scope_key}  "
            f"{r.bundle}{mark}"
        )
