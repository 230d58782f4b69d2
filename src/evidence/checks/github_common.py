"""What the GitHub checks share: the declared inventories and small readers of decisive fields
(the evidence keys and the audit period's window are `evidence.sources.github`'s).

GitHub's list endpoints answer with a JSON array, so each listing's items are the page itself
(`items=TOP`); the collector (`evidence.collectors.github`) names the repository of a
per-repository record in its `subject` (`owner/repo`), a pull request's own records
`owner/repo#N`, and the organisation for organisation-wide calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from evidence.checks.inventory import TOP, FieldError, Inventory, Item, need
from evidence.models import parse_time as parse_ts
from evidence.records import Evidence, EvidenceIndex
from evidence.sources.github import BRANCH_RULES, ORG_RULESET, PROTECTION, REPO_RULESET, REPOS, REVIEWS
from evidence.sources.github import PULLS as PULLS  # re-exported (evidence.artifacts.github reads it here)
from evidence.sources.github import SOURCE as SOURCE  # re-exported, likewise


def _pull_id(number: str, ev: Evidence) -> str:
    """`owner/repo#N`: the listing page's subject is the repository."""
    return f"{ev.record.subject}#{number}"


#: the organisation's repositories, by full name
REPOSITORIES = Inventory(REPOS, items=TOP, id="full_name", resource_type="github_repository")
#: one record per repository's default branch (`{"protected": false, ...}` when nothing classic protects it)
PROTECTIONS = Inventory(PROTECTION, items=None)
#: the active ruleset rules of a repository's default branch
BRANCH_RULE_ITEMS = Inventory(BRANCH_RULES, items=TOP, id="type")
#: ruleset details, one record each (`parameters.ruleset_id` names it)
REPO_RULESETS = Inventory(REPO_RULESET, items=None)
ORG_RULESETS = Inventory(ORG_RULESET, items=None)
#: each repository's closed pull requests, as `owner/repo#N`
PULL_REQUESTS = Inventory(PULLS, items=TOP, id="number", resource_type="github_pull_request", resource_id=_pull_id,
                          parent=REPOSITORIES)
#: a pull request's reviews (`subject` = `owner/repo#N`)
PULL_REVIEWS = Inventory(REVIEWS, items=TOP, id="id")

# --------------------------------------------------------------------------- small helpers


def page_number(ev: Evidence) -> int:
    value = ev.parameters.get("page", 1)
    return value if isinstance(value, int) else 1


def failed_subjects(index: EvidenceIndex, key: str) -> set[str]:
    """Subjects of the failed records of `key` (the judge made an error finding of each)."""
    return {e.subject for e in index.entries_for(key) if not e.ok}


def text(obj: Any, path: str) -> str:
    """A descriptive (never decisive) string at `path`, or "" when it is not one."""
    try:
        return need(obj, path, str, "")
    except FieldError:
        return ""


def nullable(item: Item, name: str, kind: type[Any]) -> Any:
    """A field the API always sends, possibly null: missing is a FieldError, null is None."""
    if not isinstance(item.value, dict) or name not in item.value:
        item.need(name, kind)  # raises: missing, or not an object
    return item.need(name, kind, None)


def timestamp(item: Item, name: str) -> datetime:
    """A decisive ISO-8601 timestamp: missing, not a string or unreadable is a FieldError."""
    raw = item.need(name, str)
    ts = parse_ts(raw)
    if ts is None:
        at = f"{item.at}.{name}" if item.at else name
        raise FieldError(at, "an ISO-8601 timestamp", repr(raw), item.ev.path, item.resource_id)
    return ts


def about(exc: FieldError) -> FieldError:
    """`exc` without its resource id, so it is reported for the resource being judged."""
    return FieldError(exc.field, exc.expected, exc.found, exc.record)


def once(items: Iterable[Item], order: Callable[[Item], Any] = lambda i: i.resource_id) -> list[Item]:
    """Each listed resource once (the first page showing it: a listing paged while it changed
    can show one twice), in `order`."""
    first: dict[str, Item] = {}
    for item in sorted(items, key=lambda i: page_number(i.ev)):
        first.setdefault(item.resource_id, item)
    return sorted(first.values(), key=order)
