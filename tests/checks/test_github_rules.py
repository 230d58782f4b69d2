"""The pure merge of classic branch protection and rulesets (`effective_rules`)."""

from __future__ import annotations

from typing import Any

import pytest

from evidence.checks.github_rules import effective_rules
from evidence.checks.inventory import FieldError
from tests.checks.githubrun import item, items


def _classic(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": "u",
        "enforce_admins": {"enabled": True},
        "allow_force_pushes": {"enabled": True},
        "allow_deletions": {"enabled": True},
    }
    base.update(kw)
    return base


def test_effective_rules_strongest_setting_wins() -> None:
    classic = _classic(
        required_pull_request_reviews={"required_approving_review_count": 1, "dismiss_stale_reviews": False},
        required_status_checks={"strict": False, "contexts": ["lint"], "checks": [{"context": "lint"}]},
    )
    rules = [
        {"type": "pull_request", "ruleset_id": 7, "ruleset_source_type": "Repository", "ruleset_source": "o/r",
         "parameters": {"required_approving_review_count": 2, "dismiss_stale_reviews_on_push": True}},
        {"type": "required_status_checks", "ruleset_id": 7, "ruleset_source_type": "Repository",
         "ruleset_source": "o/r", "parameters": {"strict_required_status_checks_policy": True,
                                                  "required_status_checks": [{"context": "ci"}]}},
        {"type": "non_fast_forward", "ruleset_id": 8, "ruleset_source_type": "Organization", "ruleset_source": "o"},
    ]
    eff = effective_rules(item(classic), items(rules), {7: item({"name": "main", "bypass_actors": []}), 8: None})
    r7 = "repository ruleset 7 'main' (o/r)"
    r8 = "organization ruleset 8 (o)"
    assert [s.label for s in eff.sources] == ["classic branch protection", r7, r8]
    assert (eff.approvals, eff.approvals_from) == (2, [r7])
    assert eff.dismiss_stale_from == [r7]
    assert eff.status_checks == {"lint": ["classic branch protection"], "ci": [r7]}
    assert eff.strict_from == [r7]
    assert eff.force_push_blocked_by == [r8] and eff.deletion_blocked_by == []
    assert (eff.unbypassable_approvals, eff.unbypassable_from) == (2, [r7])
    assert {s.label: s.bypass for s in eff.sources}[r8] == "unknown"


def test_effective_rules_of_an_unprotected_branch() -> None:
    eff = effective_rules(item({"protected": False, "status": 404, "message": "Branch not protected"}), [], {})
    assert not eff.protected and eff.approvals == 0 and not eff.force_push_blocked_by


def test_effective_rules_decisive_fields_missing_raise() -> None:
    """A field whose absence would read as "blocked" or "no bypass" is an error, never a pass."""
    classic = _classic(required_pull_request_reviews={"required_approving_review_count": 1,
                                                      "dismiss_stale_reviews": True})
    del classic["allow_force_pushes"]
    with pytest.raises(FieldError) as raised:
        effective_rules(item(classic), [], {})
    assert raised.value.field == "allow_force_pushes" and raised.value.record.endswith("record.json")
    # the status-check aspect does not read it
    assert not effective_rules(item(classic), [], {}, reviews=False).status_checks
    rule = {"type": "pull_request", "ruleset_id": 7, "parameters": {"required_approving_review_count": 1}}
    with pytest.raises(FieldError, match=r"\[0\]\.parameters\.dismiss_stale_reviews_on_push.* is missing"):
        effective_rules(None, items([rule]), {7: item({"bypass_actors": []})})
    with pytest.raises(FieldError, match="bypass_actors"):  # an object where a list belongs
        effective_rules(None, items([rule]), {7: item({"bypass_actors": {"actor_type": "Team"}})})
