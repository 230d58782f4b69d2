"""report.pdf: the content of report.html typeset by Typst (`templates/report.typ`), with a table
of contents, bookmarks and page numbers, in about a second. `typeset` runs Typst in a process of
its own for any template (the period report's `period.typ` too)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from evidence.catalog import default_templates_dir
from evidence.reports.content import BundleContent, ReportError
from evidence.reports.context import build_view
from evidence.reports.templates import _truncate_pdf
from evidence.reports.views import Row

#: the Typst template, in the templates folder
TEMPLATE = "report.typ"
#: where fonts-liberation (Debian, Ubuntu) and liberation-fonts (Fedora) install the fonts
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/liberation-sans"),
)


def _plain(value: Any) -> Any:
    """`value` as JSON-safe data: dataclasses as objects (with their properties: the counts the
    templates read), enums as their value, dates as ISO strings, tuples as arrays."""
    if isinstance(value, Enum):
        return _plain(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name, attr in vars(type(value)).items():
            if isinstance(attr, property):
                out[name] = _plain(getattr(value, name))
        if isinstance(value, Row):
            out["observed"] = _truncate_pdf(value.observed)
            out["expected"] = _truncate_pdf(value.expected)
        return out
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)


def timestamp_of(meta: Mapping[str, Any], keys: tuple[str, ...] = ("finished_at", "started_at")) -> datetime:
    """The PDF's creation date: the first of `keys` in `meta` that is a time (for a run, when it
    finished), so that a report renders to the same bytes; else 1970-01-01."""
    for key in keys:
        raw = meta.get(key)
        if isinstance(raw, str) and raw:
            try:
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def _font_dirs() -> list[Path]:
    """The Liberation fonts' folder when installed: Typst then loads only those (and its own),
    instead of scanning every system font (which takes half the time of a render)."""
    return [d for d in FONT_DIRS if (d / "LiberationSans-Regular.ttf").is_file()][:1]


def report_data(content: BundleContent) -> dict[str, Any]:
    """The view of `report.pdf` as the JSON object `report.typ` reads."""
    view = build_view(content, pdf=True)
    data: dict[str, Any] = _plain({k: v for k, v in view.items() if k not in ("meta", "api_calls")})
    meta = view["meta"]
    data["meta"] = {k: _plain(meta.get(k)) or "" for k in ("run_id", "started_at", "finished_at", "reference_time")}
    data["api_calls"] = [[k, int(n)] for k, n in sorted((view["api_calls"] or {}).items())]
    data["criteria"] = [
        {"title": g.title, "criteria": [[crit, [{"id": c.id, "anchor": c.anchor, "verdict": c.verdict.value}
                                               for c in controls]] for crit, controls in g.criteria]}
        for g in view["criteria"]
    ]
    return data


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


#: the command that typesets, given a request file (`evidence.typst_child`): a process of its own
#: (-P: the working folder is not put on the module path, so no file there is imported instead)
TYPESETTER = (sys.executable, "-P", "-m", "evidence.typst_child")
#: how long a typesetting may take before it is stopped and the report counted as failed
TIMEOUT_SECONDS = 600


def render_pdf(content: BundleContent, *, templates: Path | None = None) -> bytes:
    """`report.pdf`, compiled by Typst from `report.typ` and the view as JSON, fetching nothing.

    Typst runs in a process of its own (`TYPESETTER`): if it crashes, even by a signal, this
    raises `ReportError` saying so, and the run goes on without the PDF."""
    data = report_data(content)
    return typeset((templates or default_templates_dir()) / TEMPLATE, data, timestamp_of(data["meta"]))


def typeset(template: Path, data: Mapping[str, Any], timestamp: datetime) -> bytes:
    """The PDF Typst compiles from `template` (a .typ file, copied alone into a scratch folder:
    it reads nothing else but `data`, written next to it as `data.json`), dated `timestamp`
    so the same data gives the same bytes; no font but the Liberation fonts (when installed)
    and Typst's own, nothing fetched.

    Typst runs in a process of its own (`TYPESETTER`): a failure, a crash (even by a signal)
    or a typesetting that outlasts `TIMEOUT_SECONDS` raises `ReportError` saying which."""
    with tempfile.TemporaryDirectory(prefix="evidence-pdf-") as tmp:
        root = Path(tmp)
        shutil.copyfile(template, root / template.name)
        (root / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        fonts = _font_dirs()
        request = {"input": str(root / template.name), "root": str(root), "output": str(root / "out.pdf"),
                   "inputs": {"data": "data.json"}, "font_paths": [str(f) for f in fonts],
                   "ignore_system_fonts": bool(fonts), "timestamp": timestamp.isoformat()}
        (root / "request.json").write_text(json.dumps(request), encoding="utf-8")
        try:
            done = subprocess.run([*TYPESETTER, str(root / "request.json")], capture_output=True,
                                  timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Typst did not finish within {TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            how = (f"crashed ({_signal_name(-done.returncode)})" if done.returncode < 0
                   else f"failed (exit {done.returncode})")
            raise ReportError(f"Typst {how}{': ' + said[-1] if said else ''}")
        return (root / "out.pdf").read_bytes()
