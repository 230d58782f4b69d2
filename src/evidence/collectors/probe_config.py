"""`[probes]`: the probe collector's configuration section."""

from __future__ import annotations

from pydantic import Field

from evidence.config import Section


class ProbesConfig(Section):
    """`[probes]`: the live endpoints to probe. A list key left out states nothing (its checks are
    an `error`, "not configured"); an explicitly empty list (`tls_endpoints = []`) states an empty
    scope, which its checks report as `not_applicable`, saying so."""

    tls_endpoints: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0)
    ca_file: str | None = None

    def stated(self, key: str) -> bool:
        """Whether `key` was written in the section (so an empty list is a stated, empty scope)."""
        return key in self.model_fields_set
