"""The rules file: the shipped one loads; a mistake in one is a clear error naming the rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evidence.catalog_text import RulesError, draft_from_text, load_rules
from evidence.catalog_text.rules import default_rules_path
from evidence.registry import Registry

RULE = """
[extractors.min_tls]
patterns = ['TLS (1\\.\\d)']
default = "1.2"

[[rules]]
control = "ENC-TRANSIT"
title = "Encryption in transit"
criteria = ["CC6.7"]
match = ['in transit']

[[rules.checks]]
id = "probe.tls_protocols"
params = { min_tls = "{min_tls}" }
"""


def test_the_shipped_rules_name_only_checks_and_parameters_that_exist(registry: Registry) -> None:
    rules = load_rules()
    for rule in rules.rules:
        for check_id, params in rule.checks:
            assert check_id in registry.checks, (rule.control, check_id)
            fields = registry.checks[check_id].param_model.model_fields
            assert set(params) <= set(fields), (rule.control, check_id)


def test_a_person_extends_the_rules_with_data(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULE + """
[[rules]]
control = "SHREDDING"
title = "Paper records shredded"
criteria = ["CC6.5"]
match = ['\\bshred']

[[rules.manual]]
id = "shredding-log"
description = "Shredding company certificates"
valid_for_days = 31
""")
    draft = draft_from_text("We encrypt data in transit with TLS 1.3. We shred paper records.", rules=load_rules(path))
    controls = {d.control.id: d.control for d in draft.drafts}
    assert controls["ENC-TRANSIT"].checks[0].params == {"min_tls": "1.3"}
    assert controls["SHREDDING"].statement == "We shred paper records."
    assert controls["SHREDDING"].manual[0].valid_for_days == 31


@pytest.mark.parametrize(("text", "message"), [
    ("[[rules]]\ncontrol = 'X'\ntitle = 'x'\ncriteria = ['CC1.1']\nmatch = ['(unclosed']\n",
     "rule X match: pattern '(unclosed' is not a regular expression"),
    ("[[rules]]\ncontrol = 'X'\ntitle = 'x'\ncriteria = ['CC1.1']\nmatch = ['a']\ncolour = 'red'\n",
     "unknown key 'colour'"),
    ("[[rules]]\ncontrol = 'X'\ntitle = 'x'\ncriteria = ['CC1.1']\nmatch = ['a']\n"
     "[[rules.checks]]\nid = 'probe.tls_protocols'\nparams = { min_tls = '{nope}' }\n",
     "rule X: no extractor 'nope'"),
    ("[[rules]]\ncontrol = '../X'\ntitle = 'x'\ncriteria = ['CC1.1']\nmatch = ['a']\n", "is not a control id"),
    ("[[rules]]\ncontrol = 'X'\ntitle = 'x'\ncriteria = []\nmatch = ['a']\n", "criteria: at least one entry"),
    ("[[rules]]\ncontrol = 'X'\ntitle = 'x'\ncriteria = ['CC1.1']\nmatch = []\n", "no `match` pattern"),
    ("[extractors.v]\npatterns = ['TLS']\n", "has no group for the value"),
    ("[extractors.v]\ntype = 'float'\n", "extractors.v.type"),
    ("rules = 3\n", "rules: a list expected"),
    ("not toml ===", "not valid TOML"),
])
def test_a_mistake_in_the_rules_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULE + text if not text.startswith(("rules =", "not")) else text)
    with pytest.raises(RulesError, match=None) as err:
        load_rules(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_the_shipped_rules_sit_beside_the_code() -> None:
    assert default_rules_path().parent.name == "catalog_text"
    assert default_rules_path().is_file()


def test_a_count_in_the_rules_file_that_is_not_one_is_a_rules_error(tmp_path: Path) -> None:
    text = default_rules_path().read_text(encoding="utf-8")
    for key, bad in (("title_words", '"many"'), ("title_words", "-3"), ("manual_valid_for_days", "0")):
        path = tmp_path / "rules.toml"
        path.write_text(re.sub(rf"(?m)^{key} = .*$", f"{key} = {bad}", text, count=1), encoding="utf-8")
        with pytest.raises(RulesError, match="a whole number"):
            load_rules(path)
