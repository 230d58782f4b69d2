"""The fake Google Workspace as the tests use it: `evidence.demo.workspace.FakeWorkspace` plus
what only tests need — fault injection, and validation of the seeded users and of every payload
served against the Admin SDK discovery document's schemas (:func:`validate_discovery`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from evidence.demo.workspace import (
    NEVER_LOGGED_IN,
    USER_READONLY_SCOPE,
    USERS_PATH,
    Interception,
    RecordedRequest,
    SchemaValidator,
    google_error,
    make_service_account_info,
    make_user,
)
from evidence.demo.workspace import FakeWorkspace as DemoFakeWorkspace
from evidence.demo.workspace_fields import load_directory_discovery

__all__ = [
    "NEVER_LOGGED_IN",
    "USERS_PATH",
    "USER_READONLY_SCOPE",
    "FakeWorkspace",
    "RecordedRequest",
    "google_error",
    "load_directory_discovery",
    "make_service_account_info",
    "make_user",
    "validate_discovery",
]

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def validate_discovery(payload: Any, schema_name: str, discovery_doc: dict[str, Any]) -> None:
    """Validate ``payload`` against ``discovery_doc["schemas"][schema_name]``.

    Raises AssertionError naming the field path on the first mismatch; properties the
    schema does not declare are mismatches unless it has ``additionalProperties``.
    """
    schemas: dict[str, Any] = discovery_doc["schemas"]
    _check(payload, schemas[schema_name], schema_name, schemas)


def _check(value: Any, schema: dict[str, Any], path: str, schemas: dict[str, Any]) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type", "any")

    def fail(why: str) -> NoReturn:
        raise AssertionError(f"{path}: {why} (got {value!r:.80})")

    if kind == "any":
        return
    if kind == "object":
        if not isinstance(value, dict):
            fail("expected object")
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                _check(item, props[key], f"{path}.{key}", schemas)
            elif extra is not None:
                _check(item, extra, f"{path}[{key!r}]", schemas)
            else:
                raise AssertionError(f"{path}.{key}: property not in discovery schema")
    elif kind == "array":
        if not isinstance(value, list):
            fail("expected array")
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), f"{path}[{i}]", schemas)
    elif kind == "string":
        if not isinstance(value, str):
            fail("expected string")
        fmt = schema.get("format")
        if fmt == "date-time" and not _RFC3339.match(value):
            fail("expected RFC3339 date-time")
        if fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
            fail(f"expected {fmt} string")
        if "enum" in schema and value not in schema["enum"]:
            fail(f"expected one of {schema['enum']}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            fail("expected boolean")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            fail("expected integer")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail("expected number")
    else:
        fail(f"unsupported schema type {kind!r}")


@dataclass
class _Injection:
    path_prefix: str
    status: int
    remaining: int  # -1 = forever
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # matching requests still to let through before this one applies


class FakeWorkspace(DemoFakeWorkspace):
    """The demo's fake Google Workspace with fault injection; the users it is seeded with and
    every payload it serves are validated against the discovery document."""

    def __init__(self, users: list[dict[str, Any]], *, validator: SchemaValidator | None = None,
                 **options: Any) -> None:
        super().__init__(users, validator=validator or self._validate, **options)
        self._injections: list[_Injection] = []

    def _validate(self, schema_name: str, payload: Any) -> None:
        validate_discovery(payload, schema_name, self.discovery)

    def inject(self, path_prefix: str, status: int, times: int = 1,
               body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
               after: int = 0) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with
        ``status`` (``times=-1``: forever), once ``after`` of them have been served normally
        (e.g. fail from the third page on). Default body is Google's error body for it."""
        with self._lock:
            self._injections.append(_Injection(path_prefix, status, times, body, dict(headers or {}), after))

    def clear_injections(self) -> None:
        with self._lock:
            self._injections.clear()

    def _intercept(self, path: str) -> Interception | None:
        with self._lock:
            chosen: _Injection | None = None
            for inj in self._injections:
                if not path.startswith(inj.path_prefix) or inj.remaining == 0:
                    continue
                if inj.after > 0:
                    inj.after -= 1  # every waiting injection counts this request
                elif chosen is None:
                    inj.remaining -= 1 if inj.remaining > 0 else 0
                    chosen = inj
        return None if chosen is None else (chosen.status, chosen.body, chosen.headers)
