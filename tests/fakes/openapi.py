"""Load GitHub's OpenAPI description and validate response payloads against it.

The description is the one GitHub publishes through the npm package
``@octokit/openapi`` (``generated/api.github.com.json``, OpenAPI 3.0). The
tests use it (with jsonschema, a test-only dependency) to prove that every
payload the fake GitHub serves has the shape the real API documents, so a
collector tested against a fake is tested against GitHub's contract, not
against the fake author's memory of it.

Usage::

    spec = OpenAPISpec.load()                 # locate_openapi_document() + parse
    spec.validate_response("GET", "/orgs/acme", 200, payload)   # raises on mismatch

OpenAPI 3.0 schemas are not JSON Schema: ``nullable: true`` is translated to a
JSON-schema type union (or an ``anyOf`` with ``{"type": "null"}`` where the
schema has no ``type`` of its own), boolean ``exclusiveMinimum``/``Maximum`` are
translated to their numeric form, and ``$ref``s to ``#/components/schemas/X``
become ``#/$defs/X``. Only the schemas an operation reaches are converted, once
per (operation, status), and kept on the :class:`OpenAPISpec` instance.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "DEFAULT_RELATIVE_PATH",
    "ENV_VAR",
    "OpenAPIDocumentMissing",
    "OpenAPISpec",
    "Operation",
    "ResponseValidationError",
    "locate_openapi_document",
]

ENV_VAR = "GITHUB_OPENAPI_JSON"
DEFAULT_RELATIVE_PATH = Path(
    ".cache/octokit-openapi/node_modules/@octokit/openapi/generated/api.github.com.json"
)
FETCH_HINT = "run scripts/fetch-github-openapi.sh from the repository root"

# Keywords that only OpenAPI knows, or that only document: dropped on conversion.
_DROPPED = frozenset(
    {
        "nullable",
        "example",
        "examples",
        "description",
        "title",
        "discriminator",
        "xml",
        "externalDocs",
        "readOnly",
        "writeOnly",
        "deprecated",
    }
)
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties"})
_SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_KEYWORDS = frozenset({"items", "not", "additionalProperties"})
_COMPONENT_SCHEMA_PREFIX = "#/components/schemas/"
_NULL_SCHEMA: dict[str, Any] = {"type": "null"}


class OpenAPIDocumentMissing(FileNotFoundError):
    """The OpenAPI description is not where it was looked for."""


class ResponseValidationError(AssertionError):
    """A payload does not match the schema the OpenAPI description documents."""

    def __init__(
        self,
        message: str,
        *,
        operation_id: str | None = None,
        method: str = "",
        path: str = "",
        status: int = 0,
        json_path: str = "$",
    ) -> None:
        super().__init__(message)
        self.operation_id = operation_id
        self.method = method
        self.path = path
        self.status = status
        self.json_path = json_path


@dataclass(frozen=True)
class Operation:
    """One operation of the description: ``GET /orgs/{org}`` and its responses."""

    method: str
    template: str
    operation_id: str
    responses: Mapping[str, Any]


def _candidate_roots() -> list[Path]:
    roots: list[Path] = []
    cwd = Path.cwd()
    roots.extend([cwd, *cwd.parents])
    # tests/fakes/openapi.py -> the checkout's root is two levels above tests/fakes/.
    here = Path(__file__).resolve()
    if len(here.parents) > 2:
        roots.append(here.parents[2])
    seen: set[Path] = set()
    unique: list[Path] = []
    for root in roots:
        if root not in seen:
            seen.add(root)
            unique.append(root)
    return unique


def locate_openapi_document(environ: Mapping[str, str] | None = None) -> Path:
    """Return the path of ``api.github.com.json``, or raise :class:`OpenAPIDocumentMissing`.

    ``$GITHUB_OPENAPI_JSON`` wins when set (and must then name an existing
    file). Otherwise ``.cache/octokit-openapi/.../api.github.com.json`` is looked
    for in the current directory, its parents, and the checkout this module
    lives in.
    """
    env = os.environ if environ is None else environ
    override = env.get(ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if path.is_file():
            return path
        raise OpenAPIDocumentMissing(
            f"{ENV_VAR}={override} does not name a file; unset it or {FETCH_HINT}"
        )
    looked: list[str] = []
    for root in _candidate_roots():
        path = root / DEFAULT_RELATIVE_PATH
        if path.is_file():
            return path
        looked.append(str(path))
    raise OpenAPIDocumentMissing(
        "GitHub's OpenAPI description (npm package @octokit/openapi) was not found; "
        f"{FETCH_HINT}, or set {ENV_VAR} to the path of api.github.com.json. "
        f"Looked in: {', '.join(looked[:3])}{' ...' if len(looked) > 3 else ''}"
    )


def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _check_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urllib.parse.urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in {"mailto", "urn"})


def _check_email(value: object) -> bool:
    if not isinstance(value, str):
        return True
    local, at, domain = value.rpartition("@")
    return bool(at and local and domain)


def _format_checker() -> Any:
    """A format checker built on the standard library only (deterministic everywhere)."""
    checker = jsonschema.FormatChecker(formats=())
    checks: dict[str, Callable[[object], bool]] = {
        "date-time": _check_date_time,
        "date": _check_date,
        "uri": _check_uri,
        "email": _check_email,
    }
    for name, func in checks.items():
        checker.checks(name)(func)
    return checker


def _convert(node: Any, refs: set[str]) -> Any:
    """Translate one OpenAPI 3.0 schema object into JSON Schema (2020-12).

    ``refs`` collects the component schema names the node reaches directly.
    """
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(_COMPONENT_SCHEMA_PREFIX):
            raise ValueError(f"unsupported $ref {ref!r}")
        name = ref[len(_COMPONENT_SCHEMA_PREFIX):]
        refs.add(name)
        return {"$ref": "#/$defs/" + _escape_pointer(name)}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-"):
            continue
        if key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            out[key] = {name: _convert(sub, refs) for name, sub in value.items()}
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            out[key] = [_convert(sub, refs) for sub in value]
        elif key in _SCHEMA_KEYWORDS and isinstance(value, dict):
            out[key] = _convert(value, refs)
        elif key in {"exclusiveMinimum", "exclusiveMaximum"} and isinstance(value, bool):
            continue  # handled below with minimum/maximum
        else:
            out[key] = value
    # OpenAPI 3.0 boolean exclusive bounds -> JSON Schema numeric ones.
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)
    if node.get("nullable") is True:
        if any(k in out for k in ("allOf", "anyOf", "oneOf", "not", "$ref")):
            return {"anyOf": [_NULL_SCHEMA, out]}
        type_ = out.get("type")
        if isinstance(type_, str):
            out["type"] = [type_, "null"]
        elif isinstance(type_, list) and "null" not in type_:
            out["type"] = [*type_, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _escape_pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _path_regex(template: str, greedy: bool) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    pattern = "".join(
        ("(.+)" if greedy else "([^/]+)") if p.startswith("{") and p.endswith("}") else re.escape(p)
        for p in parts
    )
    return re.compile(pattern + r"\Z")


def _specificity(template: str) -> tuple[int, int]:
    """More literal segments first; then longer templates."""
    segments = template.strip("/").split("/")
    literal = sum(1 for s in segments if not (s.startswith("{") and s.endswith("}")))
    return (-literal, -len(segments))


class OpenAPISpec:
    """A parsed OpenAPI description with lazily compiled response validators.

    Thread-safe: validators are compiled under a lock and cached per
    (operation, status) on the instance. Load it once per test session; the
    JSON document is ~13 MB and takes a fraction of a second to parse.
    """

    def __init__(self, document: Mapping[str, Any], source: str = "<memory>") -> None:
        self.document = document
        self.source = source
        self._schemas: Mapping[str, Any] = document.get("components", {}).get("schemas", {})
        self._lock = threading.Lock()
        self._validators: dict[tuple[str, str, str], Any] = {}
        self._converted: dict[str, Any] = {}
        self._format_checker = _format_checker()
        routes: list[tuple[tuple[int, int], str, re.Pattern[str], re.Pattern[str]]] = []
        for template in document.get("paths", {}):
            routes.append(
                (_specificity(template), template, _path_regex(template, False), _path_regex(template, True))
            )
        routes.sort(key=lambda r: r[0])
        self._routes = [(t, strict, greedy) for _, t, strict, greedy in routes]

    @classmethod
    def load(cls, path: Path | str | None = None) -> OpenAPISpec:
        """Parse the description at ``path`` (default: :func:`locate_openapi_document`)."""
        resolved = Path(path) if path is not None else locate_openapi_document()
        if not resolved.is_file():
            raise OpenAPIDocumentMissing(f"{resolved} does not exist; {FETCH_HINT}")
        with resolved.open("rb") as handle:
            document = json.load(handle)
        if not isinstance(document, dict) or "paths" not in document:
            raise ValueError(f"{resolved} is not an OpenAPI description")
        return cls(document, source=str(resolved))

    @property
    def version(self) -> str:
        """The description's ``info.version`` (the @octokit/openapi release)."""
        info = self.document.get("info", {})
        return str(info.get("version", "")) if isinstance(info, dict) else ""

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The operation that serves ``method path`` (concrete, no query), or None.

        Literal segments win over templated ones (``/rulesets/rule-suites``
        before ``/rulesets/{ruleset_id}``). Parameters match one path segment;
        failing that, a parameter may span several (unencoded ``/`` in a branch).
        """
        path = urllib.parse.urlsplit(path).path or path
        verb = method.lower()
        for greedy in (False, True):
            for template, strict, loose in self._routes:
                regex = loose if greedy else strict
                if regex.match(path) is None:
                    continue
                item = self.document["paths"][template]
                op = item.get(verb) if isinstance(item, dict) else None
                if isinstance(op, dict):
                    return Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=str(op.get("operationId", f"{method.upper()} {template}")),
                        responses=op.get("responses", {}),
                    )
        return None

    def _resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"external $ref {ref!r} is not supported")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > 32:
                raise ValueError(f"$ref loop at {ref!r}")
        return node

    def response_schema(self, operation: Operation, status: int) -> tuple[str, Any] | None:
        """``(documented status key, raw OpenAPI schema)`` for a response, or None.

        Looks for the exact status, then ``4XX``-style ranges, then ``default``.
        A documented response without a JSON body gives ``(key, None)``.
        """
        responses = operation.responses
        for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
            if key in responses:
                response = self._resolve(responses[key])
                content = response.get("content", {}) if isinstance(response, dict) else {}
                for media_type, media in content.items():
                    if media_type.startswith("application/") and "json" in media_type:
                        return key, media.get("schema")
                return key, None
        return None

    def _converted_component(self, name: str) -> Any:
        cached = self._converted.get(name)
        if cached is None:
            raw = self._schemas.get(name)
            if raw is None:
                raise ValueError(f"#/components/schemas/{name} is not defined")
            refs: set[str] = set()
            cached = (_convert(raw, refs), frozenset(refs))
            self._converted[name] = cached
        return cached

    def _compile(self, raw_schema: Any) -> Any:
        refs: set[str] = set()
        root = _convert(raw_schema, refs)
        defs: dict[str, Any] = {}
        pending = list(refs)
        while pending:
            name = pending.pop()
            if name in defs:
                continue
            converted, more = self._converted_component(name)
            defs[_escape_pointer(name)] = converted
            pending.extend(n for n in more if _escape_pointer(n) not in defs)
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **root}
        if defs:
            # A root that is itself a $ref keeps working: siblings apply in 2020-12.
            schema["$defs"] = {**defs, **schema.get("$defs", {})}
        jsonschema.Draft202012Validator.check_schema(schema)
        return jsonschema.Draft202012Validator(schema, format_checker=self._format_checker)

    def validator_for(self, operation: Operation, status: int) -> tuple[str, Any] | None:
        """``(status key, jsonschema validator)`` for a response; cached. None if undocumented."""
        found = self.response_schema(operation, status)
        if found is None:
            return None
        key, raw = found
        if raw is None:
            return key, None
        cache_key = (operation.method, operation.template, key)
        with self._lock:
            validator = self._validators.get(cache_key)
            if validator is None:
                validator = self._compile(raw)
                self._validators[cache_key] = validator
        return key, validator

    def component_validator(self, name: str) -> Any:
        """A validator for ``#/components/schemas/{name}`` (cached)."""
        cache_key = ("", "#/components/schemas", name)
        with self._lock:
            validator = self._validators.get(cache_key)
            if validator is None:
                validator = self._compile({"$ref": _COMPONENT_SCHEMA_PREFIX + name})
                self._validators[cache_key] = validator
        return validator

    def validate_response(
        self,
        method: str,
        path: str,
        status: int,
        payload: Any,
        *,
        error_schema: str | None = "basic-error",
    ) -> Operation | None:
        """Check ``payload`` against the schema documented for ``method path`` -> ``status``.

        Raises :class:`ResponseValidationError` naming the operation, the path,
        the JSON path of the mismatch and what was expected. An error status the
        operation does not document (GitHub documents few of its 401/403/429s),
        or an error on a path the description does not know, is checked against
        ``#/components/schemas/{error_schema}`` instead (skip with None). A
        success status the operation does not document is an error.
        """
        operation = self.find_operation(method, path)
        where = f"{method.upper()} {path} -> {status}"
        if operation is None:
            if status >= 400 and error_schema is not None:
                validator = self.component_validator(error_schema)
                self._check(validator, payload, where, None, method, path, status,
                            f"#/components/schemas/{error_schema}")
                return None
            raise ResponseValidationError(
                f"{where}: no operation in the OpenAPI description ({self.source}) matches this path",
                method=method, path=path, status=status,
            )
        found = self.validator_for(operation, status)
        if found is None:
            if status >= 400 and error_schema is not None:
                self._check(self.component_validator(error_schema), payload, where, operation, method, path,
                            status, f"#/components/schemas/{error_schema} (status not documented)")
                return operation
            raise ResponseValidationError(
                f"{where}: operation {operation.operation_id} ({operation.template}) documents no "
                f"{status} response (documented: {', '.join(operation.responses)})",
                operation_id=operation.operation_id, method=method, path=path, status=status,
            )
        key, validator = found
        if validator is None:
            if payload not in (None, b"", ""):
                raise ResponseValidationError(
                    f"{where}: operation {operation.operation_id} documents no JSON body for {key}, "
                    f"but one was served",
                    operation_id=operation.operation_id, method=method, path=path, status=status,
                )
            return operation
        self._check(validator, payload, where, operation, method, path, status, f"responses.{key}")
        return operation

    @staticmethod
    def _check(
        validator: Any,
        payload: Any,
        where: str,
        operation: Operation | None,
        method: str,
        path: str,
        status: int,
        against: str,
    ) -> None:
        errors: Iterable[Any] = validator.iter_errors(payload)
        error = jsonschema.exceptions.best_match(errors)
        if error is None:
            return
        json_path = str(getattr(error, "json_path", "$"))
        op_text = (
            f"operation {operation.operation_id} ({operation.method} {operation.template})"
            if operation is not None
            else "no documented operation"
        )
        schema_path = "/".join(str(p) for p in error.schema_path)
        raise ResponseValidationError(
            f"{where}: payload does not match {op_text}, {against}: at {json_path}: "
            f"{_shorten(error.message)} (schema path {schema_path})",
            operation_id=operation.operation_id if operation else None,
            method=method,
            path=path,
            status=status,
            json_path=json_path,
        )


def _shorten(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
