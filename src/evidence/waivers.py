"""Waivers: accepted exceptions in `exceptions/*.yaml` (next to the configuration file by
default, `[bundle] exceptions_dir`), validated before any API call.

A file holds one waiver (a mapping) or several (a list of mappings):

    id: legacy-alb-tls            # optional; defaults to the file name (with -2, -3... in a list)
    control: ENC-TRANSIT          # a catalog control
    check: aws.elbv2.listener_tls_min_version   # optional: only this check of the control
    resource: "arn:aws:elasticloadbalancing:eu-west-2:*:listener/app/legacy/*"   # fnmatch pattern
    reason: Legacy clients until the March migration
    approver: cto@example.com
    expires: 2026-12-31           # the last day it applies (`expiry` is accepted too)

A failing finding of that control whose resource matches becomes `waived` until the waiver
expires (`evidence.judge`); an expired waiver stops applying and raises an alert
(`evidence.history`). The files are copied into every bundle under `waivers/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evidence.catalog import Catalog
from evidence.judge import Waiver

SUFFIXES = (".yaml", ".yml")


class WaiverError(Exception):
    """An exceptions file that cannot be read or does not validate; names the file and key."""


class _WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    control: str = Field(min_length=1)
    check: str | None = None
    resource: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: date | None = None
    expiry: date | None = None

    @field_validator("id", "control", "check", "resource", "reason", "approver", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise ValueError("must not be empty")
        return value

    @field_validator("expires", "expiry", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("must be a date, YYYY-MM-DD") from None
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise ValueError("must be a date, YYYY-MM-DD")
        return value


@dataclass
class WaiverSet:
    """The waivers of an exceptions folder, and their files by bundle path (`waivers/<name>`)."""

    waivers: list[Waiver] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"unknown key '{key}' (keys: id, control, check, resource, reason, approver, expires)"
    if first["type"] == "missing":
        return f"missing key '{key}'"
    msg = str(first["msg"]).removeprefix("Value error, ")
    return f"key '{key}': {msg}"


def load_waivers(directory: Path, catalog: Catalog | None = None) -> WaiverSet:
    """Every waiver in `directory/*.yaml` (none when the folder does not exist), validated
    against the catalog when given (known control, a check that control uses)."""
    found = WaiverSet()
    try:
        if not directory.exists():
            return found
        if not directory.is_dir():
            raise WaiverError(f"{directory}: the exceptions folder is not a folder")
        paths = sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())
    except OSError as exc:  # a name too long for the file system, a folder it may not read
        raise WaiverError(f"{str(directory)[:200]}: cannot read the exceptions folder "
                          f"({exc.strerror or type(exc).__name__}); check bundle.exceptions_dir") from None
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise WaiverError(f"{path}: cannot read ({exc})") from None
        except RecursionError:
            raise WaiverError(f"{path}: nested too deeply to be a waiver") from None
        except ValueError as exc:  # YAML read a value it could not build, e.g. the date 2026-13-01
            raise WaiverError(f"{path}: a value that does not exist ({exc}); dates are YYYY-MM-DD") from None
        except yaml.YAMLError as exc:
            raise WaiverError(f"{path}: not valid YAML ({exc})".replace("\n", " ")) from None
        if data is None:
            continue
        items = data if isinstance(data, list) else [data]
        for n, item in enumerate(items, start=1):
            where = f"{path}" if len(items) == 1 else f"{path}: waiver {n}"
            if not isinstance(item, dict):
                raise WaiverError(f"{where}: expected a mapping of control, resource, reason, approver, expires")
            waiver = _one(item, where, default_id=path.stem if len(items) == 1 else f"{path.stem}-{n}")
            if catalog is not None:
                _check_catalog(waiver, catalog, where)
            if waiver.id in seen:
                raise WaiverError(f"{where}: duplicate waiver id '{waiver.id}' (also in {seen[waiver.id]})")
            seen[waiver.id] = path
            found.waivers.append(waiver)
        found.files[f"waivers/{path.name}"] = path
    return found


def _one(item: dict[str, Any], where: str, default_id: str) -> Waiver:
    try:
        raw = _WaiverFile.model_validate(item)
    except ValidationError as exc:
        raise WaiverError(f"{where}: {_describe(exc)}") from None
    if raw.expires is not None and raw.expiry is not None:
        raise WaiverError(f"{where}: give either 'expires' or 'expiry', not both")
    expires = raw.expires or raw.expiry
    if expires is None:
        raise WaiverError(f"{where}: missing key 'expires' (the last day the waiver applies, YYYY-MM-DD)")
    return Waiver(
        id=raw.id or default_id,
        control_id=raw.control,
        resource=raw.resource,
        reason=raw.reason,
        approver=raw.approver,
        expires=expires,
        check_id=raw.check,
    )


def _check_catalog(waiver: Waiver, catalog: Catalog, where: str) -> None:
    control = catalog.controls.get(waiver.control_id)
    if control is None:
        raise WaiverError(
            f"{where}: key 'control': unknown control '{waiver.control_id}' "
            f"(known: {', '.join(sorted(catalog.controls))})"
        )
    if waiver.check_id is not None:
        checks = [r.id for r in control.checks]
        if waiver.check_id not in checks:
            raise WaiverError(
                f"{where}: key 'check': control {control.id} has no check '{waiver.check_id}' "
                f"(its checks: {', '.join(checks) or 'none'})"
            )
