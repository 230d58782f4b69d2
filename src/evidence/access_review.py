"""The quarterly access review as evidence: `evidence access-review start|complete`.

`start` writes a worksheet (CSV) from the latest run recorded in the output folder's history:
one row per account the run listed (active Workspace users, GitHub organisation members, IAM
users with a console password or an active access key; `evidence.checks.people_review.review_population`),
with its roster person, last activity and admin flags, the run's id, a `row_digest` (SHA-256 of
the row's population fields) and empty `decision` and `note` columns.

Both refuse (`AccessReviewError`, one line) a run whose population is incomplete: a listing
not collected, failed, malformed or empty, named with its system, or a run without the roster
(`review_population`'s gaps).

`complete` accepts only a worksheet of the latest run recorded (a review of an older population
is stale), re-derives the population from that run's bundle, and refuses (one line naming the
row) a row added, removed or altered, and a row whose decision is not `keep` or `revoke`. A
complete worksheet is recorded as ACCESS-LIFECYCLE's `access-review` manual evidence through the
attachment store (`evidence.attachments.attach`), valid for the requirement's `valid_for_days`
from the run's reference date. The people collector reads the latest one back
(`people.AccessReview`) and `people.access_review_revocations` checks every `revoke` was done.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from evidence.attachments import AttachmentError, StoredAttachment, attach
from evidence.catalog import Catalog
from evidence.checks.people_review import ReviewAccount, review_population
from evidence.history import HISTORY_FILE, History, HistoryError, RunInfo
from evidence.records import EvidenceIndex
from evidence.sources.people import (
    DECISIONS,
    REVIEW_COLUMNS,
    REVIEW_CONTROL,
    REVIEW_POPULATION,
    REVIEW_REQUIREMENT,
    WorksheetError,
    parse_worksheet,
    review_row_digest,
)

#: the requirement's validity when the catalog does not say
DEFAULT_VALID_DAYS = 92


class AccessReviewError(Exception):
    """A worksheet or output folder that cannot be used: one line naming what to fix (exit 2)."""


@dataclass(frozen=True)
class Worksheet:
    run: RunInfo
    rows: list[dict[str, str]]

    def csv_text(self) -> str:
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=list(REVIEW_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return buf.getvalue()


def _history(out: Path) -> History:
    if not (out / HISTORY_FILE).is_file():
        raise AccessReviewError(f"{out}: no run recorded in this output folder (no {HISTORY_FILE}); "
                                "run `evidence run` first, or give --out")
    try:
        return History.open(out)
    except HistoryError as exc:
        raise AccessReviewError(str(exc)) from None


def _run(out: Path, ref: str) -> RunInfo:
    with _history(out) as history:
        try:
            return history.find(ref)
        except HistoryError as exc:
            raise AccessReviewError(str(exc)) from None


def row_of(account: ReviewAccount, run_id: str) -> dict[str, str]:
    """A worksheet row: the account's population fields, their digest, empty decision and note."""
    row = {**{k: str(v) for k, v in asdict(account).items()}, "run_id": run_id}
    return {**row, "row_digest": review_row_digest(row), "decision": "", "note": ""}


def population(out: Path, run: RunInfo) -> tuple[list[dict[str, str]], list[str]]:
    """The worksheet rows of `run` (its bundle in `out`), and why a listing is incomplete."""
    bundle = out / run.bundle
    if not (bundle / "evidence").is_dir():
        raise AccessReviewError(f"{bundle}: the bundle of run {run.run_id} is not there (moved or deleted?); the "
                                "access review is derived from its evidence")
    try:
        index = EvidenceIndex.from_bundle(bundle)
    except (OSError, ValueError) as exc:
        raise AccessReviewError(f"{bundle}: cannot read the evidence of run {run.run_id} "
                                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    accounts, gaps = review_population(index)
    return [row_of(a, run.run_id) for a in accounts], gaps


def refuse_gaps(run: RunInfo, gaps: list[str]) -> None:
    """An access review covers every account: a run whose population misses some (a listing not
    collected, failed, malformed or empty) cannot be reviewed, as a one-line `AccessReviewError`."""
    if gaps:
        raise AccessReviewError(f"run {run.run_id} does not hold the whole population to review: {'; '.join(gaps)}")


def start(out: Path) -> Worksheet:
    """The worksheet of the latest run recorded in output folder `out`; `AccessReviewError` when
    that run's population is incomplete."""
    run = _run(out, "latest")
    rows, gaps = population(out, run)
    refuse_gaps(run, gaps)
    return Worksheet(run, rows)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def verify(out: Path, file: Path) -> tuple[RunInfo, int, int]:
    """Check a completed worksheet against its run's population: (the run, rows kept, rows
    revoked), or `AccessReviewError` naming the first row that is added, removed, altered or
    without a decision."""
    label = str(file)
    try:
        rows = parse_worksheet(file.read_bytes(), label)
    except OSError as exc:
        raise AccessReviewError(f"{file}: cannot read the worksheet ({exc.strerror or exc})") from None
    except WorksheetError as exc:
        raise AccessReviewError(str(exc)) from None
    if not rows:
        raise AccessReviewError(f"{label}: the worksheet has no rows")
    run_id = rows[0].fields["run_id"].strip()
    if not run_id:
        raise AccessReviewError(f"{label}: line {rows[0].line}: run_id is empty")
    run = _run(out, run_id)
    if run.run_id != run_id:
        raise AccessReviewError(f"{label}: line {rows[0].line}: run_id {_shown(run_id)} is not a full run id "
                                f"(the worksheet was edited)")
    latest = _run(out, "latest")
    if latest.run_id != run.run_id:
        raise AccessReviewError(f"{label}: the worksheet is of run {run.run_id}, but the latest run recorded is "
                                f"{latest.run_id}; review the current population (evidence access-review start)")
    expected_rows, gaps = population(out, run)
    refuse_gaps(run, gaps)
    expected = {(r["system"], r["account"].lower()): r for r in expected_rows}
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        where = f"{label}: {row.label()}"
        if row.fields["run_id"].strip() != run_id:
            raise AccessReviewError(f"{where}: run_id {_shown(row.fields['run_id'])} is not the worksheet's run "
                                    f"{run_id} (altered)")
        key = row.key()
        if key in seen:
            raise AccessReviewError(f"{where}: the account appears twice (also line {seen[key]}; added)")
        seen[key] = row.line
        want = expected.get(key)
        if want is None:
            raise AccessReviewError(f"{where}: run {run_id} recorded no such account (a row added, or its system or "
                                    "account altered)")
        for name in (*REVIEW_POPULATION, "row_digest"):
            if row.fields[name] != want[name]:
                raise AccessReviewError(f"{where}: {name} altered ({_shown(row.fields[name])}; the run recorded "
                                        f"{_shown(want[name])})")
    for key, want in expected.items():
        if key not in seen:
            raise AccessReviewError(f"{label}: {want['system']} account {want['account']} of run {run_id} is "
                                    "missing from the worksheet (a row removed)")
    for row in rows:
        if not row.decision:
            raise AccessReviewError(f"{label}: {row.label()}: no decision (write {' or '.join(DECISIONS)})")
        if row.decision not in DECISIONS:
            raise AccessReviewError(f"{label}: {row.label()}: decision {_shown(row.fields['decision'])} is not "
                                    f"{' or '.join(DECISIONS)}")
    revoked = sum(1 for r in rows if r.decision == "revoke")
    return run, len(rows) - revoked, revoked


def valid_days(catalog: Catalog) -> int:
    control = catalog.controls.get(REVIEW_CONTROL)
    for manual in control.manual if control is not None else []:
        if manual.id == REVIEW_REQUIREMENT and manual.valid_for_days:
            return int(manual.valid_for_days)
    return DEFAULT_VALID_DAYS


def valid_until(run: RunInfo, catalog: Catalog) -> date:
    """The review is of the population `run` saw: valid for the requirement's days from the run's
    reference date, not from the day the worksheet was completed."""
    return run.reference_time.date() + timedelta(days=valid_days(catalog))


def complete(out: Path, catalog: Catalog, file: Path, by: str) -> tuple[StoredAttachment, RunInfo, int]:
    """Verify the worksheet `file` (of the latest run, whose population is complete), then record it
    as ACCESS-LIFECYCLE's `access-review` manual evidence, valid for the requirement's days from the
    run's reference date: (the attachment, its run, rows revoked)."""
    if not by.strip():
        raise AccessReviewError("--by: who completed the review must not be empty")
    run, _, revoked = verify(out, file)
    until = valid_until(run, catalog)
    try:
        stored = attach(out, catalog, REVIEW_CONTROL, file, until, requirement=REVIEW_REQUIREMENT, by=by)
    except AttachmentError as exc:
        raise AccessReviewError(str(exc)) from None
    return stored, run, revoked
