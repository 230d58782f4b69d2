"""Partial responses (the ``fields`` selector) for the fake Google Workspace, checked against
the Admin SDK discovery document google-api-python-client ships, as Google checks them."""

from __future__ import annotations

import importlib.resources
import json
import re
from typing import Any


def load_directory_discovery() -> dict[str, Any]:
    """The admin directory_v1 discovery document shipped inside google-api-python-client."""
    doc = importlib.resources.files("googleapiclient.discovery_cache").joinpath(
        "documents/admin.directory_v1.json")
    result: dict[str, Any] = json.loads(doc.read_text(encoding="utf-8"))
    return result


#: a parsed `fields` selector: name -> sub-selection, or None for the whole value
FieldTree = dict[str, "FieldTree | None"]
_FIELD_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:/[A-Za-z_$][\w$]*)*")


def _merge_fields(tree: FieldTree, key: str, node: FieldTree | None) -> None:
    if key not in tree:
        tree[key] = node
        return
    have = tree[key]
    if have is None or node is None:
        tree[key] = None
        return
    for k, v in node.items():
        _merge_fields(have, k, v)


def parse_fields(selector: str, schema_name: str, discovery_doc: dict[str, Any]) -> FieldTree:
    """Parse a partial-response selector (``kind,users(primaryEmail,name/fullName)``) and check
    every name exists in the discovery schema; ValueError like Google's "Invalid field selection"."""
    pos = 0

    def items() -> FieldTree:
        nonlocal pos
        tree: FieldTree = {}
        while True:
            m = _FIELD_PATH.match(selector, pos)
            if m is None:
                raise ValueError(f"Invalid field selection {selector[pos:] or selector!r}")
            pos = m.end()
            node: FieldTree | None = None
            if selector.startswith("(", pos):
                pos += 1
                node = items()
                if not selector.startswith(")", pos):
                    raise ValueError(f"Invalid field selection {selector!r}: unbalanced parentheses")
                pos += 1
            names = m.group().split("/")
            for name in reversed(names[1:]):
                node = {name: node}
            _merge_fields(tree, names[0], node)
            if not selector.startswith(",", pos):
                return tree
            pos += 1

    tree = items()
    if pos != len(selector):
        raise ValueError(f"Invalid field selection {selector[pos:]!r}")
    schemas: dict[str, Any] = discovery_doc["schemas"]
    _check_fields(tree, schemas[schema_name], schemas)
    return tree


def _check_fields(tree: FieldTree, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    while "$ref" in schema or schema.get("type") == "array":
        schema = schemas[schema["$ref"]] if "$ref" in schema else schema.get("items", {})
    props: dict[str, Any] = schema.get("properties", {})
    for key, sub in tree.items():
        if key not in props and schema.get("additionalProperties") is None:
            raise ValueError(f"Invalid field selection {key}")
        if sub is not None:
            _check_fields(sub, props.get(key) or schema.get("additionalProperties") or {}, schemas)


def select_fields(value: Any, tree: FieldTree | None) -> Any:
    """The part of ``value`` a parsed selector asks for (lists are selected item by item)."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [select_fields(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: select_fields(value[k], sub) for k, sub in tree.items() if k in value}
    return value
