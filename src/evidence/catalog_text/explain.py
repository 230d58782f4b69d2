"""`from-text --explain`: for each control, which rule matched which words and where each
parameter came from; then the sentences no rule maps (drafted as `manual` controls), so that a
person can map them."""

from __future__ import annotations

import json

from evidence.catalog_text.drafting import Draft, DraftCatalog


def _quote(text: str, width: int = 110) -> str:
    return f'"{text}"' if len(text) <= width else f'"{text[: width - 1]}…"'


def _value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def explain_draft(draft: Draft) -> list[str]:
    control = draft.control
    assert draft.rule is not None
    lines = [f"{control.id}: {control.title} ({', '.join(control.criteria)}) by rule {draft.rule.control}"]
    for hit in draft.hits:
        role = "statement" if hit is draft.hits[0] else "also"
        where = f" [{hit.sentence.section}]" if hit.sentence.section else ""
        lines.append(f"  {role} (sentence {hit.sentence.number}){where}: {_quote(hit.sentence.text)}")
        lines.append("    matched " + ", ".join(f"{_value(words)} by /{pattern}/" for pattern, words in hit.words))
    for got in draft.params:
        said = f"from {_value(got.words)} (sentence {got.sentence})" if got.words else "the rule's default"
        lines.append(f"  {got.name} = {_value(got.value)}: {said}")
    for name, value, why in draft.refused:
        lines.append(f"  {name}: the text said {_value(value)}, which the check refuses ({why}); default used")
    if draft.note:
        lines.append(f"  note: {draft.note}")
    checks = ", ".join(ref.id for ref in control.checks) or "none"
    lines.append(f"  checks: {checks}")
    if control.manual:
        lines.append("  manual: " + ", ".join(f"{m.id} ({m.valid_for_days} days)" for m in control.manual))
    return lines


def explain(catalog: DraftCatalog) -> str:
    mapped, unmapped = catalog.mapped, catalog.unmapped
    lines = [f"{catalog.sentences} sentences read: {len(mapped)} controls drafted by rules, "
             f"{len(unmapped)} statements no rule maps", ""]
    for draft in mapped:
        lines += [*explain_draft(draft), ""]
    if unmapped:
        lines.append("Unmapped statements, drafted as manual controls (map each with a rule, or edit the control):")
        for draft in unmapped:
            sentence = draft.hits[0].sentence
            promise = draft.hits[0].words[0][1]
            lines.append(f"  {draft.control.id} (sentence {sentence.number}, reads as a promise by "
                         f"{_value(promise)}): {_quote(sentence.text)}")
    return "\n".join(lines).rstrip() + "\n"
