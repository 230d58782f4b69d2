"""GitHub collector: organisation 2FA, repositories' branch rules, the period's merged PRs.

Talks to the REST API (github.com, or GitHub Enterprise Server / a local fake through
`[github] api_url`) with httpx: one `httpx.Client` per run (`github_http`: pages, rate limits,
retries and the cap on waiting), making the calls `github_fetch` lists, each recorded as
evidence. `github_access` names the permissions each call needs and the remedy of a failure.

The token is read from the environment variable `[github] token_env` names; it is sent only in
the Authorization header and never recorded, logged or reported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import ClassVar

from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.collectors.github_access import PERMISSIONS, token_kind
from evidence.collectors.github_config import GitHubConfig
from evidence.collectors.github_fetch import Fetch
from evidence.collectors.github_http import MAX_TOTAL_WAIT, GitHubApi
from evidence.config import Config, Section
from evidence.models import Period
from evidence.sources.github import SOURCE


class GitHubCollector(Collector):
    """Collects the evidence behind CODE-REVIEW, CI-GATE and CODEHOST-MFA from one organisation."""

    source: ClassVar[str] = SOURCE
    description: ClassVar[str] = (
        "GitHub organisation: 2FA, every repository's effective default-branch rules (classic protection "
        "and rulesets), the period's merged pull requests and their reviews"
    )
    permission_kind: ClassVar[str] = "token permission"
    permissions: ClassVar[Mapping[str, tuple[str, ...]]] = PERMISSIONS
    title: ClassVar[str] = "GitHub"
    config_model: ClassVar[type[Section] | None] = GitHubConfig

    def __init__(
        self,
        config: Config,
        period: Period | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_total_wait: float = MAX_TOTAL_WAIT,
    ) -> None:
        super().__init__(config, period)
        self.clock = clock
        self.sleep = sleep
        self.max_total_wait = max_total_wait

    @classmethod
    def scope(cls, section: Section | None) -> list[tuple[str, str]]:
        return [("GitHub organization", section.org)] if isinstance(section, GitHubConfig) else []

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        cfg = self.settings(GitHubConfig)
        if cfg is None:
            raise CollectorFailure(
                "NotConfigured", "no [github] section in the configuration", "add [github] org and token_env"
            )
        token = os.environ.get(cfg.token_env, "").strip()
        if not token:
            raise CollectorFailure(
                "MissingToken",
                f"environment variable {cfg.token_env} (named by [github] token_env) is not set or empty",
                f"export {cfg.token_env} with a GitHub token that has the permissions "
                "`evidence permissions --source github` lists",
                user_error=True,
            )
        with GitHubApi(
            cfg.api_url,
            token,
            clock=self.clock,
            sleep=self.sleep,
            on_wait=sink.progress,
            max_total_wait=self.max_total_wait,
        ) as api:
            Fetch(self.period, sink, api, wanted, cfg.org, cfg.token_env, token_kind(token)).run()
