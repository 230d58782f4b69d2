"""The period's populations, built from the run bundles' evidence: one CSV each, one row per
item, with the evidence records (paths from the output folder) that show it.

- `merged-pull-requests.csv`: every run's `github/merged-pull-requests.csv` artifact, each pull
  request once (the first run that listed it);
- `workspace-joiners.csv`: Google Workspace users created during the period;
- `workspace-leavers.csv`: users active in one run and suspended, archived or gone in the next
  (a run-to-run difference: the day is the first run that saw them leave);
- the AWS populations (`populations_aws`): IAM users created and removed, access keys created or
  rotated, certificates issued or renewed;
- `drift-events.csv`: every change of a control's verdict from one run to the next.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence.models import Period, parse_time
from evidence.period.populations_aws import aws_populations
from evidence.period.runs import RunRef, read_verdicts
from evidence.records import EvidenceIndex
from evidence.sources.google_workspace import USERS_LIST

PR_CSV = "github/merged-pull-requests.csv"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def merged_pull_requests(out: Path, runs: list[RunRef]) -> str | None:
    """Every merged pull request any run listed, once; None when no run listed pull requests."""
    header: list[str] | None = None
    seen: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        path = run.path(out) / PR_CSV
        if not path.is_file():
            continue
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        if not rows:
            continue
        header = header or rows[0]
        at = {name: n for n, name in enumerate(rows[0])}
        for row in rows[1:]:
            key = (row[at["repo"]], row[at["number"]])
            if key not in seen:
                cells = [row[at[name]] if name in at else "" for name in header]
                if "evidence" in at:
                    ev = header.index("evidence")
                    cells[ev] = ";".join(f"{run.bundle}/{p}" for p in row[at["evidence"]].split(";") if p)
                seen[key] = [run.run_id, *cells]
    if header is None:
        return None
    ordered = sorted(seen.values(), key=lambda r: (r[1 + header.index("repo")], int(r[1 + header.index("number")])
                                                   if r[1 + header.index("number")].isdigit() else 0))
    return _csv(["first_run", *header], ordered)


@dataclass(frozen=True)
class _User:
    email: str
    active: bool
    state: str
    created: str
    evidence: str


def _users(out: Path, run: RunRef) -> dict[str, _User] | None:
    """The users one run listed (None when it listed none or a page of it failed, so it says
    nothing about leavers)."""
    index = EvidenceIndex.from_bundle(run.path(out))
    listed = index.entries_for(USERS_LIST)
    if not listed or not all(e.ok for e in listed):
        return None  # no listing, or part of it failed: who is absent is unknown, nobody is a leaver
    entries = listed
    found: dict[str, _User] = {}
    for entry in entries:
        ev = index.load(entry)
        page: Any = ev.response
        users = page.get("users", []) if isinstance(page, dict) else []
        for u in users if isinstance(users, list) else []:
            if not isinstance(u, dict) or not isinstance(u.get("primaryEmail"), str):
                continue
            state = "archived" if u.get("archived") else "suspended" if u.get("suspended") else "active"
            email = u["primaryEmail"].lower()
            found[email] = _User(email, state == "active", state, str(u.get("creationTime") or ""),
                                 f"{run.bundle}/{ev.path}")
    return found


def workspace_people(out: Path, runs: list[RunRef], period: Period) -> tuple[str, str] | None:
    """(joiners CSV, leavers CSV), or None when no run listed Workspace users."""
    joiners: dict[str, list[str]] = {}
    leavers: list[list[str]] = []
    before: dict[str, _User] | None = None
    any_listing = False
    for run in runs:
        now = _users(out, run)
        if now is None:
            continue
        any_listing = True
        for user in now.values():
            created = parse_time(user.created)
            if created is not None and period.start <= created.date() <= period.end and user.email not in joiners:
                joiners[user.email] = [user.email, created.date().isoformat(), run.run_id, user.evidence]
        for prev in (before or {}).values():
            if not prev.active:
                continue
            cur = now.get(prev.email)
            if cur is None or not cur.active:
                how = "deleted" if cur is None else cur.state
                shown = prev.evidence if cur is None else f"{prev.evidence};{cur.evidence}"
                leavers.append([prev.email, run.day.isoformat(), how, run.run_id, shown])
        before = now
    if not any_listing:
        return None
    return (_csv(["email", "created_on", "first_run", "evidence"], sorted(joiners.values())),
            _csv(["email", "left_on", "how", "run_id", "evidence"], sorted(leavers)))


def drift_events(out: Path, runs: list[RunRef]) -> str:
    """Every change of a control's verdict from one run to the next."""
    rows: list[list[str]] = []
    before: dict[str, str] = {}
    for run in runs:
        now = {v.control_id: v.verdict.value for v in read_verdicts(run.path(out))}
        for control_id, verdict in sorted(now.items()):
            if control_id in before and before[control_id] != verdict:
                rows.append([control_id, run.day.isoformat(), before[control_id], verdict, run.run_id,
                             f"{run.bundle}/controls.json"])
        before = now
    return _csv(["control_id", "changed_on", "from", "to", "run_id", "evidence"], rows)


def populations(out: Path, runs: list[RunRef], period: Period) -> Iterator[tuple[str, str]]:
    """(file name under populations/, CSV text) for every population the runs hold."""
    prs = merged_pull_requests(out, runs)
    if prs is not None:
        yield "merged-pull-requests.csv", prs
    people = workspace_people(out, runs, period)
    if people is not None:
        yield "workspace-joiners.csv", people[0]
        yield "workspace-leavers.csv", people[1]
    for name, header, rows in aws_populations(out, runs, period):
        yield name, _csv(header, rows)
    yield "drift-events.csv", drift_events(out, runs)


__all__ = ["PR_CSV", "populations"]
