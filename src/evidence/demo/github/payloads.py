"""The JSON the fake GitHub serves for users, the organisation and repositories, with every
field GitHub's OpenAPI description requires (``simple-user``, ``organization-full``,
``minimal-repository``, ``full-repository``, ...)."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta
from typing import Any, Literal

from evidence.demo.github.model import BASE_TIME, Repository, iso_time, node_id, parse_time
from evidence.demo.github.state import GitHubState


class GitHubPayloads(GitHubState):
    """Payload builders for accounts and repositories (called with the state's lock held)."""

    # URL builders -------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.api_url + path

    def _user(self, login: str, *, org: bool = False) -> dict[str, Any]:
        ident = self.org_id if org else self._user_id_for(login)
        api = self._api("/users/" + login)
        return {
            "login": login,
            "id": ident,
            "node_id": node_id("Organization" if org else "User", ident),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{ident}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.html_url}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Organization" if org else ("Bot" if login.endswith("[bot]") else "User"),
            "user_view_type": "public",
            "site_admin": False,
        }

    def _org_payload(self) -> dict[str, Any]:
        api = self._api(f"/orgs/{self.org}")
        private = sum(1 for r in self.repos.values() if r.private)
        return {
            "login": self.org,
            "id": self.org_id,
            "node_id": node_id("Organization", self.org_id),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.org_id}?v=4",
            "description": None,
            "name": self.org,
            # company, location and email: absent (GitHub sends null; the description says string).
            "blog": f"{self.html_url}/{self.org}",
            "twitter_username": None,
            "is_verified": False,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": len(self.repos) - private,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": f"{self.html_url}/{self.org}",
            "created_at": iso_time(BASE_TIME),
            "updated_at": iso_time(BASE_TIME + timedelta(days=365)),
            "archived_at": None,
            "type": "Organization",
            "total_private_repos": private,
            "owned_private_repos": private,
            "private_gists": 0,
            "disk_usage": 1024 * len(self.repos),
            "collaborators": 0,
            "billing_email": None,
            "default_repository_permission": "read",
            "default_repository_branch": "main",
            "members_can_create_repositories": False,
            "two_factor_requirement_enabled": (
                self.two_factor_requirement_enabled if self.viewer_is_owner else None
            ),
            "members_allowed_repository_creation_type": "none",
            "members_can_create_public_repositories": False,
            "members_can_create_private_repositories": False,
            "members_can_create_internal_repositories": False,
            "members_can_create_pages": True,
            "members_can_create_public_pages": True,
            "members_can_create_private_pages": True,
            "members_can_fork_private_repositories": False,
            "web_commit_signoff_required": False,
            "deploy_keys_enabled_for_repositories": False,
            "plan": {
                "name": "team",
                "space": 976562499,
                "private_repos": 999999,
                "filled_seats": len(self.members),
                "seats": max(5, len(self.members)),
            },
        }


    def _repo_payload(
        self, repo: Repository, kind: Literal["minimal", "repository", "full"]
    ) -> dict[str, Any]:
        full_name = f"{self.org}/{repo.name}"
        api = self._api(f"/repos/{full_name}")
        html = f"{self.html_url}/{full_name}"
        host = urllib.parse.urlsplit(self.html_url).netloc or "github.com"
        pushed = max(
            [repo.created_at, *(p.updated_at for p in repo.pulls.values())], key=lambda s: parse_time(s)
        )
        open_issues = sum(1 for p in repo.pulls.values() if p.state == "open")
        out: dict[str, Any] = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": full_name,
            "private": repo.private,
            "owner": self._user(self.org, org=True),
            "html_url": html,
            "description": repo.description,
            "fork": repo.fork,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": repo.created_at,
            "updated_at": pushed,
            "pushed_at": pushed,
            "git_url": f"git://{host}/{full_name}.git",
            "ssh_url": f"git@{host}:{full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 1024,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "Python",
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": repo.archived,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": False,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": repo.visibility,
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
            "permissions": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True},
        }
        if kind != "minimal":
            out.update(
                {
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": False,
                    "delete_branch_on_merge": True,
                    "allow_update_branch": False,
                    "use_squash_pr_title_as_default": False,
                    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                    "squash_merge_commit_message": "COMMIT_MESSAGES",
                    "merge_commit_title": "MERGE_MESSAGE",
                    "merge_commit_message": "PR_TITLE",
                }
            )
        if kind == "full":
            out.update(
                {
                    "network_count": 0,
                    "subscribers_count": 0,
                    "organization": self._user(self.org, org=True),
                }
            )
        return out

    def _association(self, login: str) -> str:
        member = self.members.get(login.lower())
        if member is None:
            return "CONTRIBUTOR"
        return "OWNER" if member.role == "admin" else "MEMBER"
