"""The engine of `from-text`: the rules applied to an overview's sentences, one draft per control.

A rule that matches one or more sentences drafts one control: the first matching sentence is its
statement (quoted verbatim, with its section), the others are kept beside it; its title, criteria,
checks and manual evidence come from the rule, its parameters from the extractors read over the
matched sentences (the first one that states a value), else their defaults. A sentence that no
rule matches but that reads as a promise drafts a `manual` control quoting it (STMT-<n>-<words>).

When the checks' parameter models are given, a value read from the text that a check refuses
(e.g. "0-day backups") is replaced by the extractor's default, and the draft says so."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from evidence.catalog import CheckRef, Control, ManualRequirement
from evidence.catalog_text.extractors import Extracted, extract
from evidence.catalog_text.promises import promise_words
from evidence.catalog_text.rules import Rule, RulesError, RuleSet, placeholder
from evidence.catalog_text.sentences import Sentence
from evidence.checks.params import Params
from evidence.checks.params import problem as param_problem


class NoPromisesError(Exception):
    """The text holds no sentence that a rule maps or that reads as a promise."""


@dataclass(frozen=True)
class Hit:
    """A sentence a rule matched, with the words each of its patterns found (pattern, words)."""

    sentence: Sentence
    words: tuple[tuple[str, str], ...]


@dataclass
class Draft:
    control: Control
    #: the rule that drafted it; None for a sentence no rule maps (a `manual` control)
    rule: Rule | None
    hits: list[Hit]
    params: list[Extracted] = field(default_factory=list)
    #: parameter values the text stated but a check refused: (name, value, why)
    refused: list[tuple[str, Any, str]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class DraftCatalog:
    drafts: tuple[Draft, ...]
    sentences: int

    @property
    def mapped(self) -> list[Draft]:
        return [d for d in self.drafts if d.rule is not None]

    @property
    def unmapped(self) -> list[Draft]:
        return [d for d in self.drafts if d.rule is None]


def matches(rule: Rule, text: str) -> tuple[tuple[str, str], ...]:
    """(pattern, words) for each of `rule`'s patterns found in `text`; empty when it does not match."""
    if any(p.regex.search(text) for p in rule.unless):
        return ()
    return tuple((p.source, m.group(0)) for p in rule.match if (m := p.regex.search(text)))


def draft_catalog(
    sentences: Sequence[Sentence],
    rules: RuleSet,
    check_params: Mapping[str, type[Params]] | None = None,
) -> DraftCatalog:
    hits: dict[str, list[Hit]] = {}
    unmapped: list[tuple[Sentence, str]] = []
    for sentence in sentences:
        matched = False
        for rule in rules.rules:
            if found := matches(rule, sentence.text):
                hits.setdefault(rule.control, []).append(Hit(sentence, found))
                matched = True
        if not matched and (words := promise_words(sentence.text, rules.promises)):
            unmapped.append((sentence, words))
    drafts = [_rule_draft(rule, hits[rule.control], rules, check_params) for rule in rules.rules
              if rule.control in hits]
    drafts.sort(key=lambda d: d.hits[0].sentence.number)
    taken = {d.control.id for d in drafts}
    for n, (sentence, words) in enumerate(unmapped, start=1):
        drafts.append(_manual_draft(n, sentence, words, rules, taken))
    if not drafts:
        raise NoPromisesError(f"no testable promise found in {len(sentences)} sentences")
    return DraftCatalog(tuple(drafts), len(sentences))


def _rule_draft(rule: Rule, hits: list[Hit], rules: RuleSet,
                check_params: Mapping[str, type[Params]] | None) -> Draft:
    texts = [(h.sentence.number, h.sentence.text) for h in hits]
    values: dict[str, Extracted] = {}
    for name in rule.placeholders():
        if (got := extract(rules.extractors[name], texts, rules.places)) is not None:
            values[name] = got
    refused: list[tuple[str, Any, str]] = []
    checks: list[CheckRef] = []
    for check_id, template in rule.checks:
        params = _fill(template, values)
        model = (check_params or {}).get(check_id)
        while model is not None and (bad := param_problem(model, params)):
            name, why = bad
            source = _source_of(template, name)
            default = rules.extractors[source].default if source in rules.extractors else None
            got = values.get(source) if source else None
            if got is None or not got.words:
                break  # not a value read from the text: the rule's own, validation will report it
            refused.append((name, got.value, why))
            if default is None:
                params.pop(name)
                values.pop(source, None)
            else:
                values[source] = Extracted(source, default)
            params = _fill(template, values)
        checks.append(CheckRef(id=check_id, params=params))
    manual = [_manual(rule, req, values, rules) for req in rule.manual]
    first = hits[0].sentence
    control = Control(
        id=rule.control, title=rule.title, statement=first.text, section=first.section,
        criteria=list(rule.criteria), checks=checks, manual=manual,
        **({"remediate_within_days": rule.remediate_within_days} if rule.remediate_within_days is not None else {}),
    )
    note = _note(rule.note, values)
    return Draft(control, rule, hits, [values[n] for n in rule.placeholders() if n in values], refused, note)


def _fill(template: Mapping[str, Any], values: Mapping[str, Extracted]) -> dict[str, Any]:
    """`template` with each "{name}" replaced by its value (dropped when there is none)."""
    out: dict[str, Any] = {}
    for key, value in template.items():
        name = placeholder(value)
        if name is None:
            out[key] = value
        elif name in values:
            out[key] = values[name].value
    return out


def _manual(rule: Rule, template: Mapping[str, Any], values: Mapping[str, Extracted],
            rules: RuleSet) -> ManualRequirement:
    """A manual requirement of `rule`, with the text's values, else the extractors' defaults."""
    defaults = {n: Extracted(n, e.default) for n, e in rules.extractors.items() if e.default is not None}
    for attempt in (values, defaults):
        try:
            return ManualRequirement.model_validate(_fill(template, attempt))
        except ValidationError as exc:
            why = exc.errors()[0]
    where = ".".join(str(p) for p in why["loc"])
    raise RulesError(f"rule {rule.control}: a manual requirement's '{where}': {why['msg']}")


def _source_of(template: Mapping[str, Any], param: str) -> str:
    return placeholder(template.get(param)) or ""


def _note(note: str, values: Mapping[str, Extracted]) -> str:
    if not note:
        return ""
    missing = False

    def value(m: re.Match[str]) -> str:
        nonlocal missing
        if m.group(1) in values:
            return str(values[m.group(1)].value)
        missing = True
        return ""

    text = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", value, note)
    return "" if missing else text


def slug(text: str, words: int = 5) -> str:
    """Lower-case ASCII words of `text` joined by dashes: "We use Google..." -> we-use-google."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)[:words])


def _manual_draft(n: int, sentence: Sentence, words: str, rules: RuleSet, taken: set[str]) -> Draft:
    base = f"STMT-{n:02d}"
    control_id = f"{base}-{slug(sentence.text)}".rstrip("-")[:64].rstrip("-.")
    if control_id in taken:
        control_id = base
    taken.add(control_id)
    promises = rules.promises
    title_words = sentence.text.split()
    title = " ".join(title_words[: promises.title_words])
    if len(title_words) > promises.title_words:
        title += " …"
    control = Control(
        id=control_id, title=title, statement=sentence.text, section=sentence.section,
        criteria=list(promises.criteria),
        manual=[ManualRequirement(id=promises.manual_id, description=promises.manual_description,
                                  valid_for_days=promises.manual_valid_for_days)],
    )
    return Draft(control, None, [Hit(sentence, (("promise", words),))])
