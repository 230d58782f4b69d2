"""Every check against its vendor's own description of the responses it reads (offline).

For each registered check (one test per check id, so a module not yet converted shows up by
name):

1. **Declared paths.** Each inventory of its chain and each listing it declares: the evidence
   key is an operation the vendor describes, the `items` path exists and is a list, the `id`
   field exists in each item and is a name. Every other key it `requires` is described too.
2. **Every field it reads.** The check runs on responses generated from the same descriptions
   (`vendor_shapes`: AWS through the real collector, GitHub through the real collector over a
   mock transport, Google as the collector records `users.list`), wrapped so that every key
   looked up (`[]`, `.get`, `in`, hence `need`/`Item.need`) is noted with its path; each noted
   path must exist in the description. Reads of record `parameters`/`subject` are the
   collector's own and out of scope. So that this is complete, every field the check's code
   names in a `need`/`parts` call (its function and the check-module helpers it calls) must
   have been reached by the generated data.

Probe records are evidence's own (`vendor_shapes.OWN_SOURCES`): those checks are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from evidence.checks.base import Check
from evidence.judge import run_check
from evidence.records import EvidenceIndex
from evidence.registry import Registry
from tests.fakes.openapi import OpenAPISpec

from .vendor_shapes import (
    OWN_SOURCES,
    Reads,
    RecordingIndex,
    Vendors,
    bundle,
    inventory_problems,
    judging,
    seeds,
    show_path,
    static_reads,
    walk,
)

REGISTRY = Registry.load()
CHECKS: dict[str, Check] = REGISTRY.checks
#: plugins that did not load (a module not yet converted): each is a failing test of its own
BROKEN = {f"plugin:{e.name}": str(e) for e in REGISTRY.errors}
IDS = sorted(CHECKS) + sorted(BROKEN)

#: reads that are deliberately not in the description, each with why it is harmless
_ALLOWANCES = "required_pull_request_reviews.bypass_pull_request_allowances"
TOLERATED: Mapping[tuple[str, str], str] = {
    ("github.repos/get-branch-protection", f"{_ALLOWANCES}.teams[].login"):
        "github_rules._name_of tries login, slug, name, id for a message (a team has slug)",
    ("github.repos/get-branch-protection", f"{_ALLOWANCES}.apps[].login"):
        "github_rules._name_of tries login, slug, name, id for a message (an app has slug)",
}


def _check(check_id: str) -> Check:
    if check_id in BROKEN:
        pytest.fail(f"{BROKEN[check_id]}: its checks cannot be held to the vendor's description", pytrace=False)
    return CHECKS[check_id]


def _own(chk: Check) -> None:
    if chk.source in OWN_SOURCES:
        pytest.skip(f"{chk.id}: {OWN_SOURCES[chk.source]}")


@pytest.fixture(scope="module")
def vendors(request: pytest.FixtureRequest) -> Vendors:
    def github_document() -> Mapping[str, Any]:
        spec: OpenAPISpec = request.getfixturevalue("spec")
        return spec.document

    return Vendors(github_document)


@pytest.mark.parametrize("check_id", IDS)
def test_declared_inventory_is_where_the_vendor_puts_it(check_id: str, vendors: Vendors) -> None:
    chk = _check(check_id)
    _own(chk)
    problems: list[str] = []
    declared = [*chk.inventory.chain(), *(inv for other in chk.listings for inv in other.chain())]
    for inv in dict.fromkeys(declared):
        problems.extend(inventory_problems(inv, vendors.root(chk.source, inv.key)))
    for key in chk.requires:
        try:
            vendors.root(chk.source, key)
        except Exception as exc:  # botocore's unknown service/operation, a missing GitHub operation
            problems.append(f"{key}: not an operation the vendor describes ({type(exc).__name__}: {exc})")
    assert not problems, f"{chk.id} declares paths its vendor does not have:\n  " + "\n  ".join(problems)


# --- every field read -------------------------------------------------------------------------


def _bundles(chk: Check, request: pytest.FixtureRequest, base: Path) -> list[EvidenceIndex]:
    """Generated bundles for every check of `chk`'s source (shared by them, and by the fuzz test)."""
    spec = request.getfixturevalue("spec") if chk.source == "github" else None
    peers = [c for c in CHECKS.values() if c.source == chk.source]
    return [bundle(chk.source, seed, peers, base, spec) for seed in seeds(chk.source)]


class ReadsOf:
    """What each check read of generated responses (each check run once per test module)."""

    def __init__(self, request: pytest.FixtureRequest, base: Path) -> None:
        self.request = request
        self.base = base
        self._reads: dict[str, Reads] = {}

    def __call__(self, chk: Check) -> Reads:
        if chk.id not in self._reads:
            reads = self._reads[chk.id] = Reads()
            settings = judging([chk.source])
            for index in _bundles(chk, self.request, self.base):
                run_check(chk, "CONFORMANCE", settings, RecordingIndex(index, reads))
        return self._reads[chk.id]

    def reached(self, source: str) -> set[str]:
        """Every name read by any check of `source` (checks share helpers: a helper's read may be
        reached through another check only, and is held to the description in that one's test)."""
        return {part for chk in CHECKS.values() if chk.source == source
                for _, path in self(chk).paths for part in path}


@pytest.fixture(scope="module")
def reads_of(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ReadsOf:
    return ReadsOf(request, tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("check_id", IDS)
def test_every_field_read_is_in_the_vendor_description(check_id: str, vendors: Vendors, reads_of: ReadsOf) -> None:
    chk = _check(check_id)
    _own(chk)
    problems: list[str] = []
    for key, paths in sorted(reads_of(chk).by_key().items()):
        root = vendors.root(chk.source, key)
        for path in sorted(paths):
            _, why = walk(root, path)
            if why and (key, show_path(path)) not in TOLERATED:
                problems.append(f"{key} {show_path(path)}: {why}")
    assert not problems, f"{chk.id} reads fields its vendor does not describe:\n  " + "\n  ".join(problems)
    reached = reads_of.reached(chk.source)
    unreached = {name: where for name, where in static_reads(chk.fn).items() if name not in reached}
    assert not unreached, (
        f"{chk.id} reads fields no generated response reached, so they were not checked against the "
        "description (teach vendor_shapes.Generator to reach them): "
        + "; ".join(f"'{name}' at {', '.join(where)}" for name, where in sorted(unreached.items()))
    )
