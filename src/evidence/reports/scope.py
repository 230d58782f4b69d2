"""The cover's scope table: what a run looked at, in each collector's own words."""

from __future__ import annotations

from typing import Any

from evidence.reports.content import BundleContent


def scope_rows(content: BundleContent) -> list[tuple[str, str]]:
    """Rows of the cover's scope table: the sources and why any was not collected, `--only`,
    then for each collected source the rows its collector wrote into the manifest
    (`scope.details`: its title, the accounts its evidence names when it has accounts, and its
    own (label, value) rows). Bundles written before `scope.details` existed keep their rows."""
    scope: dict[str, Any] = content.meta.get("scope", {}) or {}
    rows: list[tuple[str, str]] = []
    sources = scope.get("sources") or {}
    if sources:
        rows.append(("Sources", "; ".join(f"{k}: {v}" for k, v in sorted(sources.items()))))
    if scope.get("only"):
        rows.append(("Limited to (--only)", ", ".join(scope["only"])))
    details = scope.get("details")
    if not isinstance(details, dict):
        return rows + _legacy_rows(content, scope)
    for _, detail in sorted(details.items()):
        title = str(detail.get("title") or "")
        if detail.get("accounts"):
            rows.append((f"{title} accounts", ", ".join(str(a) for a in detail["accounts"])))
        rows.extend((str(label), str(value)) for label, value in detail.get("rows", []))
    return rows


def _legacy_rows(content: BundleContent, scope: dict[str, Any]) -> list[tuple[str, str]]:
    """The scope rows of a bundle from before `scope.details` (its manifest named each source's keys)."""
    rows: list[tuple[str, str]] = []
    accounts = sorted({rel.split("/")[2] for rel in content.hashes
                       if rel.startswith("evidence/aws/") and len(rel.split("/")) > 3 and rel.split("/")[2] != "_"})
    if accounts:
        rows.append(("AWS accounts", ", ".join(accounts)))
    if scope.get("aws_regions"):
        rows.append(("AWS regions", ", ".join(scope["aws_regions"])))
    if scope.get("aws_organization"):
        rows.append(("AWS organization", "every member account of the organization"))
    if scope.get("aws_assume_roles"):
        rows.append(("AWS roles assumed", ", ".join(scope["aws_assume_roles"])))
    if scope.get("google_workspace_customer"):
        rows.append(("Google Workspace tenant", str(scope["google_workspace_customer"])))
    if scope.get("github_org"):
        rows.append(("GitHub organization", str(scope["github_org"])))
    probes = scope.get("probes") or {}
    targets = [*probes.get("tls_endpoints", []), *probes.get("urls", [])]
    if targets:
        rows.append(("Probed endpoints", ", ".join(targets)))
    return rows
