"""What the GitHub token needs: each key's permissions, the kind of token, a failure's remedy."""

from __future__ import annotations

from evidence.collectors.github import GitHubCollector
from evidence.collectors.github_access import PERMISSIONS, remedy_for, token_kind
from evidence.registry import Registry


def test_permissions_name_classic_and_fine_grained_for_every_required_key(registry: Registry) -> None:
    assert registry.collectors["github"] is GitHubCollector
    required = {k for c in registry.checks.values() if c.source == "github" for k in c.requires}
    assert required <= set(PERMISSIONS)
    for key, perms in PERMISSIONS.items():
        assert key.startswith("github.") and "/" in key
        assert any(p.startswith("classic: ") for p in perms), key
        assert any(p.startswith("fine-grained: ") for p in perms) or key == "github.orgs/get", key
    assert "fine-grained: Administration: read" in PERMISSIONS["github.repos/get-branch-protection"]
    assert "role: organization owner" in PERMISSIONS["github.orgs/get"]
    assert GitHubCollector.permission_kind == "token permission"


def test_token_kind_is_named_from_the_documented_prefix_only() -> None:
    assert token_kind("github_pat_" + "x" * 40) == "fine-grained personal access token"
    assert token_kind("ghp_" + "x" * 36) == "classic personal access token"
    assert token_kind("ghs_abc") == "GitHub App installation token"
    assert token_kind("gho_abc") == "OAuth token"
    assert token_kind("ghu_abc") == "GitHub App user token"
    assert token_kind("something-else") == "token"


def test_remedies_name_the_permission_the_call_needs() -> None:
    protection = "github.repos/get-branch-protection"
    assert remedy_for(protection, 401, "Bad credentials", "GH_TOKEN").startswith("the token in $GH_TOKEN is invalid")
    assert "SAML single sign-on" in remedy_for(protection, 403, "Resource protected by organization SAML", "T")
    denied = remedy_for(protection, 403, "Resource not accessible by integration", "T")
    assert "classic: repo / fine-grained: Administration: read" in denied and "evidence permissions" in denied
    assert "may not read branch protection" in remedy_for(protection, 404, "Not Found", "T")
    assert "cannot see the resource" in remedy_for("github.pulls/list", 404, "Not Found", "T")
    assert "2fa_disabled filter" in remedy_for("github.orgs/list-members", 422, "Unprocessable", "T")
    assert remedy_for("github.pulls/get", 500, "oops", "T") == (
        "see GitHub's message; the call needs classic: repo / fine-grained: Pull requests: read")
