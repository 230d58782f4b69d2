"""GitHub checks of default branches: review requirements (CODE-REVIEW) and required status
checks (CI-GATE), each judging every repository of the organisation's listing.

A repository is judged from its default branch's classic protection record and the pages of
its active ruleset rules (merged by `github_rules.effective_rules`). An archived repository is
listed but left out on purpose (read-only), saying so. A repository whose protection or rules
could not be collected, or whose rules page does not hold its rules where declared, gets no
verdict here: the judge makes its `error` finding from the failed record (with its remedy) or
the malformed page, and that finding covers the repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from evidence.checks.base import CheckContext, check
from evidence.checks.github_common import (
    BRANCH_RULE_ITEMS,
    ORG_RULESETS,
    PROTECTIONS,
    REPO_RULESETS,
    REPOSITORIES,
    about,
    failed_subjects,
    once,
    page_number,
)
from evidence.checks.github_rules import EffectiveRules, effective_rules, unique
from evidence.checks.inventory import FieldError, Item
from evidence.checks.params import Params
from evidence.models import Finding, Status
from evidence.records import Evidence
from evidence.sources.github import BRANCH_RULES, PROTECTION, SOURCE


@dataclass
class Branch:
    """Everything collected about one repository's default branch."""

    repo: Item
    branch: str
    classic: Item | None = None
    rules: list[Item] = field(default_factory=list)
    rule_pages: list[Evidence] = field(default_factory=list)
    rulesets: dict[int, Item | None] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.repo.resource_id

    @property
    def evidence(self) -> list[Evidence]:
        out = [self.repo.ev, *self.rule_pages, *(r.ev for r in self.rulesets.values() if r is not None)]
        if self.classic is not None:
            out.append(self.classic.ev)
        return out


class BranchEvidence:
    """The protection, rules and ruleset records of every repository, read once per check."""

    def __init__(self, ctx: CheckContext[Any], *, with_rulesets: bool) -> None:
        self.ctx = ctx
        self.with_rulesets = with_rulesets
        self.protections = {(i.ev.record.subject, i.ev.parameters.get("branch")): i for i in ctx.items(PROTECTIONS)}
        rules = ctx.listing(BRANCH_RULE_ITEMS)
        self.pages: dict[tuple[str, Any], list[Evidence]] = {}
        for ev in sorted(rules.pages, key=page_number):
            self.pages.setdefault((ev.record.subject, ev.parameters.get("branch")), []).append(ev)
        self.rules: dict[tuple[str, Any], list[Item]] = {}
        for item in sorted(rules.items, key=lambda i: page_number(i.ev)):
            self.rules.setdefault((item.ev.record.subject, item.ev.parameters.get("branch")), []).append(item)
        #: repositories whose protection or rules call failed, or whose rules page is malformed:
        #: the judge reports those, with the record or page
        self.reported = failed_subjects(ctx.index, PROTECTION) | failed_subjects(ctx.index, BRANCH_RULES)
        self.reported |= {p.ev.record.subject for p in rules.problems}
        self.rulesets: dict[int, Item] = {}
        self.unreadable: set[int] = set()
        if with_rulesets:
            for inv in (REPO_RULESETS, ORG_RULESETS):
                for item in ctx.items(inv):
                    if isinstance(rid := item.ev.parameters.get("ruleset_id"), int):
                        self.rulesets[rid] = item
                for entry in ctx.index.entries_for(inv.key):
                    rid = ctx.index.load(entry).parameters.get("ruleset_id") if not entry.ok else None
                    if isinstance(rid, int):
                        self.unreadable.add(rid)

    def settle(self, repo: Item) -> Branch | Finding | None:
        """The branch to judge, or a finding that settles the repository without judging it,
        or None when the judge reports it (a failed call or a malformed page)."""
        name = repo.resource_id
        if repo.need("archived", bool, False):
            return self.ctx.finding(
                Status.NOT_APPLICABLE, resource_id=name, message=f"{name} is archived (read-only): listed, not judged.",
                observed="archived", expected="non-archived repositories are judged", evidence=[repo.ev],
            )
        branch = Branch(repo, repo.need("default_branch", str))
        if name in self.reported:
            return None
        key = (name, branch.branch)
        branch.classic = self.protections.get(key)
        if branch.classic is None:
            return self._not_collected(branch, "classic branch protection")
        branch.rule_pages = self.pages.get(key, [])
        if not branch.rule_pages:
            return self._not_collected(branch, "ruleset rules")
        branch.rules = self.rules.get(key, [])
        if self.with_rulesets:
            for rule in branch.rules:
                rid = rule.need("ruleset_id", int, None)
                if rid is not None and (rid in self.rulesets or rid in self.unreadable):
                    branch.rulesets[rid] = self.rulesets.get(rid)
        return branch

    def _not_collected(self, branch: Branch, what: str) -> Finding:
        return self.ctx.finding(
            Status.ERROR,
            resource_id=branch.name,
            message=f"The {what} of {branch.name}'s default branch {branch.branch!r} was not collected, so it "
            "cannot be judged.",
            observed="not collected",
            expected=f"{what} collected",
            evidence=[branch.repo.ev],
        )

    def effective(self, branch: Branch, *, reviews: bool) -> EffectiveRules:
        """The merged rules; a field that cannot be read is an error of this repository."""
        try:
            return effective_rules(branch.classic, branch.rules, branch.rulesets, reviews=reviews,
                                   status_checks=not reviews)
        except FieldError as exc:
            raise about(exc) from None


class ReviewParams(Params):
    min_approvals: int = Field(
        1, ge=1, le=10,
        description="Approvals a pull request into the default branch must have (GitHub allows at most 10).",
    )


class StatusCheckParams(Params):
    min_status_checks: int = Field(1, ge=1, description="Status checks the default branch must require.")
    require_up_to_date: bool = Field(
        True, description="Whether the branch must be up to date with the default branch before merging."
    )


@check(
    id="github.branch_protection_reviews",
    source=SOURCE,
    description=(
        "Each non-archived repository's default branch requires pull requests with >= min_approvals "
        "approvals, dismisses stale approvals, lets nobody (admins included) bypass that, and blocks "
        "force pushes and deletion (classic protection and rulesets merged)."
    ),
    inventory=REPOSITORIES,
    listings=(PROTECTIONS, BRANCH_RULE_ITEMS, REPO_RULESETS, ORG_RULESETS),
    params=ReviewParams,
)
def branch_protection_reviews(ctx: CheckContext[ReviewParams]) -> Iterator[Finding]:
    minimum = ctx.params.min_approvals
    seen = BranchEvidence(ctx, with_rulesets=True)

    def one(repo: Item) -> Iterable[Finding]:
        branch = seen.settle(repo)
        if not isinstance(branch, Branch):
            return [] if branch is None else [branch]
        return [_reviews(ctx, branch, seen.effective(branch, reviews=True), minimum)]

    yield from ctx.each(once(ctx.items(REPOSITORIES)), one)


def _reviews(ctx: CheckContext[ReviewParams], branch: Branch, eff: EffectiveRules, minimum: int) -> Finding:
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
        "default_branch": branch.branch,
        "protected_by": [s.label for s in eff.sources],
        "pull_request_required": bool(eff.pull_request_required_by),
        "pull_request_required_by": unique(eff.pull_request_required_by),
        "required_approvals": eff.approvals,
        "required_approvals_from": unique(eff.approvals_from),
        "dismiss_stale_reviews": bool(eff.dismiss_stale_from),
        "dismiss_stale_reviews_from": unique(eff.dismiss_stale_from),
        "approvals_nobody_can_bypass": eff.unbypassable_approvals,
        "approvals_nobody_can_bypass_from": unique(eff.unbypassable_from),
        "bypass": {s.label: s.bypass_detail or s.bypass for s in eff.sources},
        "force_pushes_blocked": bool(eff.force_push_blocked_by),
        "force_pushes_blocked_by": unique(eff.force_push_blocked_by),
        "deletion_blocked": bool(eff.deletion_blocked_by),
        "deletion_blocked_by": unique(eff.deletion_blocked_by),
    }
    expected = {
        "pull_request_required": True,
        "required_approvals": f">= {minimum}",
        "dismiss_stale_reviews": True,
        "approvals_nobody_can_bypass": f">= {minimum} (admins not exempt, no bypass actors)",
        "force_pushes_blocked": True,
        "deletion_blocked": True,
    }
    where = f"{branch.name}: default branch {branch.branch!r}"
    if not eff.protected:
        status, message = Status.FAIL, f"{where} has no branch protection and no ruleset."
    elif problems:
        status, message = Status.FAIL, f"{where}: " + "; ".join(problems) + "."
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
    return ctx.finding(
        status, resource_id=branch.name, message=message, observed=observed, expected=expected,
        evidence=branch.evidence,
    )


@check(
    id="github.branch_protection_status_checks",
    source=SOURCE,
    description=(
        "Each non-archived repository's default branch requires >= min_status_checks status checks "
        "and, with require_up_to_date, the branch to be up to date before merging."
    ),
    inventory=REPOSITORIES,
    listings=(PROTECTIONS, BRANCH_RULE_ITEMS),
    params=StatusCheckParams,
)
def branch_protection_status_checks(ctx: CheckContext[StatusCheckParams]) -> Iterator[Finding]:
    minimum = ctx.params.min_status_checks
    up_to_date = ctx.params.require_up_to_date
    seen = BranchEvidence(ctx, with_rulesets=False)

    def one(repo: Item) -> Iterable[Finding]:
        branch = seen.settle(repo)
        if not isinstance(branch, Branch):
            return [] if branch is None else [branch]
        eff = seen.effective(branch, reviews=False)
        problems: list[str] = []
        if len(eff.status_checks) < minimum:
            problems.append(f"{len(eff.status_checks)} required status check(s), fewer than {minimum}")
        if up_to_date and not eff.strict_from:
            problems.append("the branch need not be up to date before merging")
        observed = {
            "default_branch": branch.branch,
            "protected_by": [s.label for s in eff.sources],
            "required_status_checks": {k: eff.status_checks[k] for k in sorted(eff.status_checks)},
            "up_to_date_before_merging": bool(eff.strict_from),
            "up_to_date_required_by": unique(eff.strict_from),
        }
        expected = {
            "required_status_checks": f">= {minimum}",
            "up_to_date_before_merging": True if up_to_date else "not required",
        }
        where = f"{branch.name}: default branch {branch.branch!r}"
        if not eff.protected:
            status, message = Status.FAIL, f"{where} has no branch protection and no ruleset."
        elif problems:
            status, message = Status.FAIL, f"{where}: " + "; ".join(problems) + "."
        else:
            status = Status.PASS
            message = f"{where} requires status checks {', '.join(sorted(eff.status_checks))}" + (
                " on an up-to-date branch before merging." if eff.strict_from else " before merging."
            )
        return [ctx.finding(status, resource_id=branch.name, message=message, observed=observed,
                            expected=expected, evidence=branch.evidence)]

    yield from ctx.each(once(ctx.items(REPOSITORIES)), one)
