"""What really protects a default branch: classic branch protection and ruleset rules merged.

The merge of classic branch protection (`repos/get-branch-protection`) and every active
ruleset rule for the branch (`repos/get-branch-rules`, repository and organisation rulesets
alike). The strongest value of each setting applies: approvals = the maximum, stale-review
dismissal / force-push and deletion blocking = any source, status checks = the union, strict
if any source is. Whether admins or others can bypass the review requirement is decided per
source: classic protection without `enforce_admins` (or with bypass allowances) and rulesets
with any bypass actor can be bypassed, so the requirement holds for everybody only when a
source that nobody can bypass requires at least `min_approvals`.

Every field read is decisive unless noted: missing or of the wrong type is a `FieldError`
naming the record and the field. Defaults are used only where GitHub leaves a field out when
it is off or empty, and always on the failing side (a missing `required_pull_request_reviews`
means pull requests are not required; missing `bypass_pull_request_allowances` means none).
`allow_force_pushes` and `allow_deletions` have no default: a missing one would read as
"blocked", which is a pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evidence.checks.inventory import FieldError, Item, kind_name

CLASSIC = "classic branch protection"


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


def classic_is_protected(classic: Item) -> bool:
    """A `repos/get-branch-protection` record that is a protection (not the recorded 404)."""
    return classic.need("protected", bool, True) is not False


def _strings(item: Item, name: str) -> list[str]:
    """The list of strings at `name` (a FieldError names an element that is not one)."""
    values = item.need(name, list)
    for n, value in enumerate(values):
        if not isinstance(value, str):
            at = f"{item.at}.{name}[{n}]" if item.at else f"{name}[{n}]"
            found = "null" if value is None else kind_name(type(value))
            raise FieldError(at, "a string", found, item.ev.path, item.resource_id)
    return [str(v) for v in values]


def _name_of(entry: Any) -> str:
    """A bypass allowance's user, team or app, for the message (descriptive only)."""
    if isinstance(entry, dict):
        for key in ("login", "slug", "name", "id"):
            if entry.get(key) is not None:
                return str(entry[key])
    return str(entry)


def _classic_source(classic: Item) -> RuleSource:
    reviews = "required_pull_request_reviews"
    allowances = f"{reviews}.bypass_pull_request_allowances"
    allowed = [
        f"{kind[:-1]} {_name_of(entry)}"
        for kind in ("users", "teams", "apps")
        for entry in (classic.need(f"{allowances}.{kind}", list, [])
                      if classic.need(allowances, dict, None) is not None else [])
    ]
    if allowed:
        return RuleSource(CLASSIC, "actors", "bypass allowances: " + ", ".join(allowed))
    if classic.need("enforce_admins.enabled", bool, False):
        return RuleSource(CLASSIC, "none")
    return RuleSource(CLASSIC, "admins", "enforce_admins is off: administrators are exempt")


def _classic(eff: EffectiveRules, classic: Item, *, reviews: bool, status_checks: bool) -> None:
    source = _classic_source(classic) if reviews else RuleSource(CLASSIC, "unknown", "not read")
    eff.sources.append(source)
    if reviews:
        if classic.need("required_pull_request_reviews", dict, None) is not None:
            count = classic.need("required_pull_request_reviews.required_approving_review_count", int, 0)
            eff._approvals(CLASSIC, count, source.bypass)
            if classic.need("required_pull_request_reviews.dismiss_stale_reviews", bool):
                eff.dismiss_stale_from.append(CLASSIC)
        if not classic.need("allow_force_pushes.enabled", bool):
            eff.force_push_blocked_by.append(CLASSIC)
        if not classic.need("allow_deletions.enabled", bool):
            eff.deletion_blocked_by.append(CLASSIC)
    if status_checks and classic.need("required_status_checks", dict, None) is not None:
        for context in _strings(classic, "required_status_checks.contexts"):
            eff._check(context, CLASSIC)
        for item in classic.parts("required_status_checks.checks"):
            eff._check(item.need("context", str), CLASSIC)
        if classic.need("required_status_checks.strict", bool, False):
            eff.strict_from.append(CLASSIC)


def ruleset_label(rule: Item, detail: Item | None) -> str:
    rid = rule.need("ruleset_id", int, None)
    kind = rule.need("ruleset_source_type", str, "Repository").lower()
    source = rule.need("ruleset_source", str, "")
    name = detail.need("name", str, "") if detail is not None else ""
    shown = f" '{name}'" if name else ""
    return f"{kind} ruleset {rid}{shown} ({source})"


def _ruleset_bypass(detail: Item | None) -> tuple[str, str]:
    if detail is None:
        return "unknown", "ruleset not readable"
    if detail.need("bypass_actors", list, None) is None:
        return "unknown", "bypass_actors not returned (needs write access to the ruleset)"
    actors = detail.parts("bypass_actors")
    if not actors:
        return "none", ""
    described = ", ".join(
        f"{a.need('actor_type', str)}"
        f"{'#' + str(actor_id) if (actor_id := a.need('actor_id', int, None)) is not None else ''}"
        f" ({a.need('bypass_mode', str, 'always')})"
        for a in actors
    )
    return "actors", described


def effective_rules(
    classic: Item | None,
    rules: Sequence[Item],
    rulesets: Mapping[int, Item | None],
    *,
    reviews: bool = True,
    status_checks: bool = True,
) -> EffectiveRules:
    """Merge classic protection and the branch's ruleset rules into one requirement.

    `classic` is the `repos/get-branch-protection` record (None when unknown), `rules` the
    items of the `repos/get-branch-rules` pages, `rulesets` the ruleset details
    (`repos/get-repo-ruleset` / `repos/get-org-ruleset`) by id, None for one not readable.
    Only the fields of the aspects asked for (`reviews`, `status_checks`) are read, so a
    malformed review setting is not an error of the status-check check. Raises `FieldError`.
    """
    eff = EffectiveRules()
    if classic is not None and classic_is_protected(classic):
        _classic(eff, classic, reviews=reviews, status_checks=status_checks)
    labels: dict[int | None, RuleSource] = {}
    for rule in rules:
        rid = rule.need("ruleset_id", int, None)
        if rid not in labels:
            detail = rulesets.get(rid) if rid is not None else None
            bypass, why = _ruleset_bypass(detail) if reviews else ("unknown", "not read")
            labels[rid] = RuleSource(ruleset_label(rule, detail), bypass, why)
            eff.sources.append(labels[rid])
        source = labels[rid]
        kind = rule.need("type", str)
        if kind == "pull_request" and reviews:
            count = rule.need("parameters.required_approving_review_count", int)
            eff._approvals(source.label, count, source.bypass)
            if rule.need("parameters.dismiss_stale_reviews_on_push", bool):
                eff.dismiss_stale_from.append(source.label)
        elif kind == "required_status_checks" and status_checks:
            for item in rule.parts("parameters.required_status_checks"):
                eff._check(item.need("context", str), source.label)
            if rule.need("parameters.strict_required_status_checks_policy", bool):
                eff.strict_from.append(source.label)
        elif kind == "non_fast_forward":
            eff.force_push_blocked_by.append(source.label)
        elif kind == "deletion":
            eff.deletion_blocked_by.append(source.label)
    return eff


def unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


__all__ = ["CLASSIC", "EffectiveRules", "FieldError", "RuleSource", "effective_rules", "ruleset_label", "unique"]
