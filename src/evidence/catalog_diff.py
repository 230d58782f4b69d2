"""What changed from one catalog to another: controls added or removed, and for a control in
both, its statement, title, criteria, checks, parameters and manual evidence. A company sees
what its new security overview changes before its next audit (`evidence catalog diff A B`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from evidence.catalog import Catalog, Control

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class CatalogChange:
    """One difference: a control added or removed, or one field of a control in both."""

    control_id: str
    kind: Kind
    #: for `changed`: "statement", "title", "criteria", "check <id>", "params <check>.<name>", "manual <id>"...
    what: str = ""
    before: Any = None
    after: Any = None

    def line(self) -> str:
        if self.kind != "changed":
            return f"{'+' if self.kind == 'added' else '-'} {self.control_id}: {self.after or self.before}"
        return f"~ {self.control_id} {self.what}: {_show(self.before)} → {_show(self.after)}"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return repr(value) if not isinstance(value, str) else f'"{value}"'


def _control_changes(a: Control, b: Control) -> list[CatalogChange]:
    out: list[CatalogChange] = []
    for name in ("statement", "title", "section", "criteria", "remediate_within_days"):
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            out.append(CatalogChange(a.id, "changed", name, before, after))
    checks_a = {r.id: dict(r.params) for r in a.checks}
    checks_b = {r.id: dict(r.params) for r in b.checks}
    for cid in sorted(set(checks_a) | set(checks_b)):
        if cid not in checks_b:
            out.append(CatalogChange(a.id, "changed", f"check {cid}", "evidenced", None))
        elif cid not in checks_a:
            out.append(CatalogChange(a.id, "changed", f"check {cid}", None, "evidenced"))
        else:
            pa, pb = checks_a[cid], checks_b[cid]
            for name in sorted(set(pa) | set(pb)):
                if pa.get(name) != pb.get(name):
                    out.append(CatalogChange(a.id, "changed", f"params {cid}.{name}", pa.get(name), pb.get(name)))
    manual_a = {m.id: m.model_dump(mode="json") for m in a.manual}
    manual_b = {m.id: m.model_dump(mode="json") for m in b.manual}
    for mid in sorted(set(manual_a) | set(manual_b)):
        if manual_a.get(mid) != manual_b.get(mid):
            out.append(CatalogChange(a.id, "changed", f"manual {mid}", manual_a.get(mid), manual_b.get(mid)))
    return out


def diff_catalogs(a: Catalog, b: Catalog) -> list[CatalogChange]:
    """Every difference from `a` to `b`, by control id."""
    out: list[CatalogChange] = []
    for cid in sorted(set(a.controls) | set(b.controls)):
        if cid not in b.controls:
            out.append(CatalogChange(cid, "removed", before=a.controls[cid].title))
        elif cid not in a.controls:
            out.append(CatalogChange(cid, "added", after=b.controls[cid].title))
        else:
            out.extend(_control_changes(a.controls[cid], b.controls[cid]))
    return out


__all__ = ["CatalogChange", "diff_catalogs"]
