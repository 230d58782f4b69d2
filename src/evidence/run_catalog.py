"""The catalog as a run uses it: checked against the checks the registry holds, the sources it
needs, the `[controls.ID]` overrides validated, and every check's parameters resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence.catalog import Catalog, CatalogError, effective_params, load_catalog, validate_catalog
from evidence.checks.params import problem as param_problem
from evidence.config import Config, ConfigError
from evidence.registry import Registry


def check_sources(catalog: Catalog, registry: Registry) -> set[str]:
    """The sources the catalog's checks need: each check's own, and the sources whose evidence it
    reads (`Check.reads`: the people checks read Workspace, GitHub and IAM listings)."""
    sources = {"manual"}
    for control in catalog.controls.values():
        for ref in control.checks:
            chk = registry.checks.get(ref.id)
            if chk is None:
                continue
            sources.add(chk.source)
            sources |= {s for s, cls in registry.collectors.items() if chk.reads_of(cls.permissions)}
    return sources


def validate_overrides(catalog: Catalog, config: Config, registry: Registry) -> None:
    """`[controls.ID]` must name a control and parameters some check of it takes, with values
    every such check's parameter model accepts (type and bounds)."""
    where = config.path or "configuration"
    for control_id, params in config.controls.items():
        if control_id not in catalog.controls:
            raise ConfigError(f"{where}: [controls.{control_id}]: unknown control")
        control = catalog.controls[control_id]
        known: set[str] = set()
        for ref in control.checks:
            chk = registry.checks.get(ref.id)
            if chk is not None:
                known.update(chk.param_model.model_fields)
        for name in params:
            if name not in known:
                raise ConfigError(
                    f"{where}: unknown key 'controls.{control_id}.{name}' "
                    f"(parameters: {', '.join(sorted(known)) or 'none'})"
                )
        for ref in control.checks:
            chk = registry.checks.get(ref.id)
            if chk is None:
                continue
            effective = effective_params(control, ref, chk.params, config.controls)
            bad = param_problem(chk.param_model, effective)
            if bad is not None:
                name, why = bad
                raise ConfigError(f"{where}: key 'controls.{control_id}.{name}': {why}")


def resolve_params(catalog: Catalog, config: Config, registry: Registry) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for control in catalog.controls.values():
        for ref in control.checks:
            chk = registry.checks.get(ref.id)
            defaults = chk.params if chk is not None else {}
            out.setdefault(control.id, {})[ref.id] = effective_params(control, ref, defaults, config.controls)
    return out


def load_checked_catalog(registry: Registry, catalog_dir: Path | None = None) -> Catalog:
    catalog = load_catalog(catalog_dir)
    problems = validate_catalog(catalog, {cid: c.param_model for cid, c in registry.checks.items()})
    # a check that is missing only because its plugin failed to load is judged as an error later
    broken = {e.name for e in registry.errors}
    problems = [p for p in problems if not (broken and "unknown check" in p)]
    if problems:
        raise CatalogError("; ".join(problems))
    return catalog


__all__ = ["check_sources", "load_checked_catalog", "resolve_params", "validate_overrides"]
