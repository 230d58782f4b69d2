"""GitHub, as both sides see it: the evidence keys, and the audit period's window.

Every record is source `github`, service `github`, its operation GitHub's REST operation id
(`repos/get-branch-protection`), so keys read `github.repos/get-branch-protection`. The
pull-request listing pages carry `period_start`/`period_end`: the window the collector paged
back to, which the check reads the population's bounds from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from evidence.models import parse_time

SOURCE = "github"
SERVICE = "github"

ORG_GET = "github.orgs/get"
MEMBERS = "github.orgs/list-members"
REPOS = "github.repos/list-for-org"
PROTECTION = "github.repos/get-branch-protection"
BRANCH_RULES = "github.repos/get-branch-rules"
REPO_RULESET = "github.repos/get-repo-ruleset"
ORG_RULESET = "github.repos/get-org-ruleset"
PULLS = "github.pulls/list"
PULL = "github.pulls/get"
REVIEWS = "github.pulls/list-reviews"

#: the parameters of a `pulls/list` page naming the period it was listed for (ISO dates)
PERIOD_START = "period_start"
PERIOD_END = "period_end"


def operation(key: str) -> str:
    """The operation id of an evidence key (`github.pulls/list` -> `pulls/list`)."""
    return key.removeprefix(f"{SERVICE}.")


def window_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00Z, the day after end 00:00Z): the instants of a period's days, in UTC."""
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return lo, hi


def merged_in_window(pull: Mapping[str, Any], start: date, end: date) -> bool:
    """True when `pull` (a `pulls/list` item) was merged on a day from `start` to `end` (UTC)."""
    merged = parse_time(pull.get("merged_at"))
    if merged is None:
        return False
    lo, hi = window_bounds(start, end)
    return lo <= merged < hi
