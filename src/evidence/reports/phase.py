"""The runner's last phase: `checks.json` and the reports, rendered into a bundle before it is
sealed (so the content digest on the cover covers every other file)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from evidence.checks.base import Check
from evidence.reports.content import CHECKS_FILE, FORMATS, ReportError, checks_json, load_bundle
from evidence.reports.writer import write_reports

#: the logger report failures have always been logged to (log lines name it)
log = logging.getLogger("evidence.report")


def render_into_bundle(
    folder: Path, manifest: Mapping[str, Any], checks: Mapping[str, Check], formats: Collection[str] = FORMATS
) -> list[str]:
    """Write `checks.json` and every report of `formats` into the partial bundle `folder`.

    A report that cannot be rendered never costs the run its evidence: the failure is logged
    and returned, one line each (the runner records them in the manifest and counts them like a
    plugin error, exit code 3), and the bundle is sealed without that report; `evidence report`
    can render it later."""
    (folder / CHECKS_FILE).write_text(checks_json(checks), encoding="utf-8")
    errors: list[str] = []
    try:
        content = load_bundle(folder, metadata=dict(manifest))
        for fmt in [f for f in FORMATS if f in formats]:
            try:
                write_reports(content, folder, [fmt])
            except Exception as exc:  # recorded in the manifest and the exit code, never silent
                log.exception("the %s report could not be rendered", fmt)
                errors.append(f"{fmt}: {type(exc).__name__}: {exc}")
    except ReportError as exc:
        errors.append(f"all: {exc}")
    return errors


__all__ = ["render_into_bundle"]
