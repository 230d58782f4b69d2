"""The fake GitHub's read-only REST endpoints: GitHub's paths, query parameters, validation
errors and pagination (RFC 5988 ``Link`` headers), answered from the state."""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from evidence.demo.github.change_payloads import GitHubChangePayloads
from evidence.demo.github.model import (
    DOC_PROTECTION,
    DOCS,
    Groups,
    Query,
    Repository,
    Response,
    Ruleset,
    error_body,
    parse_time,
)

_DEFAULT_PER_PAGE = 30
_MAX_PER_PAGE = 100


class GitHubRoutes(GitHubChangePayloads):
    """One method per endpoint (see :data:`ROUTES`), called with the state's lock held."""

    # request handling (server threads) -------------------------------------------

    def _paginate(
        self, items: Sequence[Any], query: dict[str, list[str]], path: str
    ) -> tuple[list[Any], dict[str, str]]:
        def number(name: str, default: int) -> int:
            try:
                return int(query.get(name, [str(default)])[-1])
            except ValueError:
                return default

        per_page = number("per_page", _DEFAULT_PER_PAGE)
        per_page = _DEFAULT_PER_PAGE if per_page < 1 else min(per_page, _MAX_PER_PAGE)
        page = max(1, number("page", 1))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = list(items[(page - 1) * per_page : page * per_page])
        pairs = [(k, v) for k, values in query.items() for v in values if k != "page"]

        def link(target: int) -> str:
            return f"<{self.api_url}{path}?{urllib.parse.urlencode([*pairs, ('page', str(target))])}>"

        rels: list[str] = []
        if page > 1:
            rels.append(f'{link(min(page - 1, last))}; rel="prev"')
        if page < last:
            rels.append(f'{link(page + 1)}; rel="next"')
            rels.append(f'{link(last)}; rel="last"')
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        return chunk, ({"Link": ", ".join(rels)} if rels else {})

    def _not_found(self) -> Response:
        return Response(404, error_body(404, "Not Found"))

    def _is_org(self, name: str) -> bool:
        return name.lower() == self.org.lower()

    def _find_repo(self, owner: str, name: str) -> Repository | None:
        if not self._is_org(owner):
            return None
        return self.repos.get(name.lower())

    @staticmethod
    def _param(query: dict[str, list[str]], name: str, default: str) -> str:
        values = query.get(name)
        return values[-1] if values else default

    def _invalid(self, field_name: str, value: str, allowed: Sequence[str], doc: str = DOCS) -> Response:
        return Response(
            422,
            {
                "message": f"Validation Failed: {field_name} must be one of {', '.join(allowed)}",
                "documentation_url": doc,
                "status": "422",
                "errors": [{"resource": "Request", "field": field_name, "code": "invalid", "value": value}],
            },
        )

    def _get_org(self, groups: Groups, query: Query, path: str) -> Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        return Response(200, self._org_payload())

    def _list_members(self, groups: Groups, query: Query, path: str) -> Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        filter_ = self._param(query, "filter", "all")
        role = self._param(query, "role", "all")
        if filter_ not in ("all", "2fa_disabled", "2fa_insecure"):
            return self._invalid("filter", filter_, ("2fa_disabled", "2fa_insecure", "all"))
        if role not in ("all", "admin", "member"):
            return self._invalid("role", role, ("all", "admin", "member"))
        members = list(self.members.values())
        if filter_ == "2fa_disabled":
            members = [m for m in members if not m.two_factor]
        elif filter_ == "2fa_insecure":
            members = []
        if role != "all":
            members = [m for m in members if m.role == role]
        members.sort(key=lambda m: self._user_id_for(m.login))
        page, headers = self._paginate(members, query, path)
        return Response(200, [self._user(m.login) for m in page], headers)

    def _list_repos(self, groups: Groups, query: Query, path: str) -> Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        type_ = self._param(query, "type", "all")
        sort = self._param(query, "sort", "created")
        if type_ not in ("all", "public", "private", "forks", "sources", "member"):
            return self._invalid("type", type_, ("all", "public", "private", "forks", "sources", "member"))
        if sort not in ("created", "updated", "pushed", "full_name"):
            return self._invalid("sort", sort, ("created", "updated", "pushed", "full_name"))
        direction = self._param(query, "direction", "asc" if sort == "full_name" else "desc")
        repos = list(self.repos.values())
        if type_ == "public":
            repos = [r for r in repos if r.visibility == "public"]
        elif type_ == "private":
            repos = [r for r in repos if r.visibility != "public"]
        elif type_ == "forks":
            repos = [r for r in repos if r.fork]
        elif type_ == "sources":
            repos = [r for r in repos if not r.fork]
        payloads = [self._repo_payload(r, "minimal") for r in repos]
        if sort == "full_name":
            payloads.sort(key=lambda p: str(p["full_name"]).lower())
        else:
            field_name = {"created": "created_at", "updated": "updated_at", "pushed": "pushed_at"}[sort]
            payloads.sort(key=lambda p: (parse_time(p[field_name]), p["id"]))
        if direction == "desc":
            payloads.reverse()
        page, headers = self._paginate(payloads, query, path)
        return Response(200, page, headers)

    def _get_repo(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        return Response(200, self._repo_payload(repo, "full"))

    def _get_protection(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        branch = groups[2]
        if branch not in repo.branches:
            return Response(404, error_body(404, "Branch not found", DOC_PROTECTION))
        protection = repo.protections.get(branch)
        if protection is None:
            return Response(404, error_body(404, "Branch not protected", DOC_PROTECTION))
        return Response(200, self._protection_payload(repo, branch, protection))

    def _rulesets_for(self, repo: Repository, include_parents: bool) -> list[Ruleset]:
        out = list(repo.rulesets)
        if include_parents:
            out += [r for r in self.org_rulesets if r.applies_to_repo(repo.name)]
        return out

    def _get_branch_rules(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        branch = groups[2]
        rules: list[dict[str, Any]] = []
        for ruleset in self._rulesets_for(repo, include_parents=True):
            if ruleset.enforcement != "active" or ruleset.target != "branch":
                continue
            if not ruleset.applies_to_ref(branch, repo.default_branch):
                continue
            for rule in ruleset.rules:
                rules.append(
                    {
                        **rule.payload(),
                        "ruleset_source_type": ruleset.source_type,
                        "ruleset_source": ruleset.source,
                        "ruleset_id": ruleset.id,
                    }
                )
        page, headers = self._paginate(rules, query, path)
        return Response(200, page, headers)

    @staticmethod
    def _targets(query: dict[str, list[str]]) -> set[str] | None:
        raw = GitHubRoutes._param(query, "targets", "")
        return {t.strip() for t in raw.split(",") if t.strip()} or None

    def _list_repo_rulesets(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        parents = self._param(query, "includes_parents", "true").lower() != "false"
        targets = self._targets(query)
        rulesets = [r for r in self._rulesets_for(repo, parents) if targets is None or r.target in targets]
        page, headers = self._paginate(rulesets, query, path)
        payload = [self._ruleset_payload(r, detail=False, repo_level=True) for r in page]
        return Response(200, payload, headers)

    def _get_repo_ruleset(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        parents = self._param(query, "includes_parents", "true").lower() != "false"
        for ruleset in self._rulesets_for(repo, parents):
            if ruleset.id == int(groups[2]):
                return Response(200, self._ruleset_payload(ruleset, detail=True, repo_level=True))
        return self._not_found()

    def _list_org_rulesets(self, groups: Groups, query: Query, path: str) -> Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        targets = self._targets(query)
        rulesets = [r for r in self.org_rulesets if targets is None or r.target in targets]
        page, headers = self._paginate(rulesets, query, path)
        payload = [self._ruleset_payload(r, detail=False, repo_level=False) for r in page]
        return Response(200, payload, headers)

    def _get_org_ruleset(self, groups: Groups, query: Query, path: str) -> Response:
        if not self._is_org(groups[0]):
            return self._not_found()
        for ruleset in self.org_rulesets:
            if ruleset.id == int(groups[1]):
                return Response(200, self._ruleset_payload(ruleset, detail=True, repo_level=False))
        return self._not_found()

    def _list_pulls(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        if repo is None:
            return self._not_found()
        state = self._param(query, "state", "open")
        sort = self._param(query, "sort", "created")
        if state not in ("open", "closed", "all"):
            return self._invalid("state", state, ("open", "closed", "all"))
        if sort not in ("created", "updated", "popularity", "long-running"):
            return self._invalid("sort", sort, ("created", "updated", "popularity", "long-running"))
        direction = self._param(query, "direction", "desc" if sort == "created" else "asc")
        if direction not in ("asc", "desc"):
            return self._invalid("direction", direction, ("asc", "desc"))
        base = self._param(query, "base", "")
        head = self._param(query, "head", "")
        pulls = [p for p in repo.pulls.values() if state == "all" or p.state == state]
        if base:
            pulls = [p for p in pulls if p.base == base]
        if head:
            pulls = [p for p in pulls if f"{self.org}:{p.head}" == head or p.head == head]
        if sort == "updated":
            pulls.sort(key=lambda p: (parse_time(p.updated_at), p.number))
        elif sort == "long-running":
            pulls.sort(key=lambda p: (parse_time(p.created_at), p.number), reverse=True)
        else:
            pulls.sort(key=lambda p: (parse_time(p.created_at), p.number))
        if direction == "desc":
            pulls.reverse()
        page, headers = self._paginate(pulls, query, path)
        return Response(200, [self._pull_payload(repo, p, full=False) for p in page], headers)

    def _get_pull(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        pull = repo.pulls.get(int(groups[2])) if repo is not None else None
        if repo is None or pull is None:
            return self._not_found()
        return Response(200, self._pull_payload(repo, pull, full=True))

    def _list_reviews(self, groups: Groups, query: Query, path: str) -> Response:
        repo = self._find_repo(groups[0], groups[1])
        pull = repo.pulls.get(int(groups[2])) if repo is not None else None
        if repo is None or pull is None:
            return self._not_found()
        reviews = sorted(pull.reviews, key=lambda r: r.id)
        page, headers = self._paginate(reviews, query, path)
        return Response(200, [self._review_payload(repo, pull, r) for r in page], headers)

    def _rate_limit(self, groups: Groups, query: Query, path: str) -> Response:
        resources = {name: self._budget(name).payload(name) for name in ("core", "search")}
        for name, limit in (
            ("graphql", 5000),
            ("integration_manifest", 5000),
            ("code_search", 10),
            ("source_import", 100),
            ("code_scanning_upload", 1000),
            ("actions_runner_registration", 10000),
            ("scim", 15000),
            ("dependency_snapshots", 100),
        ):
            reset = math.ceil(self.clock() + 3600)
            resources[name] = {
                "limit": limit, "remaining": limit, "reset": reset, "used": 0, "resource": name
            }
        return Response(200, {"resources": resources, "rate": resources["core"]})


#: (path pattern, endpoint) in the order they are tried; GET only
ROUTES: list[tuple[re.Pattern[str], Callable[[GitHubRoutes, Groups, Query, str], Response]]] = [
    (re.compile(r"/orgs/([^/]+)\Z"), GitHubRoutes._get_org),
    (re.compile(r"/orgs/([^/]+)/members\Z"), GitHubRoutes._list_members),
    (re.compile(r"/orgs/([^/]+)/repos\Z"), GitHubRoutes._list_repos),
    (re.compile(r"/orgs/([^/]+)/rulesets\Z"), GitHubRoutes._list_org_rulesets),
    (re.compile(r"/orgs/([^/]+)/rulesets/(\d+)\Z"), GitHubRoutes._get_org_ruleset),
    (re.compile(r"/repos/([^/]+)/([^/]+)\Z"), GitHubRoutes._get_repo),
    (re.compile(r"/repos/([^/]+)/([^/]+)/branches/(.+)/protection\Z"), GitHubRoutes._get_protection),
    (re.compile(r"/repos/([^/]+)/([^/]+)/rules/branches/(.+)\Z"), GitHubRoutes._get_branch_rules),
    (re.compile(r"/repos/([^/]+)/([^/]+)/rulesets\Z"), GitHubRoutes._list_repo_rulesets),
    (re.compile(r"/repos/([^/]+)/([^/]+)/rulesets/(\d+)\Z"), GitHubRoutes._get_repo_ruleset),
    (re.compile(r"/repos/([^/]+)/([^/]+)/pulls\Z"), GitHubRoutes._list_pulls),
    (re.compile(r"/repos/([^/]+)/([^/]+)/pulls/(\d+)\Z"), GitHubRoutes._get_pull),
    (re.compile(r"/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews\Z"), GitHubRoutes._list_reviews),
    (re.compile(r"/rate_limit\Z"), GitHubRoutes._rate_limit),
]
