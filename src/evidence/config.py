"""`evidence.toml`: loading and validating the configuration (DESIGN.md, "Configuration").

Every key has a default, so an empty file (or none) is a valid configuration. An unknown key,
a wrong type or an unreadable file raises `ConfigError` with one line naming the file and key.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(Exception):
    """A mistake in the user's configuration: one line naming the file and what to fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AwsConfig(_Section):
    regions: list[str] = Field(default_factory=lambda: ["eu-west-2"])
    assume_roles: list[str] = Field(default_factory=list)
    organization: bool = False
    organization_role_name: str = "EvidenceAudit"
    include_caller_account: bool = True
    max_workers: int = Field(default=16, ge=1, le=128)
    max_attempts: int = Field(default=8, ge=1, le=20)

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: list[str]) -> list[str]:
        """`["all"]`, or regions AWS has: a typo fails here, not after a long run."""
        if "all" in regions:
            if regions != ["all"]:
                raise ValueError('"all" stands alone (regions = ["all"] is every enabled region)')
            return regions
        if not regions:
            raise ValueError('name at least one region, or ["all"]')
        known = known_aws_regions()
        for region in regions:
            if region not in known:
                close = difflib.get_close_matches(region, sorted(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else " (newer regions need a newer boto3)"
                raise ValueError(f"{region!r} is not an AWS region{hint}")
        return regions


def known_aws_regions() -> frozenset[str]:
    """Every region of every partition in botocore's bundled endpoint data (read offline)."""
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


class GoogleWorkspaceConfig(_Section):
    customer_id: str = "my_customer"
    credentials_file: str
    delegated_admin: str
    api_endpoint: str | None = None


class GitHubConfig(_Section):
    org: str
    token_env: str = "GITHUB_TOKEN"
    api_url: str = "https://api.github.com"


class ProbesConfig(_Section):
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


class AlertsConfig(_Section):
    urls: list[str] = Field(default_factory=list)
    warn_days: int = Field(default=14, ge=0)
    repeat_after_days: int = Field(default=7, ge=0)


class BundleConfig(_Section):
    company: str = ""
    out: str = "evidence-out"
    signing_key: str | None = None
    #: waivers (`*.yaml`), relative to the configuration file's folder
    exceptions_dir: str = "exceptions"


class Config(_Section):
    """The whole `evidence.toml`."""

    aws: AwsConfig = Field(default_factory=AwsConfig)
    google_workspace: GoogleWorkspaceConfig | None = None
    github: GitHubConfig | None = None
    probes: ProbesConfig | None = None
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    bundle: BundleConfig = Field(default_factory=BundleConfig)
    controls: dict[str, dict[str, Any]] = Field(default_factory=dict)

    #: the folder relative paths in the file are resolved against
    base_dir: Path = Field(default=Path("."), exclude=True)
    #: where the configuration was read from ("" when built in code)
    path: str = Field(default="", exclude=True)

    def resolve(self, relative: str) -> Path:
        """A path from the configuration, relative to the configuration file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def public_dict(self) -> dict[str, Any]:
        """The configuration as recorded in a bundle: no secrets are in it by construction
        (tokens are named by environment variable, keys by file path); notification URLs,
        which can embed credentials, are kept only in their redacted form."""
        data = self.model_dump(mode="json")
        if self.alerts.urls:
            from evidence.notify import redact

            data["alerts"]["urls"] = [redact(u) for u in self.alerts.urls]
        return data


def _describe(err: ValidationError, path: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key '{key}'"
    if kind == "missing":
        return f"{path}: missing required key '{key}'"
    if kind == "value_error":
        # our own validators' messages name what is wrong and never hold a secret
        return f"{path}: key '{key}': {first['msg'].removeprefix('Value error, ')}"
    value = first.get("input")
    # a string may be a secret (a webhook URL, a token): name its type, never echo it
    shown = type(value).__name__ if isinstance(value, str | dict | list) else repr(value)
    return f"{path}: key '{key}': {first['msg']} (got {shown})"


def load_config(path: Path | None) -> Config:
    """Read and validate a configuration file; `None` gives the defaults."""
    if path is None:
        return Config()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate already-parsed configuration data."""
    label = str(path) if path else "configuration"
    for reserved in ("base_dir", "path"):
        if reserved in data:
            raise ConfigError(f"{label}: unknown key '{reserved}'")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, label)) from None
    if path is not None:
        cfg.base_dir = path.resolve().parent
        cfg.path = str(path)
    return cfg
