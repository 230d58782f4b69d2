"""The `evidence` command line (DESIGN.md, "Command line"); exit codes in `common._EPILOG`.

One module per group of commands; this one assembles the `evidence` group."""

from __future__ import annotations

import logging

import click

from evidence import __version__
from evidence.cli.access_review import access_review_group
from evidence.cli.catalog import controls
from evidence.cli.catalog_cmd import catalog_group
from evidence.cli.common import _EPILOG, UserError, _fail, _manual_inputs, record_and_alert
from evidence.cli.history import baseline, diff_cmd, drift_cmd, history_cmd
from evidence.cli.init import init_cmd
from evidence.cli.manual import attach_cmd
from evidence.cli.merge import merge_cmd
from evidence.cli.period import period_cmd
from evidence.cli.plugins import collectors, permissions, permissions_document
from evidence.cli.reports import export_cmd, report_cmd
from evidence.cli.run import demo, evaluate_cmd, run, verify_cmd
from evidence.cli.sample import sample_cmd
from evidence.models import reference_now


@click.group(epilog=_EPILOG)
@click.version_option(__version__, prog_name="evidence")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Collect, judge and bundle evidence for the controls a security overview states."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # the HTTP libraries' own debug logs print request headers and bodies (session tokens,
    # AssumeRole's secret key, bearer tokens), apprise's the URLs it posts to (a webhook's path
    # or a Slack URL's tokens are its secret): never below INFO, whatever -v says
    for noisy in ("botocore", "boto3", "urllib3", "googleapiclient", "google.auth", "httpx", "httpcore", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.INFO)
    try:
        reference_now()  # a mistake in EVIDENCE_NOW is one line, before any command runs
    except ValueError as exc:
        _fail(str(exc))


for _command in (run, demo, evaluate_cmd, verify_cmd, report_cmd, export_cmd, diff_cmd, drift_cmd, baseline,
                 history_cmd, attach_cmd, controls, collectors, permissions, sample_cmd, period_cmd, merge_cmd,
                 init_cmd, catalog_group, access_review_group):
    cli.add_command(_command)


def main() -> None:
    from evidence.memory import limit_malloc_arenas

    limit_malloc_arenas()  # before any thread: the collectors' threads would each get an arena
    cli(prog_name="evidence")


__all__ = ["UserError", "_manual_inputs", "cli", "main", "permissions_document", "record_and_alert"]
