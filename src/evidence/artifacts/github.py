"""`github/merged-pull-requests.csv`: the period's merged pull requests, for sampling.

One row per pull request of the population `evidence.checks.github.merged_pull_requests`
defines (merged into its repository's default branch during the period), with its approvers.
Built only when pull requests were listed. It never fails on what GitHub sent: a page of the
wrong shape, or a PR whose decisive fields cannot be read, is left out of the file (the check
`github.pull_requests_peer_approved` reports it as an `error`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from evidence.artifacts.base import artifact
from evidence.checks.github import MergedPullRequest, merged_pull_requests
from evidence.records import EvidenceIndex
from evidence.sources.github import PULLS, SOURCE
from evidence.spreadsheet import cell

POPULATION_CSV = "github/merged-pull-requests.csv"
CSV_COLUMNS = (
    "repo",
    "number",
    "title",
    "author",
    "merged_at",
    "merged_by",
    "approvers",
    "peer_approved",
    "evidence",
)


def population_csv(population: Sequence[MergedPullRequest]) -> str:
    """The population as CSV text (header first), one row per pull request."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for pr in population:
        approved = pr.peer_approved
        writer.writerow(
            [
                cell(value)
                for value in (
                    pr.repo,
                    str(pr.number),
                    pr.title,
                    pr.author,
                    pr.merged_at,
                    pr.merged_by,
                    ";".join(pr.approvers or []),
                    "unknown" if approved is None else "yes" if approved else "no",
                    ";".join(sorted({ev.path for ev in pr.evidence})),
                )
            ]
        )
    return buffer.getvalue()


@artifact(
    id="github.merged_pull_requests",
    path=POPULATION_CSV,
    source=SOURCE,
    description="The period's merged pull requests with their approvers (the CODE-REVIEW population).",
)
def merged_pull_requests_csv(index: EvidenceIndex) -> bytes | None:
    if not index.entries_for(PULLS):
        return None
    return population_csv(merged_pull_requests(index)).encode("utf-8")


__all__ = ["CSV_COLUMNS", "POPULATION_CSV", "merged_pull_requests_csv", "population_csv"]
