"""A catalog drafted from a company's own security overview (`evidence catalog from-text`).

The overview (text, or a local HTML file) is read into paragraphs with their section
(`reading`), split into verbatim sentences (`sentences`); the rules of `rules.toml` (`rules`) map
sentences to controls, their checks and the parameters read from the words (`extractors`,
`drafting`); sentences that no rule maps but that read as a promise (`promises`) become `manual`
controls. `writing` writes the catalog files, `explain` says which rule matched which words.
Deterministic: no network, no model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from evidence.catalog_text.drafting import Draft, DraftCatalog, NoPromisesError, draft_catalog
from evidence.catalog_text.explain import explain
from evidence.catalog_text.reading import Paragraph, paragraphs_of, read_overview
from evidence.catalog_text.rules import RulesError, RuleSet, default_rules_path, load_rules
from evidence.catalog_text.sentences import Sentence, sentences_of
from evidence.catalog_text.writing import write_catalog
from evidence.checks.params import Params


def draft_from_text(text: str, *, html: bool = False, rules: RuleSet | None = None,
                    check_params: Mapping[str, type[Params]] | None = None) -> DraftCatalog:
    """The controls an overview's text promises (raises NoPromisesError when it promises none)."""
    return draft_catalog(sentences_of(paragraphs_of(text, html=html)), rules or load_rules(), check_params)


def draft_from_file(path: Path, *, rules: RuleSet | None = None,
                    check_params: Mapping[str, type[Params]] | None = None) -> DraftCatalog:
    return draft_catalog(sentences_of(read_overview(path)), rules or load_rules(), check_params)


__all__ = [
    "Draft", "DraftCatalog", "NoPromisesError", "Paragraph", "RuleSet", "RulesError", "Sentence",
    "default_rules_path", "draft_catalog", "draft_from_file", "draft_from_text", "explain", "load_rules",
    "paragraphs_of", "read_overview", "sentences_of", "write_catalog",
]
