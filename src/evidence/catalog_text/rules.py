"""The rules of `from-text`, read from a TOML file (`rules.toml` beside this module by default).

Each rule names the control it drafts, the patterns a sentence must contain, and the checks and
manual evidence of that control; extractors read parameter values from the sentence; places map
place names to AWS regions; `[promises]` tells a promise from other text. The format is described
at the top of `rules.toml`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from evidence.catalog import CONTROL_ID

ValueType = Literal["str", "int", "regions"]
Pick = Literal["first", "min", "max"]
_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_CONTROL_ID = re.compile(CONTROL_ID)


class RulesError(Exception):
    """A rules file that cannot be read, or a rule that does not fit the format."""


@dataclass(frozen=True)
class Pattern:
    """One regular expression of a rule, kept with the text a person wrote."""

    source: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Extractor:
    name: str
    type: ValueType
    patterns: tuple[Pattern, ...] = ()
    words: tuple[tuple[Pattern, Any], ...] = ()
    pick: Pick = "first"
    default: Any = None


@dataclass(frozen=True)
class Place:
    pattern: Pattern
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    control: str
    title: str
    criteria: tuple[str, ...]
    match: tuple[Pattern, ...]
    unless: tuple[Pattern, ...] = ()
    checks: tuple[tuple[str, dict[str, Any]], ...] = ()
    manual: tuple[dict[str, Any], ...] = ()
    remediate_within_days: int | None = None
    note: str = ""

    def placeholders(self) -> list[str]:
        """The extractors this rule's parameters (and note) name, in order of first use."""
        names: list[str] = []
        values: list[Any] = [v for _, params in self.checks for v in params.values()]
        values += [v for req in self.manual for v in req.values()]
        for value in values:
            if isinstance(value, str) and (m := _PLACEHOLDER.match(value)) and m.group(1) not in names:
                names.append(m.group(1))
        for name in re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", self.note):
            if name not in names:
                names.append(name)
        return names


@dataclass(frozen=True)
class Promises:
    match: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    title_words: int = 8
    criteria: tuple[str, ...] = ("CC2.3",)
    manual_id: str = "statement-evidence"
    manual_description: str = "Evidence that this statement holds"
    manual_valid_for_days: int = 365


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    extractors: dict[str, Extractor]
    places: tuple[Place, ...]
    promises: Promises
    source: str = ""


def placeholder(value: Any) -> str | None:
    """The extractor a parameter value names (`"{min_tls}"` -> `min_tls`), or None."""
    if isinstance(value, str) and (m := _PLACEHOLDER.match(value)):
        return m.group(1)
    return None


def default_rules_path() -> Path:
    return Path(str(resources.files("evidence.catalog_text"))) / "rules.toml"


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and compile a rules file (the shipped `rules.toml` by default)."""
    path = path or default_rules_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML ({exc})") from None
    try:
        return _ruleset(data, str(path))
    except RulesError as exc:
        raise RulesError(f"{path}: {exc}") from None


def _ruleset(data: dict[str, Any], source: str) -> RuleSet:
    places = tuple(
        Place(_compile(name, f"places '{name}'", case_sensitive=True), tuple(_str_list(regions, f"places '{name}'")))
        for name, regions in _table(data.get("places", {}), "places").items()
    )
    alternation = "|".join(f"(?:{p.pattern.source})" for p in places) or "(?!)"
    extractors = {
        name: _extractor(name, _table(spec, f"extractors.{name}"))
        for name, spec in _table(data.get("extractors", {}), "extractors").items()
    }
    rules: list[Rule] = []
    seen: set[str] = set()
    for n, spec in enumerate(_list(data.get("rules", []), "rules")):
        rule = _rule(_table(spec, f"rules[{n}]"), alternation, f"rules[{n}]")
        if rule.control in seen:
            raise RulesError(f"rules[{n}]: a second rule for control '{rule.control}'")
        seen.add(rule.control)
        for name in rule.placeholders():
            if name not in extractors:
                raise RulesError(f"rule {rule.control}: no extractor '{name}' (in [extractors])")
        rules.append(rule)
    promises = _promises(_table(data.get("promises", {}), "promises"))
    return RuleSet(tuple(rules), extractors, places, promises, source)


def _rule(spec: dict[str, Any], places: str, where: str) -> Rule:
    _only(spec, {"control", "title", "criteria", "match", "unless", "checks", "manual", "remediate_within_days",
                 "note"}, where)
    control = _str(spec.get("control"), f"{where}.control")
    if not _CONTROL_ID.match(control):
        raise RulesError(f"{where}.control: '{control}' is not a control id ({CONTROL_ID})")
    where = f"rule {control}"
    # {places} stands for every place name; the pattern is shown (--explain) as written
    match = tuple(Pattern(p, _compile(p.replace("{places}", f"(?-i:{places})"), f"{where} match").regex)
                  for p in _str_list(spec.get("match"), f"{where}.match"))
    if not match:
        raise RulesError(f"{where}: no `match` pattern")
    checks: list[tuple[str, dict[str, Any]]] = []
    for n, check in enumerate(_list(spec.get("checks", []), f"{where}.checks")):
        check = _table(check, f"{where}.checks[{n}]")
        _only(check, {"id", "params"}, f"{where}.checks[{n}]")
        checks.append((_str(check.get("id"), f"{where}.checks[{n}].id"),
                       dict(_table(check.get("params", {}), f"{where}.checks[{n}].params"))))
    manual: list[dict[str, Any]] = []
    for n, req in enumerate(_list(spec.get("manual", []), f"{where}.manual")):
        req = _table(req, f"{where}.manual[{n}]")
        _only(req, {"id", "description", "valid_for_days"}, f"{where}.manual[{n}]")
        manual.append(dict(req))
    days = spec.get("remediate_within_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 0):
        raise RulesError(f"{where}.remediate_within_days: a whole number of days, 0 or more")
    return Rule(
        control=control,
        title=_str(spec.get("title"), f"{where}.title"),
        criteria=tuple(_str_list(spec.get("criteria"), f"{where}.criteria")) or _missing(f"{where}.criteria"),
        match=match,
        unless=tuple(_compile(p, f"{where} unless") for p in _str_list(spec.get("unless", []), f"{where}.unless")),
        checks=tuple(checks),
        manual=tuple(manual),
        remediate_within_days=days,
        note=str(spec.get("note", "")),
    )


def _extractor(name: str, spec: dict[str, Any]) -> Extractor:
    where = f"extractors.{name}"
    _only(spec, {"patterns", "words", "type", "pick", "default"}, where)
    kind = spec.get("type", "str")
    if kind not in ("str", "int", "regions"):
        raise RulesError(f"{where}.type: 'str', 'int' or 'regions', not {kind!r}")
    pick = spec.get("pick", "first")
    if pick not in ("first", "min", "max"):
        raise RulesError(f"{where}.pick: 'first', 'min' or 'max', not {pick!r}")
    patterns = tuple(_compile(p, f"{where} patterns") for p in _str_list(spec.get("patterns", []), where))
    for p in patterns:
        if p.regex.groups < 1:
            raise RulesError(f"{where}: pattern '{p.source}' has no group for the value")
    words = tuple((_compile(w, f"{where} words"), v) for w, v in _table(spec.get("words", {}), where).items())
    return Extractor(name, kind, patterns, words, pick, spec.get("default"))


def _promises(spec: dict[str, Any]) -> Promises:
    _only(spec, {"match", "unless", "title_words", "criteria", "manual_id", "manual_description",
                 "manual_valid_for_days"}, "promises")
    return Promises(
        match=tuple(_compile(p, "promises match") for p in _str_list(spec.get("match", []), "promises.match")),
        unless=tuple(_compile(p, "promises unless") for p in _str_list(spec.get("unless", []), "promises.unless")),
        title_words=_count(spec.get("title_words", 8), "promises.title_words", 1),
        criteria=tuple(_str_list(spec.get("criteria", ["CC2.3"]), "promises.criteria")) or ("CC2.3",),
        manual_id=str(spec.get("manual_id", "statement-evidence")),
        manual_description=str(spec.get("manual_description", "Evidence that this statement holds")),
        manual_valid_for_days=_count(spec.get("manual_valid_for_days", 365), "promises.manual_valid_for_days", 1),
    )


def _count(value: Any, where: str, least: int) -> int:
    """A whole number of at least `least` from the rules file, or RulesError naming the key."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise RulesError(f"{where}: a whole number, {least} or more (not {value!r})")
    return value


def _compile(source: str, where: str, *, case_sensitive: bool = False) -> Pattern:
    try:
        return Pattern(source, re.compile(source, 0 if case_sensitive else re.IGNORECASE))
    except re.error as exc:
        raise RulesError(f"{where}: pattern '{source}' is not a regular expression ({exc})") from None


def _only(spec: dict[str, Any], keys: set[str], where: str) -> None:
    if unknown := sorted(set(spec) - keys):
        raise RulesError(f"{where}: unknown key '{unknown[0]}' (keys: {', '.join(sorted(keys))})")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RulesError(f"{where}: a table expected")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise RulesError(f"{where}: a list expected")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{where}: a non-empty string expected")
    return value


def _str_list(value: Any, where: str) -> list[str]:
    return [_str(v, where) for v in _list(value, where)]


def _missing(where: str) -> tuple[str, ...]:
    raise RulesError(f"{where}: at least one entry expected")
