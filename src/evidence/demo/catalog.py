"""The demo's catalog: Zaptic's, drafted by `from-text` from Zaptic's own overview (a copy of the
seed text in `data/zaptic-overview.txt`), so that the demo shows the path a company takes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from evidence.catalog_text import draft_from_file, write_catalog
from evidence.registry import Registry

DEMO_OVERVIEW = "zaptic-overview.txt"
#: how the demo's manifest and reports name its catalog (its folder is a scratch folder)
DEMO_CATALOG_LABEL = f"drafted by evidence catalog from-text from {DEMO_OVERVIEW}"


def demo_overview() -> Path:
    """Zaptic's privacy notice and security overview, as published (the seed text)."""
    return Path(str(resources.files("evidence.demo"))) / "data" / DEMO_OVERVIEW


def build_demo_catalog(out: Path, registry: Registry | None = None, *, unmapped: bool = True) -> Path:
    """Draft Zaptic's catalog from its overview into `out` (made if missing; its *.toml files are
    replaced) and return `out`, for `Runner(catalog_dir=...)`. `unmapped=False` leaves out the
    `manual` controls of the sentences no rule maps (STMT-...), keeping the rule-mapped ones."""
    registry = registry or Registry.load()
    drafted = draft_from_file(demo_overview(),
                              check_params={cid: c.param_model for cid, c in registry.checks.items()})
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.toml"):
        stale.unlink()
    write_catalog(drafted.drafts if unmapped else drafted.mapped, out, DEMO_OVERVIEW)
    return out


__all__ = ["DEMO_CATALOG_LABEL", "DEMO_OVERVIEW", "build_demo_catalog", "demo_overview"]
