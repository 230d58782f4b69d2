"""`[probes]`: the probe collector's configuration section."""

from __future__ import annotations

import urllib.parse
from typing import Any

from pydantic import Field, field_validator

from evidence.config import Section


def without_query(url: str) -> str:
    """A URL as recorded outside the probe itself: no query string or fragment (they can carry
    tokens)."""
    parts = urllib.parse.urlsplit(url.strip())
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class ProbesConfig(Section):
    """`[probes]`: the live endpoints to probe. A list key left out states nothing (its checks are
    an `error`, "not configured"); an explicitly empty list (`tls_endpoints = []`) states an empty
    scope, which its checks report as `not_applicable`, saying so."""

    tls_endpoints: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0)
    ca_file: str | None = None

    @field_validator("urls")
    @classmethod
    def _no_credentials(cls, urls: list[str]) -> list[str]:
        """A URL with a user or password is refused here, before anything records it; the
        message names its position, never its text."""
        for n, url in enumerate(urls):
            parts = urllib.parse.urlsplit(url.strip())
            if parts.username or parts.password:
                raise ValueError(f"entry {n + 1} carries credentials (user:password@); list the URL without them")
        return urls

    def public_dump(self) -> dict[str, Any]:
        data = super().public_dump()
        data["urls"] = [without_query(u) for u in self.urls]
        return data

    def stated(self, key: str) -> bool:
        """Whether `key` was written in the section (so an empty list is a stated, empty scope)."""
        return key in self.model_fields_set
