"""The runner's last phase: `checks.json` and the reports, rendered into a bundle before it is
sealed (so the content digest on the cover covers every other file)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from evidence.bundle import file_sha256
from evidence.checks.base import Check
from evidence.reports.content import CHECKS_FILE, FORMATS, BundleContent, ReportError, checks_json, load_bundle
from evidence.reports.writer import write_reports

#: the logger report failures have always been logged to (log lines name it)
log = logging.getLogger("evidence.report")

#: rendered on a thread of its own while the others render: the thread waits for Typst, which
#: typesets in a process of its own (`reports.pdf`), so the PDF costs the run next to nothing
#: on a second core
_BESIDE = "pdf"


def render_into_bundle(
    folder: Path,
    manifest: Mapping[str, Any],
    checks: Mapping[str, Check],
    formats: Collection[str] = FORMATS,
    *,
    digest: Callable[[Path], str] = file_sha256,
) -> list[str]:
    """Write `checks.json` and every report of `formats` into the partial bundle `folder`.

    A report that cannot be rendered never costs the run its evidence: the failure is logged
    and returned, one line each in the order of `FORMATS` (the runner records them in the
    manifest and counts them like a plugin error, exit code 3), and the bundle is sealed without
    that report; `evidence report` can render it later. `digest` hashes the input files (the
    partial bundle's own, which the manifest then reuses)."""
    (folder / CHECKS_FILE).write_text(checks_json(checks), encoding="utf-8")
    try:
        content = load_bundle(folder, metadata=dict(manifest), digest=digest)
    except ReportError as exc:
        return [f"all: {exc}"]
    wanted = [f for f in FORMATS if f in formats]
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report") as pool:
        beside: Future[str | None] | None = None
        if _BESIDE in wanted:
            beside = pool.submit(_render, content, folder, _BESIDE)
        for fmt in wanted:
            if fmt != _BESIDE and (error := _render(content, folder, fmt)) is not None:
                failed[fmt] = error
        if beside is not None and (error := beside.result()) is not None:
            failed[_BESIDE] = error
    return [failed[f] for f in wanted if f in failed]


def _render(content: BundleContent, folder: Path, fmt: str) -> str | None:
    """Render one report; the failure's line, or None."""
    try:
        write_reports(content, folder, [fmt])
    except Exception as exc:  # recorded in the manifest and the exit code, never silent
        log.exception("the %s report could not be rendered", fmt)
        return f"{fmt}: {type(exc).__name__}: {exc}"
    return None


__all__ = ["render_into_bundle"]
