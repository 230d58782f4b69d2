"""GitHub checks: the period's merged pull requests (CODE-REVIEW), and the population file.

Pure functions of the records the GitHub collector wrote (`evidence.collectors.github`); the
evidence keys and inventories are in `github_common`, the branch checks in `github_branches`
(their merge of classic protection and rulesets in `github_rules`), the two-factor checks in
`github_members`.

The population of pull requests is every PR in the `pulls/list` pages of a repository whose
`merged_at` falls in the period the collector paged back to (`period_start`/`period_end`,
recorded with each page) and whose base is the repository's default branch. Every other PR
the listing holds (closed without merging, merged outside the period or into another branch)
is an explicit skip, with why.

`merged_pull_requests` is that population, with the approvers of each PR; the artifact
`github.merged_pull_requests` (`evidence.artifacts.github`) writes it to the bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.github_common import (
    PULL_REQUESTS,
    PULL_REVIEWS,
    REPOSITORIES,
    about,
    failed_subjects,
    nullable,
    once,
    page_number,
    text,
    timestamp,
)
from evidence.checks.inventory import FieldError, Inventory, Item, Listing, read_listing
from evidence.checks.params import NoParams
from evidence.models import Finding, Status
from evidence.models import parse_time as parse_ts
from evidence.records import Evidence, EvidenceIndex
from evidence.sources.github import (
    PERIOD_END,
    PERIOD_START,
    PULL,
    PULLS,
    REVIEWS,
    SOURCE,
    window_bounds,
)

# --------------------------------------------------------------------------- the PR population


@dataclass
class MergedPullRequest:
    """One pull request of the period's population, with how it was approved."""

    repo: str
    number: int
    title: str
    author: str
    merged_at: str
    merged_by: str
    base: str
    #: None when the reviews could not be collected (or read)
    approvers: list[str] | None
    reviews: list[dict[str, Any]]
    evidence: list[Evidence]
    reviews_failed: bool = False
    #: a page of its reviews did not hold them where declared (the judge reports the page)
    reviews_malformed: bool = False
    #: a review that could not be read (the check reports it)
    review_problem: FieldError | None = None

    @property
    def resource_id(self) -> str:
        return f"{self.repo}#{self.number}"

    @property
    def peer_approved(self) -> bool | None:
        return None if self.approvers is None else bool(self.approvers)


_DECIDING = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


def peer_approvers(author: str, merged_at: str, reviews: Sequence[Item]) -> list[str]:
    """Who approved a PR before it was merged, other than its author (and other than bots).

    Per reviewer the latest of their APPROVED / CHANGES_REQUESTED / DISMISSED reviews submitted
    at or before the merge counts (a COMMENTED review does not withdraw an approval). The fields
    of such a review are decisive (a FieldError when missing); a review by a deleted account
    (`user` null) counts for nobody.
    """
    merged = parse_ts(merged_at)
    latest: dict[str, tuple[datetime, int, str]] = {}
    for review in reviews:
        state = review.need("state", str)
        if state not in _DECIDING or review.need("user", dict, None) is None:
            continue
        login = review.need("user.login", str)
        submitted = timestamp(review, "submitted_at")
        if login.lower() == author.lower() or review.need("user.type", str) == "Bot":
            continue
        if merged is not None and submitted > merged:
            continue
        key = (submitted, review.need("id", int), state)
        if login not in latest or key[:2] >= latest[login][:2]:
            latest[login] = key
    return sorted(login for login, (_, _, state) in latest.items() if state == "APPROVED")


@dataclass
class PullEvidence:
    """What the PR checks read besides the listing: default branches, details and reviews."""

    repos: dict[str, Item] = field(default_factory=dict)
    details: dict[str, Evidence] = field(default_factory=dict)
    reviews: dict[str, list[Item]] = field(default_factory=dict)
    review_pages: dict[str, list[Evidence]] = field(default_factory=dict)
    reviews_failed: set[str] = field(default_factory=set)
    reviews_malformed: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, listing: Callable[[Inventory], Listing], index: EvidenceIndex) -> PullEvidence:
        out = cls()
        for repo in listing(REPOSITORIES).items:
            out.repos.setdefault(repo.resource_id, repo)
        for entry in index.entries_for(PULL):
            if entry.ok:
                out.details[entry.subject] = index.load(entry)
        reviews = listing(PULL_REVIEWS)
        for ev in sorted(reviews.pages, key=page_number):
            out.review_pages.setdefault(ev.record.subject, []).append(ev)
        for item in sorted(reviews.items, key=lambda i: page_number(i.ev)):
            out.reviews.setdefault(item.ev.record.subject, []).append(item)
        out.reviews_malformed = {p.ev.record.subject for p in reviews.problems}
        out.reviews_failed = failed_subjects(index, REVIEWS)
        return out

    def default_branch(self, pull: Item) -> str | None:
        """The default branch of the PR's repository (the listing's, else the base the collector
        listed); a repository listed without one is a FieldError about this PR."""
        repo = self.repos.get(pull.ev.record.subject)
        if repo is not None:
            try:
                return repo.need("default_branch", str)
            except FieldError as exc:
                raise about(exc) from None
        base = pull.ev.parameters.get("base")
        return base if isinstance(base, str) else None


def _period(ev: Evidence) -> tuple[date, date]:
    """The window the collector paged back to, recorded with each listing page."""
    days: list[date] = []
    for name in (PERIOD_START, PERIOD_END):
        value = ev.parameters.get(name)
        try:
            days.append(date.fromisoformat(str(value)))
        except ValueError:
            found = "missing" if value is None else repr(value)
            raise FieldError(f"parameters.{name}", "an ISO date (the period the collector listed)", found,
                             ev.path) from None
    return days[0], days[1]


def classify(pull: Item, seen: PullEvidence) -> MergedPullRequest | str:
    """The PR as one of the period's population, or why it is not one (raises FieldError)."""
    merged_at = nullable(pull, "merged_at", str)
    if merged_at is None:
        return "closed without being merged"
    merged = timestamp(pull, "merged_at")
    start, end = _period(pull.ev)
    lo, hi = window_bounds(start, end)
    if not lo <= merged < hi:
        return f"merged {merged_at}, outside the period {start} to {end}"
    base = pull.need("base.ref", str)
    default = seen.default_branch(pull)
    if default is not None and base != default:
        return f"merged into {base!r}, not the default branch {default!r}"
    number = pull.need("number", int)
    author = pull.need("user.login", str)
    subject = pull.resource_id
    detail = seen.details.get(subject)
    pages = seen.review_pages.get(subject, [])
    items = seen.reviews.get(subject, [])
    failed, malformed = subject in seen.reviews_failed, subject in seen.reviews_malformed
    approvers: list[str] | None = None
    problem: FieldError | None = None
    if pages and not failed and not malformed:
        try:
            approvers = peer_approvers(author, merged_at, items)
        except FieldError as exc:
            problem = about(exc)
    return MergedPullRequest(
        repo=pull.ev.record.subject,
        number=number,
        title=text(pull.value, "title"),
        author=author,
        merged_at=merged_at,
        merged_by=text(detail.response, "merged_by.login") if detail is not None else "",
        base=base,
        approvers=approvers,
        reviews=[
            {"user": text(r.value, "user.login"), "state": text(r.value, "state") or None,
             "submitted_at": text(r.value, "submitted_at") or None}
            for r in items
        ],
        evidence=[pull.ev, *([detail] if detail is not None else []), *pages],
        reviews_failed=failed,
        reviews_malformed=malformed,
        review_problem=problem,
    )


def listed_pulls(listing: Listing) -> list[Item]:
    """Each listed PR once, by repository and number."""
    return once(listing.items, lambda i: (i.ev.record.subject, _number(i)))


def _number(item: Item) -> int:
    try:
        return int(item.name)
    except ValueError:
        return -1


def merged_pull_requests(index: EvidenceIndex) -> list[MergedPullRequest]:
    """The period's merged PRs (by repository and number); a PR that cannot be read is left out."""
    listings: dict[Inventory, Listing] = {}

    def listing(inv: Inventory) -> Listing:
        if inv not in listings:
            listings[inv] = read_listing(inv, index)
        return listings[inv]

    seen = PullEvidence.read(listing, index)
    out: list[MergedPullRequest] = []
    for pull in listed_pulls(listing(PULL_REQUESTS)):
        try:
            found = classify(pull, seen)
        except FieldError:
            continue  # the check reports it as an error
        if isinstance(found, MergedPullRequest):
            out.append(found)
    return out


@check(
    id="github.pull_requests_peer_approved",
    source=SOURCE,
    description=(
        "Every pull request merged into a default branch during the period was approved, before it "
        "was merged, by someone other than its author."
    ),
    inventory=PULL_REQUESTS,
    listings=(PULL_REVIEWS,),
    requires=(PULL,),
)
def pull_requests_peer_approved(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    seen = PullEvidence.read(ctx.listing, ctx.index)

    def one(pull: Item) -> Iterable[Finding]:
        found = classify(pull, seen)
        if isinstance(found, str):
            return [ctx.skip(pull, found)]
        if found.reviews_failed or found.reviews_malformed:
            return []  # the judge made the error finding from the failed record or the malformed page
        if found.review_problem is not None:
            raise found.review_problem
        return [_judge(ctx, found)]

    listed = {entry.subject for entry in ctx.index.entries_for(PULLS)}
    for repo in once(ctx.items(REPOSITORIES)):
        if repo.resource_id not in listed and isinstance(repo.value, dict) and repo.value.get("default_branch") == "":
            # the collector lists the pull requests into a repository's default branch only
            yield ctx.skip(repo, "a repository without a default branch (empty): nothing can be merged into it")
    yield from ctx.each(listed_pulls(ctx.listing(PULL_REQUESTS)), one)


def _judge(ctx: CheckContext[Any], pr: MergedPullRequest) -> Finding:
    observed: dict[str, Any] = {
        "author": pr.author,
        "merged_at": pr.merged_at,
        "merged_by": pr.merged_by,
        "base": pr.base,
        "approvers": pr.approvers,
        "reviews": pr.reviews,
    }
    expected = "an approval, before the merge, from someone other than the author"
    what = f"{pr.resource_id} {pr.title!r} by {pr.author or 'unknown'}, merged {pr.merged_at}"
    if pr.approvers is None:
        status = Status.ERROR
        message = f"{what}: its reviews were not collected, so its approval cannot be judged."
    elif pr.approvers:
        status = Status.PASS
        message = f"{what}, was approved by {', '.join(pr.approvers)}."
    else:
        status = Status.FAIL
        if not pr.reviews:
            why = "with no review at all"
        elif all(r["user"].lower() == pr.author.lower() for r in pr.reviews):
            why = "with reviews only by its author"
        else:
            why = "without an approval from someone other than its author before the merge"
        message = f"{what}, was merged {why}."
    return ctx.finding(
        status, resource_id=pr.resource_id, message=message, observed=observed, expected=expected,
        evidence=pr.evidence,
    )


__all__ = [
    "MergedPullRequest",
    "merged_pull_requests",
    "peer_approvers",
    "pull_requests_peer_approved",
]
