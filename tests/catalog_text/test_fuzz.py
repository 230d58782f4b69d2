"""Acceptance 5 (property): whatever the text, from-text never crashes and what it writes is a
catalog that `evidence catalog validate` accepts (or it says the text promises nothing)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.catalog import load_catalog, validate_catalog
from evidence.catalog_text import NoPromisesError, draft_from_text, load_rules, write_catalog
from evidence.registry import Registry
from tests.catalog_text.support import param_models

REGISTRY = Registry.load()
RULES = load_rules()
FRAGMENTS = [
    "We encrypt data in transit with TLS 1.", "0-day backups", "point-in-time backups for 99999 days",
    "Our SSL certificates are 1 bit RSA, signed with SHA1.", "stored in the EU", "in Frankfurt", "UK",
    "security@", "security@x.y", "peer review", "We", "must", "annual disaster recovery tests", ". ", "\n",
    "\n\n", "<h2>", "</h2>", "<p>", "<script>", "&amp;", "e.g.", '"', "\\", "\x00", "\x1f", "\u2028", "\ud800",
    "Log data. ", "– ", "Heading\n", "rotated every 0 days", "at least two", "every 0 days",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=25), html=st.booleans())
def test_from_text_never_crashes_and_writes_a_valid_catalog(parts: list[str], html: bool) -> None:
    text = "".join(parts)
    try:
        draft = draft_from_text(text, html=html, rules=RULES, check_params=param_models(REGISTRY))
    except NoPromisesError:
        return
    with tempfile.TemporaryDirectory() as folder:
        write_catalog(draft.drafts, Path(folder), "fuzz.txt")
        catalog = load_catalog(Path(folder))
        assert validate_catalog(catalog, param_models(REGISTRY)) == []
        assert len(catalog.controls) == len(draft.drafts)
