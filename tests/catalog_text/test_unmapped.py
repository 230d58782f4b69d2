"""Acceptance 3: sentences no rule maps but that read as a promise become `manual` controls
quoting them, listed at the end of the explanation; sentences that promise nothing are left out."""

from __future__ import annotations

from pathlib import Path

from evidence.catalog import CONTROL_ID, load_catalog
from evidence.catalog_text import draft_from_text, explain, write_catalog

TEXT = """Security

We encrypt data in transit with TLS 1.2. We shred paper records every month.
Our offices are locked at night. Staff must wear badges. Acme has offices in Leeds.
Where is my data? You may ask us for a copy.
"""


def test_unmapped_promises_become_manual_controls_quoting_them(tmp_path: Path) -> None:
    draft = draft_from_text(TEXT)
    assert [d.control.id for d in draft.mapped] == ["ENC-TRANSIT"]
    unmapped = {d.control.id: d.control for d in draft.unmapped}
    assert list(unmapped) == ["STMT-01-we-shred-paper-records-every", "STMT-02-our-offices-are-locked-at",
                              "STMT-03-staff-must-wear-badges"]
    shred = unmapped["STMT-01-we-shred-paper-records-every"]
    assert shred.statement == "We shred paper records every month."
    assert shred.section == "Security" and shred.criteria == ["CC2.3"] and not shred.checks
    assert [m.id for m in shred.manual] == ["statement-evidence"]
    assert shred.title == "We shred paper records every month."
    write_catalog(draft.drafts, tmp_path, "acme.txt")
    assert set(load_catalog(tmp_path).controls) == {"ENC-TRANSIT", *unmapped}
    assert "no rule maps this sentence" in (tmp_path / "STMT-03-staff-must-wear-badges.toml").read_text()


def test_explain_names_the_rule_the_words_and_lists_the_unmapped_at_the_end() -> None:
    text = explain(draft_from_text(TEXT))
    head, _, tail = text.partition("Unmapped statements")
    assert "ENC-TRANSIT: Encryption in transit (CC6.7) by rule ENC-TRANSIT" in head
    assert '"in transit" by /\\bin transit\\b/' in head
    assert 'min_tls = "1.2": from "TLS 1.2" (sentence 1)' in head
    for line in ('STMT-01-we-shred-paper-records-every (sentence 2, reads as a promise by "We"): '
                 '"We shred paper records every month."',
                 'STMT-03-staff-must-wear-badges (sentence 4, reads as a promise by "must")'):
        assert line in tail
    assert "Leeds" not in text and "Where is my data" not in text


def test_manual_ids_fit_the_catalog_pattern_whatever_the_words() -> None:
    import re

    draft = draft_from_text("Wir müssen alles verschlüsseln, sagen wir. 我们 must ÉTÉ always 🔒 " + "x" * 200 + ".")
    for d in draft.unmapped:
        assert re.match(CONTROL_ID, d.control.id), d.control.id
        assert len(d.control.id) <= 64
