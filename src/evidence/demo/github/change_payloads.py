"""The JSON the fake GitHub serves for change control: classic branch protection, rulesets,
pull requests and their reviews, shaped as GitHub's OpenAPI description documents them."""

from __future__ import annotations

import urllib.parse
from typing import Any

from evidence.demo.github.model import (
    BranchProtection,
    PullRequest,
    Repository,
    Review,
    Ruleset,
    fake_sha,
    node_id,
)
from evidence.demo.github.payloads import GitHubPayloads


class GitHubChangePayloads(GitHubPayloads):
    """Payload builders for protection, rulesets, pull requests and reviews."""

    def _protection_payload(self, repo: Repository, branch: str, prot: BranchProtection) -> dict[str, Any]:
        quoted = urllib.parse.quote(branch, safe="")
        url = self._api(f"/repos/{self.org}/{repo.name}/branches/{quoted}/protection")
        out: dict[str, Any] = {"url": url}
        if prot.required_status_checks is not None:
            checks = prot.required_status_checks
            out["required_status_checks"] = {
                "url": f"{url}/required_status_checks",
                "strict": checks.strict,
                "contexts": list(checks.contexts),
                "contexts_url": f"{url}/required_status_checks/contexts",
                "checks": [{"context": c, "app_id": None} for c in checks.contexts],
            }
        if prot.required_pull_request_reviews is not None:
            reviews = prot.required_pull_request_reviews
            out["required_pull_request_reviews"] = {
                "url": f"{url}/required_pull_request_reviews",
                "dismiss_stale_reviews": reviews.dismiss_stale_reviews,
                "require_code_owner_reviews": reviews.require_code_owner_reviews,
                "required_approving_review_count": reviews.required_approving_review_count,
                "require_last_push_approval": reviews.require_last_push_approval,
            }
            if reviews.bypass_users:
                out["required_pull_request_reviews"]["bypass_pull_request_allowances"] = {
                    "users": [self._user(login) for login in reviews.bypass_users],
                    "teams": [],
                    "apps": [],
                }
        out["required_signatures"] = {
            "url": f"{url}/required_signatures",
            "enabled": prot.required_signatures,
        }
        out["enforce_admins"] = {"url": f"{url}/enforce_admins", "enabled": prot.enforce_admins}
        for name in (
            "required_linear_history",
            "allow_force_pushes",
            "allow_deletions",
            "block_creations",
            "required_conversation_resolution",
            "lock_branch",
            "allow_fork_syncing",
        ):
            out[name] = {"enabled": bool(getattr(prot, name))}
        return out

    def _ruleset_payload(self, ruleset: Ruleset, *, detail: bool, repo_level: bool) -> dict[str, Any]:
        if ruleset.source_type == "Organization":
            self_href = self._api(f"/orgs/{self.org}/rulesets/{ruleset.id}")
            html_href = f"{self.html_url}/organizations/{self.org}/settings/rules/{ruleset.id}"
        else:
            self_href = self._api(f"/repos/{ruleset.source}/rulesets/{ruleset.id}")
            html_href = f"{self.html_url}/{ruleset.source}/rules/{ruleset.id}"
        out: dict[str, Any] = {
            "id": ruleset.id,
            "name": ruleset.name,
            "target": ruleset.target,
            "source_type": ruleset.source_type,
            "source": ruleset.source,
            "enforcement": ruleset.enforcement,
            "node_id": node_id("RepositoryRuleset", ruleset.id),
            "_links": {"self": {"href": self_href}, "html": {"href": html_href}},
            "created_at": ruleset.created_at,
            "updated_at": ruleset.created_at,
        }
        if not detail:
            return out
        conditions: dict[str, Any] = {
            "ref_name": {"include": list(ruleset.include), "exclude": list(ruleset.exclude)}
        }
        if ruleset.source_type == "Organization":
            conditions["repository_name"] = {
                "include": list(ruleset.repository_include),
                "exclude": list(ruleset.repository_exclude),
                "protected": False,
            }
        out["conditions"] = conditions
        out["rules"] = [rule.payload() for rule in ruleset.rules]
        out["bypass_actors"] = [
            {"actor_id": a.actor_id, "actor_type": a.actor_type, "bypass_mode": a.bypass_mode}
            for a in ruleset.bypass_actors
        ]
        if repo_level:
            out["current_user_can_bypass"] = "never"
        return out

    def _pull_payload(self, repo: Repository, pull: PullRequest, *, full: bool) -> dict[str, Any]:
        api = self._api(f"/repos/{self.org}/{repo.name}")
        html = f"{self.html_url}/{self.org}/{repo.name}"
        url = f"{api}/pulls/{pull.number}"
        repo_payload = self._repo_payload(repo, "repository")
        base_sha = fake_sha("base", repo.id, pull.base, pull.created_at)
        out: dict[str, Any] = {
            "url": url,
            "id": pull.id,
            "node_id": node_id("PullRequest", pull.id),
            "html_url": f"{html}/pull/{pull.number}",
            "diff_url": f"{html}/pull/{pull.number}.diff",
            "patch_url": f"{html}/pull/{pull.number}.patch",
            "issue_url": f"{api}/issues/{pull.number}",
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self._user(pull.user),
            "body": pull.body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{self.org}:{pull.head}",
                "ref": pull.head,
                "sha": pull.head_sha,
                "user": self._user(self.org, org=True),
                "repo": repo_payload,
            },
            "base": {
                "label": f"{self.org}:{pull.base}",
                "ref": pull.base,
                "sha": base_sha,
                "user": self._user(self.org, org=True),
                "repo": repo_payload,
            },
            "_links": {
                "self": {"href": url},
                "html": {"href": f"{html}/pull/{pull.number}"},
                "issue": {"href": f"{api}/issues/{pull.number}"},
                "comments": {"href": f"{api}/issues/{pull.number}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{api}/statuses/{pull.head_sha}"},
            },
            "author_association": self._association(pull.user),
            "auto_merge": None,
            "draft": pull.draft,
        }
        if full:
            out.update(
                {
                    "merged": pull.merged,
                    "mergeable": None if pull.state == "closed" else True,
                    "rebaseable": None if pull.state == "closed" else True,
                    "mergeable_state": "unknown" if pull.state == "closed" else "clean",
                    "merged_by": self._user(pull.merged_by) if pull.merged_by else None,
                    "comments": 0,
                    "review_comments": 0,
                    "maintainer_can_modify": False,
                    "commits": 1,
                    "additions": 10,
                    "deletions": 2,
                    "changed_files": 1,
                }
            )
        return out

    def _review_payload(self, repo: Repository, pull: PullRequest, review: Review) -> dict[str, Any]:
        api = self._api(f"/repos/{self.org}/{repo.name}")
        html = f"{self.html_url}/{self.org}/{repo.name}/pull/{pull.number}#pullrequestreview-{review.id}"
        out: dict[str, Any] = {
            "id": review.id,
            "node_id": node_id("PullRequestReview", review.id),
            "user": self._user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": f"{api}/pulls/{pull.number}",
            "author_association": self._association(review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": f"{api}/pulls/{pull.number}"}},
            "commit_id": review.commit_id,
        }
        if review.submitted_at is not None:
            out["submitted_at"] = review.submitted_at
        return out
