"""What the GitHub collector fetches from one organisation, in order, each call recorded.

Every call, or page, is an evidence record: source `github`, service `github`, the operation
named after GitHub's REST operation id (`repos/get-branch-protection`, so evidence keys read
`github.repos/get-branch-protection`), account = the organisation, `subject` = `owner/repo`
(`owner/repo#N` for a pull request's own calls). Two answers that are facts, not failures, are
recorded as responses: a 404 "Branch not protected" (or "Branch not found", an empty
repository) becomes `{"protected": false, "status": 404, "message": ...}`, and so does the 403
GitHub gives a plan without branch protection for private repositories.

The pull-request listing of each repository (`state=closed`, `base=<default branch>`,
`sort=updated`, `direction=desc`) stops paging once a page reaches PRs last updated before
the period (a PR merged in the period was updated at or after its merge). Its records also
carry `period_start`/`period_end`, the window the collector paged back to (not sent to
GitHub), so the check can tell the population from the evidence alone. Each PR merged into
the default branch in the period then gets `pulls/get` (for `merged_by`) and its reviews.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from evidence.collectors.base import CollectorFailure, Sink
from evidence.collectors.github_access import remedy_for
from evidence.collectors.github_http import PER_PAGE, GitHubApi, Reply
from evidence.models import CollectionError, EvidenceRecord, Period, iso, utc_now
from evidence.models import parse_time as parse_ts
from evidence.sources.github import (
    BRANCH_RULES,
    MEMBERS,
    ORG_GET,
    ORG_RULESET,
    PERIOD_END,
    PERIOD_START,
    PROTECTION,
    PULL,
    PULLS,
    REPO_RULESET,
    REPOS,
    REVIEWS,
    SERVICE,
    SOURCE,
    merged_in_window,
    operation,
    window_bounds,
)

#: the collector's logger (its lines read `evidence.collectors.github: ...`, whichever module logs)
log = logging.getLogger("evidence.collectors.github")


@dataclass
class Repo:
    owner: str
    name: str
    default_branch: str
    archived: bool

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


class Fetch:
    """One collection: the calls, in order, each recorded."""

    def __init__(
        self,
        period: Period,
        sink: Sink,
        api: GitHubApi,
        wanted: frozenset[str],
        org: str,
        token_env: str,
        kind: str,
    ) -> None:
        self.period = period
        self.sink = sink
        self.api = api
        self.wanted = wanted
        self.org = org
        self.token_env = token_env
        self.kind = kind
        self.org_rulesets: set[int] = set()
        self.repo_rulesets: set[int] = set()

    @property
    def identity(self) -> str:
        scopes = f"; scopes: {self.api.scopes}" if self.api.scopes is not None else ""
        return f"${self.token_env} ({self.kind}{scopes})"

    def want(self, *keys: str) -> bool:
        return any(k in self.wanted for k in keys)

    # -- recording -------------------------------------------------------------

    def record(self, key: str, params: Mapping[str, Any], subject: str, response: Any) -> None:
        self._write(key, params, subject, response=response)

    def fail(self, key: str, params: Mapping[str, Any], subject: str, error: CollectionError) -> None:
        log.warning("github %s %s failed: %s %s", operation(key), subject, error.code, error.message)
        self._write(key, params, subject, error=error)

    def _write(self, key: str, params: Mapping[str, Any], subject: str, *, response: Any = None,
               error: CollectionError | None = None) -> None:
        self.sink.record(EvidenceRecord(
            source=SOURCE, service=SERVICE, operation=operation(key), parameters=dict(params), account=self.org,
            identity=self.identity, subject=subject, collected_at=iso(utc_now()), response=response, error=error,
        ))

    def error_of(self, key: str, reply: Reply) -> CollectionError:
        if reply.error is not None:
            return reply.error
        if reply.status == 401:
            raise CollectorFailure(
                "HTTP 401",
                f"GitHub rejected the token in {self.token_env}: {reply.message or 'Bad credentials'}",
                remedy_for(key, 401, reply.message, self.token_env),
                user_error=True,
            )
        return CollectionError(
            code=f"HTTP {reply.status}",
            message=reply.message or f"HTTP {reply.status}",
            remedy=remedy_for(key, reply.status, reply.message, self.token_env),
        )

    def call(self, key: str, path: str, params: Mapping[str, Any], subject: str,
             query: Mapping[str, Any] | None = None) -> Reply | None:
        """One call; its reply when it succeeded (recorded), else None (the failure recorded)."""
        reply = self.api.get(path, query)
        if reply.error is None and 200 <= reply.status < 300:
            self.record(key, params, subject, reply.body)
            return reply
        self.fail(key, params, subject, self.error_of(key, reply))
        return None

    def pages(self, key: str, path: str, params: Mapping[str, Any], subject: str,
              query: Mapping[str, Any]) -> Iterator[list[Any]]:
        """Every page of a listing, each recorded as it arrives; stops at a failure (recorded)."""
        url: str | None = path
        page = 1
        args: Mapping[str, Any] | None = {**query, "per_page": PER_PAGE}
        while url is not None:
            reply = self.api.get(url, args)
            recorded = {**params, "per_page": PER_PAGE, "page": page}
            if not 200 <= reply.status < 300:  # includes no answer at all (status 0, error set)
                self.fail(key, recorded, subject, self.error_of(key, reply))
                return
            items = reply.body if isinstance(reply.body, list) else []
            self.record(key, recorded, subject, reply.body)
            if reply.error is not None:  # a foreign next link: this page is kept, the rest is a failure
                self.fail(key, {**params, "per_page": PER_PAGE, "page": page + 1}, subject, reply.error)
                yield items
                return
            yield items
            url, args, page = reply.next_url, None, page + 1

    # -- the collection --------------------------------------------------------

    def run(self) -> None:
        org = self.org
        if self.want(ORG_GET):
            self.sink.progress(f"github: organization {org}")
            self.call(ORG_GET, f"/orgs/{_q(org)}", {"org": org}, org)
        if self.want(MEMBERS):
            for filter_ in ("all", "2fa_disabled"):
                for _ in self.pages(MEMBERS, f"/orgs/{_q(org)}/members",
                                    {"org": org, "filter": filter_}, org, {"filter": filter_}):
                    pass
        repo_keys = (REPOS, PROTECTION, BRANCH_RULES, REPO_RULESET, ORG_RULESET, PULLS, PULL, REVIEWS)
        if not self.want(*repo_keys):
            return
        repos: list[Repo] = []
        for page in self.pages(REPOS, f"/orgs/{_q(org)}/repos", {"org": org, "type": "all"}, org, {"type": "all"}):
            # a page or an item of the wrong shape is recorded as it came; the checks report it as
            # an error naming the page, and collection goes on with the repositories it can name
            for item in page if isinstance(page, list) else []:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                    continue
                owner_info = item.get("owner")
                owner = str((owner_info.get("login") if isinstance(owner_info, dict) else None) or org)
                repos.append(Repo(owner, item["name"], str(item.get("default_branch") or ""),
                                  bool(item.get("archived"))))
        repos.sort(key=lambda r: r.full_name.lower())
        for n, repo in enumerate(repos, 1):
            self.sink.progress(f"github: {repo.full_name} ({n}/{len(repos)})")
            if not repo.archived and repo.default_branch:
                self.branch(repo)
            if repo.default_branch and self.want(PULLS, PULL, REVIEWS):
                self.pulls(repo)
        if self.want(ORG_RULESET):
            for rid in sorted(self.org_rulesets):
                self.call(ORG_RULESET, f"/orgs/{_q(org)}/rulesets/{rid}", {"org": org, "ruleset_id": rid}, org)

    def branch(self, repo: Repo) -> None:
        base = f"/repos/{_q(repo.owner)}/{_q(repo.name)}"
        branch = repo.default_branch
        params = {"owner": repo.owner, "repo": repo.name, "branch": branch}
        if self.want(PROTECTION):
            self.protection(repo, f"{base}/branches/{_q(branch)}/protection", params)
        if not self.want(BRANCH_RULES, REPO_RULESET, ORG_RULESET):
            return
        parents: dict[int, str] = {}
        for page in self.pages(BRANCH_RULES, f"{base}/rules/branches/{_q(branch)}", params, repo.full_name, {}):
            for rule in page:
                rid = rule.get("ruleset_id")
                if isinstance(rid, int):
                    kind = str(rule.get("ruleset_source_type") or "")
                    this_org = str(rule.get("ruleset_source") or "").lower() == self.org.lower()
                    parents[rid] = "Organization" if kind == "Organization" and this_org else kind or "Other"
        for rid, kind in sorted(parents.items()):
            if kind == "Organization":
                self.org_rulesets.add(rid)
            elif self.want(REPO_RULESET):
                # repository rulesets, and parents other than this organization (enterprise)
                query = {"includes_parents": "true"} if kind != "Repository" else {}
                self.call(REPO_RULESET, f"{base}/rulesets/{rid}",
                          {"owner": repo.owner, "repo": repo.name, "ruleset_id": rid, **query},
                          repo.full_name, query)

    def protection(self, repo: Repo, path: str, params: Mapping[str, Any]) -> None:
        reply = self.api.get(path)
        if reply.error is None and reply.status == 200:
            self.record(PROTECTION, params, repo.full_name, reply.body)
            return
        message = reply.message
        no_protection = (reply.error is None and reply.status == 404
                         and message in ("Branch not protected", "Branch not found"))
        plan_lacks_it = (reply.error is None and reply.status == 403 and "upgrade to github pro" in message.lower())
        if no_protection or plan_lacks_it:
            # a fact about the branch, not a failure to collect: nothing classic protects it
            self.record(PROTECTION, params, repo.full_name,
                        {"protected": False, "status": reply.status, "message": message})
            return
        self.fail(PROTECTION, params, repo.full_name, self.error_of(PROTECTION, reply))

    def pulls(self, repo: Repo) -> None:
        period = self.period
        start, _ = window_bounds(period.start, period.end)
        base = f"/repos/{_q(repo.owner)}/{_q(repo.name)}"
        query = {"state": "closed", "base": repo.default_branch, "sort": "updated", "direction": "desc"}
        params = {"owner": repo.owner, "repo": repo.name, **query,
                  PERIOD_START: period.start.isoformat(), PERIOD_END: period.end.isoformat()}
        merged: list[int] = []
        if not self.want(PULLS):
            return
        for page in self.pages(PULLS, f"{base}/pulls", params, repo.full_name, query):
            for pull in page:
                if merged_in_window(pull, period.start, period.end) and \
                        (pull.get("base") or {}).get("ref") == repo.default_branch:
                    merged.append(int(pull["number"]))
            oldest = min((t for p in page if (t := parse_ts(p.get("updated_at"))) is not None), default=None)
            if not page or (oldest is not None and oldest < start):
                break
        for number in sorted(set(merged)):
            subject = f"{repo.full_name}#{number}"
            pr = {"owner": repo.owner, "repo": repo.name, "pull_number": number}
            if self.want(PULL):
                self.call(PULL, f"{base}/pulls/{number}", pr, subject)
            if self.want(REVIEWS):
                for _ in self.pages(REVIEWS, f"{base}/pulls/{number}/reviews", pr, subject, {}):
                    pass
