"""Acceptance 1: from-text on Zaptic's overview drafts every automated control of the built-in
catalog with the same checks and parameter values, quoting the same sentences.

Known differences, each explained in KNOWN_DIFFERENCES below and checked to stay that way:
- TLS-CERTS, aws.acm.certificate_key_strength: the draft also sets min_signature_hash_bits = 256
  ("signed with SHA256"), which the built-in leaves at that check's default, 256: same value.
- section: the draft's is the heading trail the text itself shows ("Operational Security / Code
  Reviews and Production Deployment"); the built-in's was written by hand with the document's name
  in front ("Security Overview / Code Reviews ..."). The nearest heading is the same for every
  control, which is what is compared."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence.catalog import Catalog, Control, effective_params, load_catalog, validate_catalog
from evidence.catalog_text import draft_from_text, write_catalog
from evidence.checks.params import defaults
from evidence.demo.catalog import demo_overview
from evidence.registry import Registry
from tests.catalog_text.support import param_models, require_seed, seed_text

#: (control, check) -> parameters the draft sets that the built-in catalog leaves at their default
KNOWN_DIFFERENCES = {("TLS-CERTS", "aws.acm.certificate_key_strength"): {"min_signature_hash_bits": 256}}


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Catalog:
    out = tmp_path_factory.mktemp("zaptic")
    draft = draft_from_text(seed_text(), check_params=param_models(registry))
    write_catalog(draft.drafts, out, "zaptic")
    return load_catalog(out)


def _automated() -> list[Control]:
    return [c for c in load_catalog().controls.values() if c.checks]


@pytest.mark.parametrize("builtin", _automated(), ids=lambda c: c.id)
def test_every_automated_control_is_drafted_with_its_checks_and_values(
    builtin: Control, drafted: Catalog, registry: Registry
) -> None:
    assert builtin.id in drafted.controls, f"{builtin.id} not drafted"
    draft = drafted.controls[builtin.id]
    assert [r.id for r in draft.checks] == [r.id for r in builtin.checks]
    for mine, theirs in zip(draft.checks, builtin.checks, strict=True):
        extra = KNOWN_DIFFERENCES.get((builtin.id, mine.id), {})
        assert mine.params == {**theirs.params, **extra}, (builtin.id, mine.id)
        model_defaults = defaults(registry.checks[mine.id].param_model)
        assert effective_params(draft, mine, model_defaults, {}) == effective_params(
            builtin, theirs, model_defaults, {}), (builtin.id, mine.id)
    assert draft.statement == builtin.statement
    assert draft.title == builtin.title
    assert draft.criteria == builtin.criteria
    assert draft.manual == builtin.manual
    assert draft.remediate_within_days == builtin.remediate_within_days
    assert draft.section.split(" / ")[-1] == builtin.section.split(" / ")[-1]


def test_the_known_differences_are_defaults_of_the_check(registry: Registry) -> None:
    for (_, check_id), params in KNOWN_DIFFERENCES.items():
        model_defaults = defaults(registry.checks[check_id].param_model)
        assert all(model_defaults[k] == v for k, v in params.items())


def test_the_manual_controls_of_the_builtin_catalog_are_drafted_the_same(drafted: Catalog) -> None:
    for builtin in load_catalog().controls.values():
        if builtin.checks:
            continue
        draft = drafted.controls[builtin.id]
        assert (draft.statement, draft.title, draft.criteria, draft.manual) == (
            builtin.statement, builtin.title, builtin.criteria, builtin.manual)


def test_the_draft_is_a_valid_catalog_quoting_the_seed(drafted: Catalog, registry: Registry) -> None:
    assert validate_catalog(drafted, param_models(registry)) == []
    text = seed_text()
    for control in drafted.controls.values():
        assert control.statement in text, control.id
    assert set(load_catalog().controls) <= set(drafted.controls)
    extra = set(drafted.controls) - set(load_catalog().controls)
    assert extra and all(cid.startswith("STMT-") for cid in extra)
    assert all(not drafted.controls[cid].checks and drafted.controls[cid].manual for cid in extra)


def test_the_demo_copy_is_the_seed_text() -> None:
    seed = require_seed()
    assert demo_overview().read_bytes() == seed.read_bytes()


def test_the_demo_catalog_is_built_from_the_copy(tmp_path: Path, registry: Registry) -> None:
    from evidence.demo.catalog import build_demo_catalog

    (tmp_path / "STALE.toml").write_text("not a control")
    folder = build_demo_catalog(tmp_path, registry)
    catalog = load_catalog(folder)
    assert "STALE" not in catalog.controls
    assert validate_catalog(catalog, param_models(registry)) == []
    only_mapped = load_catalog(build_demo_catalog(tmp_path / "mapped", registry, unmapped=False))
    assert set(only_mapped.controls) == set(load_catalog().controls)
