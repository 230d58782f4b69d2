"""`evidence.toml`: loading and validating the configuration (DESIGN.md, "Configuration").

The core owns `[alerts]`, `[bundle]` and `[controls.ID]`; every other section belongs to the
collector plugin that declares it (`Collector.config_section` and `config_model`, e.g. `[aws]`,
`[github]`, or an out-of-tree `[weather]`), found through the `evidence.collectors` entry
points and validated with the plugin's own model. Every key has a default, so an empty file
(or none) is a valid configuration. An unknown key, a wrong type or an unreadable file raises
`ConfigError` with one line naming the file and key.
"""

from __future__ import annotations

import inspect
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """A mistake in the user's configuration: one line naming the file and what to fix."""


class Section(BaseModel):
    """A configuration section: unknown keys are mistakes. Plugins subclass it for theirs."""

    model_config = ConfigDict(extra="forbid")

    def public_dump(self) -> dict[str, Any]:
        """The section as recorded in a bundle's config.json: override to leave out or redact
        what could carry a secret (never a secret by construction is better still)."""
        return self.model_dump(mode="json")


_Section = Section
S = TypeVar("S", bound=Section)


@dataclass(frozen=True)
class SectionSpec:
    """A plugin's configuration section: its model, and whether an absent section means the
    model's defaults (`[aws]`: the default credentials and region) or "not configured"."""

    model: type[Section]
    default_when_absent: bool = False


#: the core's own top-level keys (every other one is a plugin's section)
CORE_KEYS = frozenset({"alerts", "bundle", "controls"})


class AlertsConfig(_Section):
    urls: list[str] = Field(default_factory=list)
    warn_days: int = Field(default=14, ge=0, le=36500)
    repeat_after_days: int = Field(default=7, ge=0, le=36500)


class BundleConfig(_Section):
    company: str = ""
    out: str = "evidence-out"
    signing_key: str | None = None
    #: waivers (`*.yaml`), relative to the configuration file's folder
    exceptions_dir: str = "exceptions"
    #: the catalog folder (`evidence catalog init` or `from-text` writes one), relative to the
    #: configuration file's folder; none: the built-in catalog
    catalog: str | None = None


class Config(_Section):
    """The whole `evidence.toml`: the core's sections, and each plugin's validated section."""

    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    bundle: BundleConfig = Field(default_factory=BundleConfig)
    controls: dict[str, dict[str, Any]] = Field(default_factory=dict)

    #: the folder relative paths in the file are resolved against
    base_dir: Path = Field(default=Path("."), exclude=True)
    #: where the configuration was read from ("" when built in code)
    path: str = Field(default="", exclude=True)
    #: each plugin's section, validated with its model (absent: not there, or its defaults)
    sections: dict[str, Section] = Field(default_factory=dict, exclude=True)

    def section(self, name: str, model: type[S]) -> S | None:
        """The plugin section `[name]` as its model, or None when it is not configured."""
        value = self.sections.get(name)
        return value if isinstance(value, model) else None

    def resolve(self, relative: str) -> Path:
        """A path from the configuration, relative to the configuration file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def public_dict(self) -> dict[str, Any]:
        """The configuration as recorded in a bundle: no secrets are in it by construction
        (tokens are named by environment variable, keys by file path); notification URLs,
        which can embed credentials, are kept only in their redacted form."""
        data = {name: sec.public_dump() for name, sec in sorted(self.sections.items())}
        data |= self.model_dump(mode="json")
        if self.alerts.urls:
            from evidence.notify import redact

            data["alerts"]["urls"] = [redact(u) for u in self.alerts.urls]
        return data


def _describe(err: ValidationError, path: str, prefix: str = "") -> str:
    first = err.errors()[0]
    key = ".".join([prefix, *(str(p) for p in first["loc"])] if prefix else [str(p) for p in first["loc"]])
    key = key or "(top level)"
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


def load_config(path: Path | None, sections: Mapping[str, SectionSpec] | None = None) -> Config:
    """Read and validate a configuration file; `None` gives the defaults."""
    if path is None:
        return parse_config({}, None, sections)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a configuration") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data, path, sections)


def installed_sections() -> dict[str, SectionSpec]:
    """The sections the installed collector plugins declare (`config_section`, `config_model`,
    `config_default`). A plugin that fails to load is reported by the registry, not here."""
    out: dict[str, SectionSpec] = {}
    for ep in entry_points(group="evidence.collectors"):
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - the registry reports a plugin that fails to load
            log.debug("collector plugin %s failed to load (%s): its section is unknown", ep.name, exc)
            continue
        model = getattr(cls, "config_model", None)
        name = getattr(cls, "config_section", None) or getattr(cls, "source", None)
        if isinstance(name, str) and inspect.isclass(model) and issubclass(model, Section):
            out[name] = SectionSpec(model, bool(getattr(cls, "config_default", False)))
    return out


def parse_config(
    data: dict[str, Any], path: Path | None = None, sections: Mapping[str, SectionSpec] | None = None
) -> Config:
    """Validate already-parsed configuration data: the core keys with the core's models, each
    other section with the model of the plugin that declares it (`sections`, by default the
    installed collectors')."""
    label = str(path) if path else "configuration"
    for reserved in ("base_dir", "path", "sections"):
        if reserved in data:
            raise ConfigError(f"{label}: unknown key '{reserved}'")
    specs = installed_sections() if sections is None else sections
    core = {k: v for k, v in data.items() if k in CORE_KEYS or k not in specs}
    try:
        cfg = Config.model_validate(core)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, label)) from None
    for name, spec in sorted(specs.items()):
        if name in data:
            if not isinstance(data[name], dict):
                raise ConfigError(f"{label}: key '{name}' must be a [{name}] section")
            try:
                cfg.sections[name] = spec.model.model_validate(data[name])
            except ValidationError as exc:
                raise ConfigError(_describe(exc, label, prefix=name)) from None
        elif spec.default_when_absent:
            cfg.sections[name] = spec.model()
    if path is not None:
        cfg.base_dir = path.resolve().parent
        cfg.path = str(path)
    return cfg
