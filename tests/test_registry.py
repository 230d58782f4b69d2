"""Walk the registry: every plugin declares a description and the exact permissions it needs."""

from __future__ import annotations

from evidence.registry import Registry


def test_every_collector_declares_description_and_permissions(registry: Registry) -> None:
    assert "aws" in registry.collectors
    for source, cls in registry.collectors.items():
        assert cls.description.strip(), source
        assert cls.permission_kind.strip(), source
        assert cls.permissions, f"{source} declares no permissions"
        for key, perms in cls.permissions.items():
            assert "." in key, key
            assert perms and all(p.strip() for p in perms), f"{source}: {key} declares no permission"


def test_every_check_declares_description_and_its_evidence_is_permitted(registry: Registry) -> None:
    assert registry.checks
    for cid, chk in registry.checks.items():
        assert chk.description.strip(), cid
        assert chk.requires, f"{cid} requires no evidence"
        collector = registry.collectors.get(chk.source)
        assert collector is not None, f"{cid}: no collector for source {chk.source}"
        for key in chk.requires:
            assert key in collector.permissions, f"{cid} reads {key}, which {chk.source} declares no permission for"


def test_every_key_a_check_reads_of_another_source_is_collected_by_that_source(registry: Registry) -> None:
    """`Check.reads`: another source's evidence, which that source's collector declares."""
    for cid, chk in registry.checks.items():
        for key in chk.reads:
            owners = [s for s, cls in registry.collectors.items() if key in cls.permissions]
            assert owners, f"{cid} reads {key}, which no collector declares"
            assert chk.source not in owners, f"{cid} reads its own source's {key}: list it in requires"
