"""Drafted controls written as catalog files: one `<ID>.toml` per control, in the layout of the
built-in `controls/` (id, title, statement, section, criteria, then [[checks]] and [[manual]]),
with comments saying where each came from."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evidence.catalog import Control
from evidence.catalog_text.drafting import Draft

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(text: str) -> str:
    """`text` as a TOML basic string."""
    out = ['"']
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else toml_string(name)


def comment(text: str) -> str:
    """`text` as one comment line (control characters, which TOML comments refuse, become spaces)."""
    return "# " + _CONTROL_CHARS.sub(" ", text).rstrip()


def control_toml(control: Control, comments: Sequence[str] = ()) -> str:
    lines = [comment(c) for c in comments]
    lines += [
        f"id = {toml_string(control.id)}",
        f"title = {toml_string(control.title)}",
        f"statement = {toml_string(control.statement)}",
        f"section = {toml_string(control.section)}",
        f"criteria = {toml_value(control.criteria)}",
    ]
    if control.remediate_within_days != Control.model_fields["remediate_within_days"].default:
        lines.append(f"remediate_within_days = {control.remediate_within_days}")
    for req in control.manual:
        lines += ["", "[[manual]]", f"id = {toml_string(req.id)}", f"description = {toml_string(req.description)}",
                  f"valid_for_days = {req.valid_for_days}"]
    for ref in control.checks:
        lines += ["", "[[checks]]", f"id = {toml_string(ref.id)}"]
        if ref.params:
            lines.append(f"params = {toml_value(ref.params)}")
    return "\n".join(lines) + "\n"


def draft_comments(draft: Draft, source: str) -> list[str]:
    """Where a drafted control came from: the overview, the rule, the other sentences it matched."""
    made = f"drafted by `evidence catalog from-text` from {source}"
    if draft.rule is None:
        out = [f"{made}: no rule maps this sentence; map it to checks (a rule in rules.toml) or attach evidence"]
    else:
        out = [f"{made} by rule {draft.rule.control}"]
        for got in draft.params:
            said = f'"{got.words}" (sentence {got.sentence})' if got.words else "the rule's default"
            out.append(f"{got.name} = {toml_value(got.value)} from {said}")
        for name, value, why in draft.refused:
            out.append(f"the text said {name} = {toml_value(value)}, which the check refuses ({why}): default used")
        if draft.note:
            out.append(draft.note)
        for hit in draft.hits[1:]:
            out.append(f"also stated (sentence {hit.sentence.number}): {hit.sentence.text}")
    return out


def write_catalog(drafts: Sequence[Draft], out: Path, source: str) -> list[Path]:
    """One `<ID>.toml` per draft in `out` (made if missing); the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for draft in drafts:
        path = out / f"{draft.control.id}.toml"
        path.write_text(control_toml(draft.control, draft_comments(draft, source)), encoding="utf-8")
        written.append(path)
    return written
