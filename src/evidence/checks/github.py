"""GitHub checks: review and CI requirements of default branches, the period's merged pull
requests, and two-factor authentication (CODE-REVIEW, CI-GATE, CODEHOST-MFA).

Pure functions of the records the GitHub collector wrote (`evidence.collectors.github`):

- what really protects a default branch is the merge of classic branch protection
  (`repos/get-branch-protection`) and every active ruleset rule for the branch
  (`repos/get-branch-rules`, repository and organisation rulesets alike). The strongest value
  of each setting applies: approvals = the maximum, stale-review dismissal / force-push and
  deletion blocking = any source, status checks = the union, strict if any source is.
  Whether admins or others can bypass the review requirement is decided per source: classic
  protection without `enforce_admins` (or with bypass allowances) and rulesets with any
  bypass actor can be bypassed, so the requirement holds for everybody only when a source
  that nobody can bypass requires at least `min_approvals`;
- the population of pull requests is every PR in the `pulls/list` pages of a repository whose
  `merged_at` falls in the period the collector paged back to (`period_start`/`period_end`,
  recorded with each page) and whose base is the repository's default branch.

`write_merged_pull_requests_csv` is a Runner hook: it writes that population, with the
approvers of each PR, to `github/merged-pull-requests.csv` in the bundle for sampling.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidence.checks.base import CheckContext, check
from evidence.models import EvidenceRecord, Finding, Status
from evidence.models import parse_time as parse_ts
from evidence.records import Evidence, EvidenceIndex
from evidence.spreadsheet import cell

if TYPE_CHECKING:
    from evidence.runner import RunResult

SOURCE = "github"

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

CLASSIC = "classic branch protection"


# --------------------------------------------------------------------------- small helpers




def window_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00Z, the day after end 00:00Z): the instants of a period's days, in UTC."""
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return lo, hi


def merged_in_window(pull: Mapping[str, Any], start: date, end: date) -> bool:
    """True when `pull` (a `pulls/list` item) was merged on a day from `start` to `end` (UTC)."""
    merged = parse_ts(pull.get("merged_at"))
    if merged is None:
        return False
    lo, hi = window_bounds(start, end)
    return lo <= merged < hi


def _failed(index: EvidenceIndex, key: str) -> list[EvidenceRecord]:
    """The failed records of `key` (the judge already made an error finding of each)."""
    return [index.load(e).record for e in index.entries_for(key) if not e.ok]


def _ok(index: EvidenceIndex, key: str) -> Iterator[Evidence]:
    for entry in index.entries_for(key):
        if entry.ok:
            yield index.load(entry)


def _page(ev: Evidence) -> int:
    value = ev.parameters.get("page", 1)
    return value if isinstance(value, int) else 1


@dataclass
class RepoListing:
    """A repository as the org listing showed it, and the page it was on."""

    full_name: str
    default_branch: str
    archived: bool
    listing: Evidence


def repositories(index: EvidenceIndex) -> list[RepoListing]:
    """Every repository of the `repos/list-for-org` pages, by full name."""
    seen: dict[str, RepoListing] = {}
    for ev in sorted(_ok(index, REPOS), key=_page):
        for repo in ev.response or []:
            name = str(repo.get("full_name") or "")
            if name:
                seen[name] = RepoListing(name, str(repo.get("default_branch") or ""), bool(repo.get("archived")), ev)
    return [seen[k] for k in sorted(seen)]


# --------------------------------------------------------------------------- effective rules


@dataclass(frozen=True)
class RuleSource:
    """One thing that protects a branch: classic protection or one ruleset."""

    label: str
    #: "none" (nobody can bypass), "admins", "actors" or "unknown" (could not be read)
    bypass: str
    bypass_detail: str = ""


@dataclass
class EffectiveRules:
    """What applies to a branch, each setting with the sources it comes from."""

    sources: list[RuleSource] = field(default_factory=list)
    pull_request_required_by: list[str] = field(default_factory=list)
    approvals: int = 0
    approvals_from: list[str] = field(default_factory=list)
    dismiss_stale_from: list[str] = field(default_factory=list)
    #: the most approvals a source nobody can bypass requires, and those sources
    unbypassable_approvals: int = 0
    unbypassable_from: list[str] = field(default_factory=list)
    #: approvals required by sources whose bypass actors could not be read
    unknown_bypass_approvals: dict[str, int] = field(default_factory=dict)
    status_checks: dict[str, list[str]] = field(default_factory=dict)
    strict_from: list[str] = field(default_factory=list)
    force_push_blocked_by: list[str] = field(default_factory=list)
    deletion_blocked_by: list[str] = field(default_factory=list)

    @property
    def protected(self) -> bool:
        return bool(self.sources)

    def _approvals(self, label: str, count: int, bypass: str) -> None:
        self.pull_request_required_by.append(label)
        if count > self.approvals:
            self.approvals, self.approvals_from = count, [label]
        elif count == self.approvals:
            self.approvals_from.append(label)
        if bypass == "none":
            if count > self.unbypassable_approvals or not self.unbypassable_from:
                self.unbypassable_approvals, self.unbypassable_from = count, [label]
            elif count == self.unbypassable_approvals:
                self.unbypassable_from.append(label)
        elif bypass == "unknown":
            self.unknown_bypass_approvals[label] = count

    def _check(self, context: str, label: str) -> None:
        by = self.status_checks.setdefault(context, [])
        if label not in by:
            by.append(label)


def classic_is_protected(response: Any) -> bool:
    """A `repos/get-branch-protection` response that is a protection (not the recorded 404)."""
    return isinstance(response, dict) and response.get("protected") is not False


def ruleset_label(rule: Mapping[str, Any], details: Mapping[int, Mapping[str, Any] | None]) -> str:
    rid = rule.get("ruleset_id")
    detail = details.get(rid) if isinstance(rid, int) else None
    kind = str(rule.get("ruleset_source_type") or "Repository").lower()
    source = rule.get("ruleset_source") or ""
    name = f" '{detail.get('name')}'" if detail and detail.get("name") else ""
    return f"{kind} ruleset {rid}{name} ({source})"


def _ruleset_bypass(detail: Mapping[str, Any] | None) -> tuple[str, str]:
    if detail is None:
        return "unknown", "ruleset not readable"
    actors = detail.get("bypass_actors")
    if actors is None:
        return "unknown", "bypass_actors not returned (needs write access to the ruleset)"
    if not actors:
        return "none", ""
    described = ", ".join(
        f"{a.get('actor_type')}{'#' + str(a['actor_id']) if a.get('actor_id') is not None else ''}"
        f" ({a.get('bypass_mode', 'always')})"
        for a in actors
    )
    return "actors", described


def effective_rules(
    classic: Any, rules: Sequence[Mapping[str, Any]], rulesets: Mapping[int, Mapping[str, Any] | None]
) -> EffectiveRules:
    """Merge classic protection and the branch's ruleset rules into one requirement.

    `classic` is the `repos/get-branch-protection` response (or None when unknown),
    `rules` the items of the `repos/get-branch-rules` pages, `rulesets` the ruleset details
    (`repos/get-repo-ruleset` / `repos/get-org-ruleset`) by id, None for one not readable.
    """
    eff = EffectiveRules()
    if classic_is_protected(classic):
        assert isinstance(classic, dict)
        reviews = classic.get("required_pull_request_reviews")
        enforce_admins = bool((classic.get("enforce_admins") or {}).get("enabled"))
        allowances = (reviews or {}).get("bypass_pull_request_allowances") or {}
        allowed = [
            f"{kind[:-1]} {item.get('login') or item.get('slug') or item.get('name') or item.get('id')}"
            for kind in ("users", "teams", "apps")
            for item in allowances.get(kind) or []
        ]
        if allowed:
            source = RuleSource(CLASSIC, "actors", "bypass allowances: " + ", ".join(allowed))
        elif enforce_admins:
            source = RuleSource(CLASSIC, "none")
        else:
            source = RuleSource(CLASSIC, "admins", "enforce_admins is off: administrators are exempt")
        eff.sources.append(source)
        if isinstance(reviews, dict):
            eff._approvals(CLASSIC, int(reviews.get("required_approving_review_count") or 0), source.bypass)
            if reviews.get("dismiss_stale_reviews"):
                eff.dismiss_stale_from.append(CLASSIC)
        checks = classic.get("required_status_checks")
        if isinstance(checks, dict):
            for context in checks.get("contexts") or []:
                eff._check(str(context), CLASSIC)
            for item in checks.get("checks") or []:
                if item.get("context"):
                    eff._check(str(item["context"]), CLASSIC)
            if checks.get("strict"):
                eff.strict_from.append(CLASSIC)
        if not (classic.get("allow_force_pushes") or {}).get("enabled"):
            eff.force_push_blocked_by.append(CLASSIC)
        if not (classic.get("allow_deletions") or {}).get("enabled"):
            eff.deletion_blocked_by.append(CLASSIC)
    labels: dict[Any, RuleSource] = {}
    for rule in rules:
        rid = rule.get("ruleset_id")
        if rid not in labels:
            bypass, detail = _ruleset_bypass(rulesets.get(rid) if isinstance(rid, int) else None)
            labels[rid] = RuleSource(ruleset_label(rule, rulesets), bypass, detail)
            eff.sources.append(labels[rid])
        source = labels[rid]
        params = rule.get("parameters") or {}
        kind = rule.get("type")
        if kind == "pull_request":
            eff._approvals(source.label, int(params.get("required_approving_review_count") or 0), source.bypass)
            if params.get("dismiss_stale_reviews_on_push"):
                eff.dismiss_stale_from.append(source.label)
        elif kind == "required_status_checks":
            for item in params.get("required_status_checks") or []:
                if item.get("context"):
                    eff._check(str(item["context"]), source.label)
            if params.get("strict_required_status_checks_policy"):
                eff.strict_from.append(source.label)
        elif kind == "non_fast_forward":
            eff.force_push_blocked_by.append(source.label)
        elif kind == "deletion":
            eff.deletion_blocked_by.append(source.label)
    return eff


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------- per-repository view


@dataclass
class BranchEvidence:
    """Everything collected about one repository's default branch."""

    repo: RepoListing
    classic: Evidence | None = None
    rules: list[Evidence] = field(default_factory=list)
    rulesets: dict[int, Evidence] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # keys whose collection failed for this repo
    unreadable_rulesets: set[int] = field(default_factory=set)

    @property
    def evidence(self) -> list[Evidence]:
        out = [self.repo.listing, *self.rules, *self.rulesets.values()]
        if self.classic is not None:
            out.append(self.classic)
        return out

    def rule_items(self) -> list[dict[str, Any]]:
        return [item for ev in sorted(self.rules, key=_page) for item in ev.response or []]

    def ruleset_details(self) -> dict[int, Mapping[str, Any] | None]:
        out: dict[int, Mapping[str, Any] | None] = {}
        for item in self.rule_items():
            rid = item.get("ruleset_id")
            if isinstance(rid, int):
                ev = self.rulesets.get(rid)
                out[rid] = ev.response if ev is not None and isinstance(ev.response, dict) else None
        return out


def branch_evidence(index: EvidenceIndex, *, with_rulesets: bool) -> list[BranchEvidence]:
    """Per repository of the listing: its protection, rules and ruleset records."""
    views = {r.full_name: BranchEvidence(r) for r in repositories(index)}
    for ev in _ok(index, PROTECTION):
        view = views.get(ev.record.subject)
        if view is not None and ev.parameters.get("branch") == view.repo.default_branch:
            view.classic = ev
    for ev in _ok(index, BRANCH_RULES):
        view = views.get(ev.record.subject)
        if view is not None and ev.parameters.get("branch") == view.repo.default_branch:
            view.rules.append(ev)
    keys = [PROTECTION, BRANCH_RULES]
    if with_rulesets:
        by_id: dict[int, Evidence] = {}
        for key in (REPO_RULESET, ORG_RULESET):
            for ev in _ok(index, key):
                rid = ev.parameters.get("ruleset_id")
                if isinstance(rid, int):
                    by_id[rid] = ev
        unreadable = {
            rid for key in (REPO_RULESET, ORG_RULESET) for rec in _failed(index, key)
            if isinstance(rid := rec.parameters.get("ruleset_id"), int)
        }
        for view in views.values():
            for item in view.rule_items():
                rid = item.get("ruleset_id")
                if isinstance(rid, int):
                    if rid in by_id:
                        view.rulesets[rid] = by_id[rid]
                    elif rid in unreadable:
                        view.unreadable_rulesets.add(rid)
    for key in keys:
        for rec in _failed(index, key):
            view = views.get(rec.subject)
            if view is not None:
                view.failed.append(key)
    return [views[k] for k in sorted(views)]


def _archived(ctx: CheckContext, view: BranchEvidence) -> Finding:
    return ctx.finding(
        Status.NOT_APPLICABLE,
        resource_id=view.repo.full_name,
        message=f"{view.repo.full_name} is archived (read-only): listed, not judged.",
        observed="archived",
        expected="non-archived repositories are judged",
        evidence=[view.repo.listing],
    )


def _not_collected(ctx: CheckContext, view: BranchEvidence, what: str) -> Finding:
    return ctx.finding(
        Status.ERROR,
        resource_id=view.repo.full_name,
        message=f"The {what} of {view.repo.full_name}'s default branch {view.repo.default_branch!r} "
        "was not collected, so it cannot be judged.",
        observed="not collected",
        expected=f"{what} collected",
        evidence=[view.repo.listing],
    )


def _judgeable(ctx: CheckContext, view: BranchEvidence) -> Finding | bool:
    """A finding that settles the repo without judging it, False to skip it, True to judge."""
    if view.repo.archived:
        return _archived(ctx, view)
    if view.failed:
        return False  # the judge made the error finding from the failed record, with its remedy
    if view.classic is None:
        return _not_collected(ctx, view, "classic branch protection")
    if not view.rules:
        return _not_collected(ctx, view, "ruleset rules")
    return True


# --------------------------------------------------------------------------- checks: branches


@check(
    id="github.branch_protection_reviews",
    source=SOURCE,
    description=(
        "Each non-archived repository's default branch requires pull requests with >= min_approvals "
        "approvals, dismisses stale approvals, lets nobody (admins included) bypass that, and blocks "
        "force pushes and deletion (classic protection and rulesets merged)."
    ),
    requires=(REPOS, PROTECTION, BRANCH_RULES, REPO_RULESET, ORG_RULESET),
    params={"min_approvals": 1},
    resource_type="github_repository",
)
def branch_protection_reviews(ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.params["min_approvals"])
    for view in branch_evidence(ctx.index, with_rulesets=True):
        verdict = _judgeable(ctx, view)
        if verdict is False:
            continue
        if isinstance(verdict, Finding):
            yield verdict
            continue
        assert view.classic is not None
        eff = effective_rules(view.classic.response, view.rule_items(), view.ruleset_details())
        name, branch = view.repo.full_name, view.repo.default_branch
        problems: list[str] = []
        unknown: list[str] = []
        if not eff.pull_request_required_by:
            problems.append("pull requests are not required")
        elif eff.approvals < minimum:
            problems.append(f"{eff.approvals} approval(s) required, fewer than {minimum}")
        if not eff.dismiss_stale_from:
            problems.append("stale approvals are not dismissed when new commits are pushed")
        if eff.pull_request_required_by and eff.approvals >= minimum and eff.unbypassable_approvals < minimum:
            maybe = [label for label, n in eff.unknown_bypass_approvals.items() if n >= minimum]
            if maybe:
                unknown.append("who can bypass " + ", ".join(maybe) + " could not be read")
            else:
                who = "; ".join(
                    f"{src.label}: {src.bypass_detail or src.bypass}"
                    for src in eff.sources
                    if src.bypass != "none" and src.label in eff.pull_request_required_by
                )
                problems.append(f"administrators or bypass actors can merge without the required approvals ({who})")
        if not eff.force_push_blocked_by:
            problems.append("force pushes are allowed")
        if not eff.deletion_blocked_by:
            problems.append("the branch can be deleted")
        observed = {
            "default_branch": branch,
            "protected_by": [s.label for s in eff.sources],
            "pull_request_required": bool(eff.pull_request_required_by),
            "pull_request_required_by": _unique(eff.pull_request_required_by),
            "required_approvals": eff.approvals,
            "required_approvals_from": _unique(eff.approvals_from),
            "dismiss_stale_reviews": bool(eff.dismiss_stale_from),
            "dismiss_stale_reviews_from": _unique(eff.dismiss_stale_from),
            "approvals_nobody_can_bypass": eff.unbypassable_approvals,
            "approvals_nobody_can_bypass_from": _unique(eff.unbypassable_from),
            "bypass": {s.label: s.bypass_detail or s.bypass for s in eff.sources},
            "force_pushes_blocked": bool(eff.force_push_blocked_by),
            "force_pushes_blocked_by": _unique(eff.force_push_blocked_by),
            "deletion_blocked": bool(eff.deletion_blocked_by),
            "deletion_blocked_by": _unique(eff.deletion_blocked_by),
        }
        expected = {
            "pull_request_required": True,
            "required_approvals": f">= {minimum}",
            "dismiss_stale_reviews": True,
            "approvals_nobody_can_bypass": f">= {minimum} (admins not exempt, no bypass actors)",
            "force_pushes_blocked": True,
            "deletion_blocked": True,
        }
        where = f"{name}: default branch {branch!r}"
        if not eff.protected:
            status = Status.FAIL
            message = f"{where} has no branch protection and no ruleset."
        elif problems:
            status = Status.FAIL
            message = f"{where}: " + "; ".join(problems) + "."
        elif unknown:
            status = Status.ERROR
            message = (
                f"{where}: " + "; ".join(unknown) + ". Remedy: GitHub returns bypass_actors only to a "
                "token with write access to the ruleset (repository admin / organization owner)."
            )
        else:
            status = Status.PASS
            message = (
                f"{where} requires pull requests with {eff.approvals} approval(s) nobody can bypass, "
                "dismisses stale approvals and blocks force pushes and deletion."
            )
        yield ctx.finding(
            status, resource_id=name, message=message, observed=observed, expected=expected, evidence=view.evidence
        )


@check(
    id="github.branch_protection_status_checks",
    source=SOURCE,
    description=(
        "Each non-archived repository's default branch requires >= min_status_checks status checks "
        "and, with require_up_to_date, the branch to be up to date before merging."
    ),
    requires=(REPOS, PROTECTION, BRANCH_RULES),
    params={"min_status_checks": 1, "require_up_to_date": True},
    resource_type="github_repository",
)
def branch_protection_status_checks(ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.params["min_status_checks"])
    up_to_date = bool(ctx.params["require_up_to_date"])
    for view in branch_evidence(ctx.index, with_rulesets=False):
        verdict = _judgeable(ctx, view)
        if verdict is False:
            continue
        if isinstance(verdict, Finding):
            yield verdict
            continue
        assert view.classic is not None
        eff = effective_rules(view.classic.response, view.rule_items(), {})
        name, branch = view.repo.full_name, view.repo.default_branch
        problems: list[str] = []
        if len(eff.status_checks) < minimum:
            problems.append(f"{len(eff.status_checks)} required status check(s), fewer than {minimum}")
        if up_to_date and not eff.strict_from:
            problems.append("the branch need not be up to date before merging")
        observed = {
            "default_branch": branch,
            "protected_by": [s.label for s in eff.sources],
            "required_status_checks": {k: eff.status_checks[k] for k in sorted(eff.status_checks)},
            "up_to_date_before_merging": bool(eff.strict_from),
            "up_to_date_required_by": _unique(eff.strict_from),
        }
        expected = {
            "required_status_checks": f">= {minimum}",
            "up_to_date_before_merging": True if up_to_date else "not required",
        }
        where = f"{name}: default branch {branch!r}"
        if not eff.protected:
            status, message = Status.FAIL, f"{where} has no branch protection and no ruleset."
        elif problems:
            status, message = Status.FAIL, f"{where}: " + "; ".join(problems) + "."
        else:
            status = Status.PASS
            message = f"{where} requires status checks {', '.join(sorted(eff.status_checks))}" + (
                " on an up-to-date branch before merging." if eff.strict_from else " before merging."
            )
        yield ctx.finding(
            status, resource_id=name, message=message, observed=observed, expected=expected, evidence=view.evidence
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
    #: None when the reviews could not be collected
    approvers: list[str] | None
    reviews: list[dict[str, Any]]
    evidence: list[Evidence]
    reviews_failed: bool = False

    @property
    def resource_id(self) -> str:
        return f"{self.repo}#{self.number}"

    @property
    def peer_approved(self) -> bool | None:
        return None if self.approvers is None else bool(self.approvers)


def peer_approvers(author: str, merged_at: str, reviews: Sequence[Mapping[str, Any]]) -> list[str]:
    """Who approved a PR before it was merged, other than its author (and other than bots).

    Per reviewer the latest of their APPROVED / CHANGES_REQUESTED / DISMISSED reviews submitted
    at or before the merge counts (a COMMENTED review does not withdraw an approval).
    """
    merged = parse_ts(merged_at)
    latest: dict[str, tuple[datetime, int, str]] = {}
    for review in reviews:
        user = review.get("user") or {}
        login = str(user.get("login") or "")
        state = str(review.get("state") or "")
        submitted = parse_ts(review.get("submitted_at"))
        if not login or submitted is None or state not in {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}:
            continue
        if login.lower() == author.lower() or user.get("type") == "Bot":
            continue
        if merged is not None and submitted > merged:
            continue
        key = (submitted, int(review.get("id") or 0), state)
        if login not in latest or key[:2] >= latest[login][:2]:
            latest[login] = key
    return sorted(login for login, (_, _, state) in latest.items() if state == "APPROVED")


def merged_pull_requests(index: EvidenceIndex) -> tuple[list[MergedPullRequest], list[Evidence]]:
    """The period's merged PRs (sorted by repository and number) and the listing pages seen."""
    defaults = {r.full_name: r.default_branch for r in repositories(index)}
    listings = sorted(_ok(index, PULLS), key=lambda ev: (ev.record.subject, _page(ev)))
    found: dict[tuple[str, int], tuple[dict[str, Any], Evidence]] = {}
    for ev in listings:
        start, end = ev.parameters.get("period_start"), ev.parameters.get("period_end")
        if not isinstance(start, str) or not isinstance(end, str):
            continue
        lo, hi = date.fromisoformat(start), date.fromisoformat(end)
        repo = ev.record.subject
        for pull in ev.response or []:
            base = str((pull.get("base") or {}).get("ref") or "")
            if repo in defaults and base != defaults[repo]:
                continue
            if merged_in_window(pull, lo, hi):
                found.setdefault((repo, int(pull["number"])), (pull, ev))
    details: dict[str, Evidence] = {ev.record.subject: ev for ev in _ok(index, PULL)}
    reviews: dict[str, list[Evidence]] = {}
    for ev in _ok(index, REVIEWS):
        reviews.setdefault(ev.record.subject, []).append(ev)
    failed = {rec.subject for rec in _failed(index, REVIEWS)}
    out: list[MergedPullRequest] = []
    for (repo, number), (pull, listing) in sorted(found.items()):
        subject = f"{repo}#{number}"
        detail = details.get(subject)
        merged_by = ""
        if detail is not None and isinstance(detail.response, dict):
            merged_by = str((detail.response.get("merged_by") or {}).get("login") or "")
        pages = sorted(reviews.get(subject, []), key=_page)
        items = [r for ev in pages for r in ev.response or []]
        author = str((pull.get("user") or {}).get("login") or "")
        merged_at = str(pull.get("merged_at") or "")
        complete = bool(pages) and subject not in failed
        out.append(
            MergedPullRequest(
                repo=repo,
                number=number,
                title=str(pull.get("title") or ""),
                author=author,
                merged_at=merged_at,
                merged_by=merged_by,
                base=str((pull.get("base") or {}).get("ref") or ""),
                approvers=peer_approvers(author, merged_at, items) if complete else None,
                reviews=[
                    {
                        "user": str((r.get("user") or {}).get("login") or ""),
                        "state": r.get("state"),
                        "submitted_at": r.get("submitted_at"),
                    }
                    for r in items
                ],
                evidence=[listing, *([detail] if detail is not None else []), *pages],
                reviews_failed=subject in failed,
            )
        )
    return out, listings


@check(
    id="github.pull_requests_peer_approved",
    source=SOURCE,
    description=(
        "Every pull request merged into a default branch during the period was approved, before it "
        "was merged, by someone other than its author."
    ),
    requires=(REPOS, PULLS, PULL, REVIEWS),
    resource_type="github_pull_request",
)
def pull_requests_peer_approved(ctx: CheckContext) -> Iterator[Finding]:
    population, listings = merged_pull_requests(ctx.index)
    if not population and listings:
        yield ctx.finding(
            Status.NOT_APPLICABLE,
            resource_id=listings[0].account or SOURCE,
            message="No pull request was merged into a default branch during the period; the listings are "
            "the evidence.",
            observed="0 merged pull requests",
            expected="every merged pull request approved by a peer",
            evidence=listings,
        )
    for pr in population:
        if pr.reviews_failed:
            continue  # the judge made the error finding from the failed record
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
        yield ctx.finding(
            status,
            resource_id=pr.resource_id,
            message=message,
            observed=observed,
            expected=expected,
            evidence=pr.evidence,
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


def write_merged_pull_requests_csv(result: RunResult, folder: Path) -> None:
    """Runner hook: `github/merged-pull-requests.csv`, the period's merged PRs, for sampling.

    Written only when pull requests were listed in this run.
    """
    index = result.index if result.index is not None else EvidenceIndex.from_bundle(folder)
    if not index.entries_for(PULLS):
        return
    population, _ = merged_pull_requests(index)
    target = folder / POPULATION_CSV
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(population_csv(population), encoding="utf-8")


# --------------------------------------------------------------------------- two-factor


@check(
    id="github.org_2fa_required",
    source=SOURCE,
    description="The GitHub organisation requires two-factor authentication of its members.",
    requires=(ORG_GET,),
    resource_type="github_organization",
)
def org_2fa_required(ctx: CheckContext) -> Iterator[Finding]:
    for ev in ctx.evidence(ORG_GET):
        org = ev.response if isinstance(ev.response, dict) else {}
        login = str(org.get("login") or ev.account)
        value = org.get("two_factor_requirement_enabled")
        if value is True:
            status, message = Status.PASS, f"Organisation {login} requires two-factor authentication."
        elif value is False:
            status, message = Status.FAIL, f"Organisation {login} does not require two-factor authentication."
        else:
            status = Status.ERROR
            message = (
                f"GitHub did not show whether organisation {login} requires two-factor authentication. "
                "Remedy: it shows two_factor_requirement_enabled only to an organisation owner's token "
                "(classic: admin:org)."
            )
        yield ctx.finding(
            status,
            resource_id=login,
            message=message,
            observed={"two_factor_requirement_enabled": value},
            expected={"two_factor_requirement_enabled": True},
            evidence=[ev],
        )


@check(
    id="github.members_without_2fa",
    source=SOURCE,
    description="No member of the GitHub organisation is without two-factor authentication.",
    requires=(MEMBERS,),
    resource_type="github_member",
)
def members_without_2fa(ctx: CheckContext) -> Iterator[Finding]:
    everyone: dict[str, Evidence] = {}
    without: dict[str, Evidence] = {}
    for ev in ctx.evidence(MEMBERS):
        target = without if ev.parameters.get("filter") == "2fa_disabled" else everyone
        for member in ev.response or []:
            login = str(member.get("login") or "")
            if login:
                target.setdefault(login, ev)
    failed_filters = {rec.parameters.get("filter") for rec in _failed(ctx.index, MEMBERS)}
    if "2fa_disabled" in failed_filters:
        everyone = {}  # who lacks 2FA is unknown: the judge reports the failed listing as an error
    disabled_listed = any(ev.parameters.get("filter") == "2fa_disabled" for ev in ctx.evidence(MEMBERS))
    if everyone and not disabled_listed and "2fa_disabled" not in failed_filters:
        org = next(iter(everyone.values())).account
        yield ctx.finding(
            Status.ERROR,
            resource_id=org or SOURCE,
            account=org,
            message="The members without two-factor authentication (filter=2fa_disabled) were not listed, "
            "so the members cannot be judged.",
            observed="not collected",
            expected="members with filter=2fa_disabled listed",
            evidence=sorted({ev.path for ev in everyone.values()}),
        )
        return
    for login in sorted(set(everyone) | set(without), key=str.lower):
        if login in without:
            yield ctx.finding(
                Status.FAIL,
                resource_id=login,
                account=without[login].account,
                message=f"{login} is a member of {without[login].account} without two-factor authentication.",
                observed={"two_factor": False},
                expected={"two_factor": True},
                evidence=[without[login], *([everyone[login]] if login in everyone else [])],
            )
        elif disabled_listed:
            yield ctx.finding(
                Status.PASS,
                resource_id=login,
                account=everyone[login].account,
                message=f"{login} is not among the members without two-factor authentication.",
                observed={"two_factor": True},
                expected={"two_factor": True},
                evidence=[everyone[login]],
            )
