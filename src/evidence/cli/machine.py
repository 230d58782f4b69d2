"""`--format json`: what a command found, as one JSON document on stdout, for machines.

Every document names its schema (`"schema": "evidence.<kind>/1"`), whose JSON Schema ships in
the package (`evidence/schemas/<kind>.schema.json`, `schema_path`); field names are stable
within a schema version and documented in the README. Human lines (progress, summaries,
warnings) go to stderr, or nowhere with `--quiet`, so stdout holds the document alone."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evidence import __version__
from evidence.models import ControlVerdict, Finding, Status, iso, verdict_totals
from evidence.reports.causes import Cause
from evidence.reports.content import OUTPUTS, written_reports

if TYPE_CHECKING:
    from evidence.history import Drift, Outcome, RunDiff, RunInfo
    from evidence.runner import RunResult

KINDS = ("run", "drift", "diff", "history", "controls", "collectors", "permissions")

FORMAT_OPTION = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="json: one document on stdout (schema evidence.<command>/1, shipped in the package); "
         "human lines go to stderr.",
)


def schema_path(kind: str) -> Path:
    """The JSON Schema file of `kind`'s document, inside the installed package."""
    with resources.as_file(resources.files("evidence") / "schemas" / f"{kind}.schema.json") as path:
        return Path(path)


def emit(kind: str, doc: dict[str, Any]) -> None:
    """Print `doc` as the `kind` document on stdout."""
    click.echo(json.dumps({"schema": f"evidence.{kind}/1", "tool_version": __version__, **doc}, indent=2,
                          ensure_ascii=False, sort_keys=True))


def _cause(c: Cause) -> dict[str, Any]:
    f = c.finding
    return {"status": f.status.value, "check_id": f.check_id, "resource_id": f.resource_id, "account": f.account,
            "region": f.region, "cause": c.cause, "remedy": c.remedy}


def finding_brief(f: Finding) -> dict[str, Any]:
    return {"control_id": f.control_id, "check_id": f.check_id, "status": f.status.value,
            "resource_id": f.resource_id, "account": f.account, "region": f.region, "message": f.message}


def control_rows(verdicts: Iterable[ControlVerdict], causes: dict[str, list[Cause]]) -> list[dict[str, Any]]:
    return [{"control_id": v.control_id, "title": v.title, "verdict": v.verdict.value, "criteria": list(v.criteria),
             "counts": {s.value: v.counts.get(s.value, 0) for s in Status},
             "causes": [_cause(c) for c in causes.get(v.control_id, [])]} for v in verdicts]


def drift_doc(drift: Drift) -> dict[str, Any]:
    return {
        "drifted": drift.drifted, "against": drift.against,
        "reference_run_id": drift.reference.run.run_id if drift.reference is not None else None,
        "new": [{"control_id": c.control_id, "kind": c.kind, "state": c.state, "text": c.text,
                 "resources": list(c.resources)} for c in drift.new],
        "cleared": [{"control_id": c.control_id, "kind": c.kind, "text": c.text} for c in drift.cleared],
        "verdict_changes": [{"control_id": v.control_id, "before": v.before, "after": v.after}
                            for v in drift.verdicts],
    }


def alerts_doc(outcome: Outcome) -> dict[str, Any]:
    sent = {a.control_id for a in outcome.sent}
    return {
        "decided": outcome.decided, "urls": outcome.urls,
        "alerts": [{"control_id": a.control_id, "subject": a.subject(),
                    "state": "sent" if a.control_id in sent else ("pending" if not outcome.urls else "not_delivered")}
                   for a in outcome.alerts],
        "already_alerted": len(outcome.suppressed),
    }


def run_doc(result: RunResult, outcome: Outcome | None, exit_code: int, history: Path | None,
            causes: dict[str, list[Cause]]) -> dict[str, Any]:
    """The `run` document of a finished run, with the causes the summary gave (`run_causes`)."""
    bundle = result.bundle
    written = written_reports(bundle, result.report_errors) if bundle is not None else {}
    reports = {fmt: str(paths[0]) if paths else None for fmt, paths in written.items()} if written else \
        dict.fromkeys(OUTPUTS)
    return {
        "run_id": result.run_id, "period": result.period.model_dump(mode="json"),
        "bundle": str(bundle) if bundle is not None else None, "reports": reports,
        "report_errors": list(result.manifest.get("report_errors", [])), "exit_code": exit_code,
        "verdicts": verdict_totals(result.verdicts), "controls": control_rows(result.verdicts, causes),
        "api_calls": dict(result.api_calls), "user_errors": list(result.user_errors),
        "plugin_errors": list(result.plugin_errors),
        "drift": drift_doc(outcome.drift) if outcome is not None else None,
        "alerts": alerts_doc(outcome) if outcome is not None else None,
        "history": str(history) if history is not None else None,
    }


def _run_ref(run: RunInfo) -> dict[str, Any]:
    return {"run_id": run.run_id, "period": run.period, "reference_time": iso(run.reference_time),
            "bundle": run.bundle}


def diff_doc(d: RunDiff) -> dict[str, Any]:
    return {
        "a": _run_ref(d.a.run), "b": _run_ref(d.b.run),
        "verdict_changes": [{"control_id": v.control_id, "before": v.before, "after": v.after} for v in d.verdicts],
        "new": [finding_brief(f) for f in d.new()],
        "resolved": [finding_brief(f) for f in d.resolved()],
        "changed": [{"key": c.key, "control_id": c.after.control_id, "check_id": c.after.check_id,
                     "resource_id": c.after.resource_id, "fields": c.fields,
                     "before": {n: _plain(getattr(c.before, n)) for n in c.fields},
                     "after": {n: _plain(getattr(c.after, n)) for n in c.fields}} for c in d.changed()],
    }


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Status) else value


def history_doc(runs: list[RunInfo], baseline: RunInfo | None) -> dict[str, Any]:
    return {"baseline": baseline.run_id if baseline is not None else None,
            "runs": [{**_run_ref(r), "exit_code": r.exit_code, "sources": list(r.sources),
                      "baseline": baseline is not None and baseline.run_id == r.run_id} for r in runs]}


__all__ = ["FORMAT_OPTION", "KINDS", "alerts_doc", "control_rows", "diff_doc", "drift_doc", "emit",
           "finding_brief", "history_doc", "run_doc", "schema_path"]
