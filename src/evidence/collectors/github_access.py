"""What the GitHub collector's token needs, and what to do when it falls short: the permissions
of each evidence key (a classic token's scope, a fine-grained token's or GitHub App's
permission, and the role the token's user needs where the permission alone is not enough),
the kind of token from its documented prefix, and the remedy of a failed call.
"""

from __future__ import annotations

from evidence.sources.github import (
    BRANCH_RULES,
    MEMBERS,
    ORG_GET,
    ORG_RULESET,
    PROTECTION,
    PULL,
    PULLS,
    REPO_RULESET,
    REPOS,
    REVIEWS,
)

_CLASSIC_REPO = "classic: repo"
_FG_METADATA = "fine-grained: Metadata: read"
_FG_ADMIN = "fine-grained: Administration: read"
_FG_PULLS = "fine-grained: Pull requests: read"
#: GitHub shows 2FA settings, members without 2FA and org rulesets to organization owners only
_OWNER = "role: organization owner"

#: evidence key -> the token permissions that call needs (`evidence permissions` prints these):
#: a classic token's scope, a fine-grained token's (or GitHub App's) permission, and the role
#: the token's user needs where the permission alone is not enough
PERMISSIONS: dict[str, tuple[str, ...]] = {
    ORG_GET: ("classic: admin:org", _OWNER),  # a fine-grained token needs no permission for it
    MEMBERS: ("classic: read:org", "fine-grained: Members (organization): read", _OWNER),
    REPOS: (_CLASSIC_REPO, _FG_METADATA),
    PROTECTION: (_CLASSIC_REPO, _FG_ADMIN),
    BRANCH_RULES: (_CLASSIC_REPO, _FG_METADATA),
    REPO_RULESET: (_CLASSIC_REPO, _FG_ADMIN),
    ORG_RULESET: ("classic: read:org", "fine-grained: Administration (organization): read", _OWNER),
    PULLS: (_CLASSIC_REPO, _FG_PULLS),
    PULL: (_CLASSIC_REPO, _FG_PULLS),
    REVIEWS: (_CLASSIC_REPO, _FG_PULLS),
}

_TOKEN_KINDS = (
    ("github_pat_", "fine-grained personal access token"),
    ("ghp_", "classic personal access token"),
    ("ghs_", "GitHub App installation token"),
    ("gho_", "OAuth token"),
    ("ghu_", "GitHub App user token"),
)


def token_kind(token: str) -> str:
    """What kind of token this is, from its documented prefix (never the token itself)."""
    for prefix, kind in _TOKEN_KINDS:
        if token.startswith(prefix):
            return kind
    return "token"


def needs(key: str) -> str:
    return " / ".join(PERMISSIONS.get(key, ()))


def remedy_for(key: str, status: int, message: str, token_env: str) -> str:
    """What to do about a failed call, naming the permission the call needs."""
    perms = needs(key)
    lowered = message.lower()
    if status == 401:
        return f"the token in ${token_env} is invalid, expired or revoked: create a new one ({perms})"
    if status == 403 and "saml" in lowered:
        return "authorize the token for the organization's SAML single sign-on, then grant " + perms
    if status == 403:
        return f"grant the token {perms} (see `evidence permissions --source github`)"
    if status == 404 and key == PROTECTION:
        return f"GitHub answers 404 when the token may not read branch protection: grant {perms} (repository admin)"
    if status == 404:
        return f"GitHub answers 404 when the token cannot see the resource: give it access and {perms}"
    if status == 422 and key == MEMBERS:
        return "the 2fa_disabled filter is only available to organization owners: use an owner's token with " + perms
    return f"see GitHub's message; the call needs {perms}"
