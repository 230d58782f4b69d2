"""`[github]`: the GitHub collector's configuration section."""

from __future__ import annotations

from evidence.config import Section


class GitHubConfig(Section):
    org: str
    token_env: str = "GITHUB_TOKEN"
    api_url: str = "https://api.github.com"
