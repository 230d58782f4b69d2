"""The catalog of stated controls: data files in `controls/`, one TOML file per control.

Each control quotes its sentence from the company's security overview, names its SOC 2
criteria, lists the checks that evidence it (with parameters) and the manual evidence it
needs with how long that stays valid.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evidence.checks.params import Params
from evidence.checks.params import problem as param_problem
from evidence.models import sha256_of


class CatalogError(Exception):
    """A catalog file that cannot be read or does not fit the schema."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckRef(_Model):
    id: str
    params: dict[str, Any] = Field(default_factory=dict)


class ManualRequirement(_Model):
    id: str
    description: str
    valid_for_days: int = Field(gt=0)


#: a control id: a letter or digit, then letters, digits, dots, dashes and underscores, as in
#: ENC-TRANSIT or CC6.1 (it names files and anchors: never a slash, never a leading dot)
CONTROL_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Control(_Model):
    id: str = Field(pattern=CONTROL_ID)
    title: str
    statement: str = Field(min_length=1)
    section: str = ""
    criteria: list[str] = Field(min_length=1)
    checks: list[CheckRef] = Field(default_factory=list)
    manual: list[ManualRequirement] = Field(default_factory=list)
    #: days a failing resource may stay failing before it is a deviation (the period's deviations.csv)
    remediate_within_days: int = Field(default=30, ge=0)


class Catalog(_Model):
    controls: dict[str, Control]

    @property
    def digest(self) -> str:
        return sha256_of(self.model_dump(mode="json"))

    def get(self, control_id: str) -> Control:
        try:
            return self.controls[control_id]
        except KeyError:
            known = ", ".join(sorted(self.controls))
            raise CatalogError(f"unknown control '{control_id}' (known: {known})") from None


def default_catalog_dir() -> Path:
    """`controls/` shipped in the wheel, or the source tree's when running from a checkout."""
    shipped = Path(str(resources.files("evidence"))) / "_data" / "controls"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "controls"


def default_templates_dir() -> Path:
    shipped = Path(str(resources.files("evidence"))) / "_data" / "templates"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "templates"


def load_catalog(directory: Path | None = None) -> Catalog:
    """Read every `*.toml` control in `directory` (the shipped catalog by default)."""
    directory = directory or default_catalog_dir()
    if not directory.is_dir():
        raise CatalogError(f"{directory}: catalog folder not found")
    controls: dict[str, Control] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            control = Control.model_validate(data)
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{path}: cannot read as UTF-8 text ({exc})") from None
        except RecursionError:
            raise CatalogError(f"{path}: nested too deeply to be a control") from None
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{path}: not valid TOML ({exc})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise CatalogError(f"{path}: key '{key}': {first['msg']}") from None
        if control.id in controls:
            raise CatalogError(f"{path}: duplicate control id '{control.id}'")
        controls[control.id] = control
    if not controls:
        raise CatalogError(f"{directory}: no controls (*.toml) found")
    return Catalog(controls=controls)


def validate_catalog(catalog: Catalog, check_params: Mapping[str, type[Params]]) -> list[str]:
    """Problems in a catalog against the checks that exist (id -> parameter model)."""
    problems: list[str] = []
    for control in catalog.controls.values():
        if not control.statement.strip():
            problems.append(f"{control.id}: no statement")
        for ref in control.checks:
            if ref.id not in check_params:
                problems.append(f"{control.id}: unknown check '{ref.id}'")
                continue
            if bad := param_problem(check_params[ref.id], ref.params):
                name, why = bad
                if why.startswith("unknown parameter"):
                    problems.append(f"{control.id}: check '{ref.id}' has no parameter '{name}'")
                else:
                    problems.append(f"{control.id}: check '{ref.id}' parameter '{name}': {why}")
    return problems


def effective_params(
    control: Control,
    ref: CheckRef,
    defaults: Mapping[str, Any],
    overrides: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """A check's parameters: its defaults, then the catalog's, then `[controls.ID]` in config."""
    params = dict(defaults)
    params.update(ref.params)
    for name, value in overrides.get(control.id, {}).items():
        if name in params:
            params[name] = value
    return params
