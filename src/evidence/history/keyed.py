"""What identifies a finding across runs, and a run's findings by that key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from evidence.models import Finding, finding_key


def iter_keyed(findings: Iterable[Finding]) -> Iterator[tuple[str, Finding]]:
    """`keyed_findings` one finding at a time (only the keys seen are held)."""
    seen: dict[str, int] = {}
    for f in findings:
        base = finding_key(f)
        n = seen.get(base, 0) + 1
        seen[base] = n
        yield (base if n == 1 else f"{base}#{n}"), f


def keyed_findings(findings: Iterable[Finding]) -> dict[str, Finding]:
    """Findings by `finding_key`; a key seen again in the same run gets `#2`, `#3`..."""
    out: dict[str, Finding] = {}
    for f in findings:
        key = base = finding_key(f)
        n = 1
        while key in out:
            n += 1
            key = f"{base}#{n}"
        out[key] = f
    return out


__all__ = ["finding_key", "iter_keyed", "keyed_findings"]
