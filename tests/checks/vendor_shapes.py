"""The vendors' own descriptions of what the checks read, and evidence generated from them.

Used by `test_conformance.py` (declared paths and every field a check reads, against the
description) and `test_shape_fuzz.py` (checks run on generated responses).

- **Descriptions.** `Vendors.root(key)` is the response shape of an evidence key as its vendor
  describes it: botocore's output shape for AWS `service.Operation`, the Admin SDK discovery
  document shipped with google-api-python-client for `admin.directory.users.list` (restricted
  to the collector's `fields=` mask: a field outside it never arrives), GitHub's OpenAPI
  description for `github.<operationId>`. Everything is a `Node`, built lazily (botocore and
  OpenAPI shapes are recursive). `OVERLAYS` adds what the collectors record that is theirs, not
  the vendor's (each with its reason).
- **Recording.** `RecordingIndex` hands checks responses whose dicts are `RecDict`s: every key
  looked up (`[]`, `get`, `in`) is noted with its path (`"[]"` for a list element), so a test
  can check each one against the description.
- **Generation.** `Generator` builds values of a `Node`: every member present, enums from the
  enum, timestamps around `REF`, ids unique, strings drawn from the check modules' own string
  literals (so branches such as `GroupName == "default"` are taken), from what the call was
  asked (a listener of load balancer X names X) and from values generated before (a policy
  name a listener refers to). Deterministic for a seed.
- **Fake vendors.** `collect_aws` runs the real AWS collector (`AwsCollector.collect`) against
  clients that answer from botocore's shapes (and validate each request against its input
  shape), so subjects, parameters and fan-out are exactly the collector's; `collect_github`
  runs the real GitHub collector over an `httpx.MockTransport` answering from the OpenAPI
  description; `collect_google` writes `users.list` pages as the collector records them.
"""

from __future__ import annotations

import ast
import base64
import csv
import io
import itertools
import json
import random
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import Shape
from botocore.validate import validate_parameters

import evidence.checks
import evidence.collectors
import evidence.sources
from evidence.catalog import Catalog
from evidence.checks.base import Check
from evidence.checks.inventory import TOP, Inventory
from evidence.judge import Judging
from evidence.models import EvidenceRecord, iso
from evidence.records import Evidence, EvidenceIndex, EvidenceWriter, IndexEntry

#: the reference time checks judge at; generated timestamps cluster around it
REF = datetime(2027, 1, 5, tzinfo=UTC)
ACCOUNT = "111122223333"
REGIONS = ("eu-west-2", "us-east-1")
GITHUB_ORG = "acme"
GOOGLE_CUSTOMER = "C0123abcd"
#: a list element in a path
EACH = "[]"

Path_ = tuple[str, ...]


# --------------------------------------------------------------------------- shape nodes


@dataclass
class Parts:
    """What a node holds: members (object), the element or value (list, map), alternatives."""

    members: dict[str, Node] = field(default_factory=dict)
    item: Node | None = None
    choices: tuple[Node, ...] = ()


@dataclass(eq=False)
class Node:
    """One shape of a vendor's description.

    `kind`: object, map, list, string, integer, number, boolean, timestamp (a datetime, as
    boto3 gives it), blob, any, union (one of `choices`).
    """

    kind: str
    label: str
    enum: tuple[Any, ...] = ()
    fmt: str = ""
    nullable: bool = False
    low: float | None = None
    high: float | None = None
    #: an AWS tagged union: exactly one member is set
    tagged: bool = False
    #: members the description says are always there
    required: frozenset[str] = frozenset()
    build: Callable[[], Parts] | None = field(default=None, repr=False)

    @cached_property
    def parts(self) -> Parts:
        return self.build() if self.build is not None else Parts()

    @property
    def members(self) -> dict[str, Node]:
        return self.parts.members

    @property
    def item(self) -> Node | None:
        return self.parts.item


def spec_node(spec: Any, label: str) -> Node:
    """A node from a literal: {"name": spec} an object, [spec] a list, "string" etc. a scalar."""
    if isinstance(spec, dict):
        return Node("object", label, build=lambda: Parts({k: spec_node(v, f"{label}.{k}") for k, v in spec.items()}))
    if isinstance(spec, list):
        return Node("list", label, build=lambda: Parts(item=spec_node(spec[0], f"{label}[]")))
    return Node(str(spec), label)


def with_overlay(base: Node, overlay: Node) -> Node:
    """`base` with `overlay`'s members added (the collector's own fields beside the vendor's)."""
    return Node("object", f"{base.label} + {overlay.label}",
                build=lambda: Parts({**base.members, **overlay.members}))


def restrict(node: Node, mask: Mapping[str, Any]) -> Node:
    """`node` as a partial response (`fields=` mask) returns it: only the selected members."""
    if not mask:
        return node
    if node.kind in ("list", "map"):
        return Node(node.kind, node.label, build=lambda: Parts(item=restrict(_need_item(node), mask)))
    if node.kind != "object":
        return node

    def parts() -> Parts:
        return Parts({k: restrict(v, mask[k]) for k, v in node.members.items() if k in mask})

    return Node("object", f"{node.label} (fields={','.join(mask)})", build=parts)


def _need_item(node: Node) -> Node:
    assert node.item is not None, node.label
    return node.item


def parse_fields_mask(text: str) -> dict[str, Any]:
    """Google's partial-response syntax (`a,b/c,d(e,f)`) as a tree of selected names."""
    pos = 0

    def selectors() -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while pos < len(text) and text[pos] != ")":
            start = pos
            while pos < len(text) and text[pos] not in ",()":
                pos += 1
            names = text[start:pos].split("/")
            sub: dict[str, Any] = {}
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = selectors()
                pos += 1  # ")"
            node = out
            for name in names[:-1]:
                node = node.setdefault(name, {})
            node.setdefault(names[-1], {}).update(sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
        return out

    return selectors()


# --------------------------------------------------------------------------- AWS: botocore


@cache
def boto_session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def aws_service(service: str) -> Any:
    return boto_session().get_service_model(service)


_BOTO_KINDS = {"structure": "object", "list": "list", "map": "map", "string": "string", "integer": "integer",
               "long": "integer", "float": "number", "double": "number", "boolean": "boolean",
               "timestamp": "timestamp", "blob": "blob"}
_boto_memo: dict[tuple[str, str], Node] = {}
_boto_lock = threading.Lock()


def boto_node(service: str, shape: Shape) -> Node:
    key = (service, shape.name)
    with _boto_lock:
        found = _boto_memo.get(key)
    if found is not None:
        return found
    kind = "any" if getattr(shape, "is_document_type", False) else _BOTO_KINDS.get(shape.type_name, "any")
    label = f"botocore {service} {shape.name}"

    def parts() -> Parts:
        if kind == "object":
            return Parts({name: boto_node(service, member) for name, member in shape.members.items()})
        if kind == "list":
            return Parts(item=boto_node(service, shape.member))
        if kind == "map":
            return Parts(item=boto_node(service, shape.value))
        return Parts()

    meta = shape.metadata
    node = Node(kind, label, enum=tuple(getattr(shape, "enum", []) or ()), low=meta.get("min"), high=meta.get("max"),
                tagged=bool(getattr(shape, "is_tagged_union", False)),
                required=frozenset(getattr(shape, "required_members", ()) or ()), build=parts)
    with _boto_lock:
        return _boto_memo.setdefault(key, node)


def aws_operation(key: str) -> Any:
    """botocore's model of `service.Operation` (raises when either is unknown)."""
    service, _, op = key.partition(".")
    return aws_service(service).operation_model(op)


def aws_output(key: str) -> Node:
    service = key.partition(".")[0]
    shape = aws_operation(key).output_shape
    if shape is None:
        return Node("object", f"botocore {key} (no output)")
    return boto_node(service, shape)


# --------------------------------------------------------------------------- JSON schemas: Google, GitHub


class SchemaNodes:
    """Nodes of a JSON-schema-like document: Google discovery (`$ref: Name`) or OpenAPI 3.0
    (`$ref: #/components/schemas/name`, `nullable`, `allOf`/`anyOf`/`oneOf`)."""

    def __init__(self, schemas: Mapping[str, Any], what: str, ref_prefix: str = "") -> None:
        self.schemas = schemas
        self.what = what
        self.prefix = ref_prefix
        self._memo: dict[str, Node] = {}

    def _union(self, branches: list[Any], label: str) -> Callable[[], Parts]:
        """The alternatives of an anyOf/oneOf, built when first walked (descriptions are recursive)."""
        return lambda: Parts(choices=tuple(self.node(s, f"{label}|{n}") for n, s in enumerate(branches)))

    def node(self, schema: Any, label: str) -> Node:
        if not isinstance(schema, dict):
            return Node("any", label)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.removeprefix(self.prefix)
            found = self._memo.get(name)
            if found is None:
                target = self.schemas[name]
                found = self._memo[name] = self._build(target, f"{self.what} {name}")
            return found
        return self._build(schema, label)

    def _build(self, schema: Mapping[str, Any], label: str) -> Node:
        nullable = bool(schema.get("nullable"))
        for combo in ("anyOf", "oneOf"):
            if combo in schema:
                branches = schema[combo]
                return Node("union", label, nullable=nullable, build=self._union(branches, label))
        if "allOf" in schema:
            branches = schema["allOf"]

            def merged(b: Sequence[Any] = branches) -> Parts:
                members: dict[str, Node] = {}
                for n, s in enumerate(b):
                    members.update(self.node(s, f"{label}&{n}").members)
                return Parts(members)

            return Node("object", label, nullable=nullable, build=merged)
        kind = schema.get("type", "object" if "properties" in schema else "any")
        if kind == "array":
            return Node("list", label, nullable=nullable,
                        build=lambda: Parts(item=self.node(schema.get("items"), f"{label}[]")))
        if kind == "object":
            props = schema.get("properties")
            extra = schema.get("additionalProperties")
            if not props and isinstance(extra, dict):
                return Node("map", label, nullable=nullable, build=lambda: Parts(item=self.node(extra, f"{label}{{}}")))
            return Node("object", label, nullable=nullable, required=frozenset(schema.get("required", ())),
                        build=lambda: Parts({k: self.node(v, f"{label}.{k}") for k, v in (props or {}).items()}))
        fmt = str(schema.get("format", ""))
        if kind == "string" and fmt in ("int64", "uint64"):
            fmt = "digits"
        return Node(str(kind), label, enum=tuple(schema.get("enum", ())), fmt=fmt, nullable=nullable,
                    low=schema.get("minimum"), high=schema.get("maximum"))


@cache
def discovery_document() -> dict[str, Any]:
    """The Admin SDK Directory API discovery document the collector's client is built from."""
    from googleapiclient.discovery_cache import get_static_doc

    text = get_static_doc("admin", "directory_v1")
    assert text, "google-api-python-client ships no admin directory_v1 discovery document"
    doc: dict[str, Any] = json.loads(text)
    return doc


def discovery_method(doc: Mapping[str, Any], method_id: str) -> Mapping[str, Any] | None:
    def walk(resources: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        for res in resources.values():
            yield from res.get("methods", {}).values()
            yield from walk(res.get("resources", {}))

    return next((m for m in walk(doc.get("resources", {})) if m.get("id") == method_id), None)


@cache
def _google_nodes() -> SchemaNodes:
    return SchemaNodes(discovery_document()["schemas"], "admin directory_v1")


def google_output(key: str) -> Node:
    """`admin.directory.users.list` -> its response schema, as the collector's `fields=` asks it."""
    from evidence.sources.google_workspace import USER_FIELDS, USERS_LIST

    api, _, method_id = key.partition(".")
    assert api == "admin", f"{key}: only the Admin SDK is described here"
    method = discovery_method(discovery_document(), method_id)
    if method is None:
        raise LookupError(f"the admin directory_v1 discovery document has no method '{method_id}'")
    node = _google_nodes().node(method["response"], f"admin directory_v1 {method_id}")
    return restrict(node, parse_fields_mask(USER_FIELDS)) if key == USERS_LIST else node


class GitHubShapes:
    """GitHub's OpenAPI description: operations by id, and their 200 response schemas."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.nodes = SchemaNodes(document.get("components", {}).get("schemas", {}), "github",
                                 "#/components/schemas/")
        self.operations: dict[str, Mapping[str, Any]] = {}
        for item in document.get("paths", {}).values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    self.operations[op["operationId"]] = op

    def output(self, key: str) -> Node:
        op_id = key.partition(".")[2]
        op = self.operations.get(op_id)
        if op is None:
            raise LookupError(f"GitHub's OpenAPI description has no operation '{op_id}'")
        return self.response(op_id, 200)

    def response(self, op_id: str, status: int) -> Node:
        op = self.operations[op_id]
        resp = op.get("responses", {}).get(str(status), {})
        while "$ref" in resp:
            resp = self.document["components"]["responses"][resp["$ref"].rpartition("/")[2]]
        schema = resp.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            raise LookupError(f"GitHub's {op_id} documents no JSON body for {status}")
        return self.nodes.node(schema, f"github {op_id} {status}")


# --------------------------------------------------------------------------- overlays and vendors

#: `credential report` columns, as the IAM User Guide documents them ("Getting credential
#: reports": the CSV's columns; botocore has only the base64 `Content`)
CREDENTIAL_REPORT_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
    "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
    "cert_2_active", "cert_2_last_rotated",
)
_ERROR_ANSWER = {"Error": {"Code": "string", "Message": "string"}}

#: what a collector records that is its own, not the vendor's: key -> (fields, why)
OVERLAYS: dict[str, tuple[dict[str, Any], str]] = {
    "iam.GetCredentialReport": (
        {"Rows": [dict.fromkeys(CREDENTIAL_REPORT_COLUMNS, "string")]},
        "the collector decodes the report's CSV into `Rows` (decode_credential_report); its columns are the "
        "IAM User Guide's",
    ),
    "s3.GetBucketEncryption": (
        _ERROR_ANSWER,
        "ServerSideEncryptionConfigurationNotFoundError is recorded as an answer {Error: {Code, Message}}",
    ),
    "shield.ListProtections": (
        _ERROR_ANSWER, "ResourceNotFoundException (no Shield Advanced) is recorded as an answer {Error: {...}}",
    ),
    "github.repos/get-branch-protection": (
        {"protected": "boolean", "status": "integer", "message": "string"},
        "a 404 'Branch not protected' (or a plan without protection) is recorded as {protected: false, ...}",
    ),
}

#: error codes the AWS collector records as answers (aws_services: `answers=`), raised now and then
AWS_ANSWERS = {
    "s3.GetBucketEncryption": "ServerSideEncryptionConfigurationNotFoundError",
    "shield.ListProtections": "ResourceNotFoundException",
}

#: sources whose records are the project's own (no vendor description to hold them to)
OWN_SOURCES = {"probe": "probe records are made by evidence's own probes (TLS handshakes, HTTP GETs): no vendor "
                        "describes them",
               "people": "the roster and the history's sightings are evidence's own records; the fields the people "
                         "checks read of Workspace, GitHub and IAM records are those their own checks read, held to "
                         "the description there"}


class Vendors:
    """The response shape of any evidence key, from its vendor's description (plus overlays)."""

    def __init__(self, github_document: Callable[[], Mapping[str, Any]] | None = None) -> None:
        self._github_document = github_document
        self._github: GitHubShapes | None = None
        self._roots: dict[str, Node] = {}

    def github(self) -> GitHubShapes:
        if self._github is None:
            assert self._github_document is not None, "no GitHub OpenAPI description was given"
            self._github = GitHubShapes(self._github_document())
        return self._github

    def root(self, source: str, key: str) -> Node:
        found = self._roots.get(key)
        if found is not None:
            return found
        if source == "aws":
            node = aws_output(key)
        elif source == "google_workspace":
            node = google_output(key)
        elif source == "github":
            node = self.github().output(key)
        else:
            raise LookupError(f"no vendor description is known for source '{source}' ({key})")
        if key in OVERLAYS:
            fields, _ = OVERLAYS[key]
            node = with_overlay(node, spec_node(fields, f"evidence's own {key}"))
        self._roots[key] = node
        return node


# --------------------------------------------------------------------------- walking a description


def _alternatives(node: Node) -> list[Node]:
    if node.kind == "union":
        return [n for c in node.parts.choices for n in _alternatives(c)]
    return [node]


def step(node: Node, part: str) -> tuple[list[Node], str]:
    """The nodes one step (`part`, or EACH for a list element) below `node`; else why not."""
    found: list[Node] = []
    seen: list[Node] = []
    for alt in _alternatives(node):
        seen.append(alt)
        if alt.kind == "any":
            found.append(alt)
        elif part == EACH and alt.kind == "list" and alt.item is not None:
            found.append(alt.item)
        elif part != EACH and alt.kind == "map" and alt.item is not None:
            found.append(alt.item)
        elif part != EACH and alt.kind == "object" and part in alt.members:
            found.append(alt.members[part])
    if found:
        return found, ""
    objects = [a for a in seen if a.kind == "object"]
    if part == EACH:
        return [], f"{' | '.join(a.label for a in seen)} is {seen[0].kind if seen else 'nothing'}, not a list"
    if objects:
        names = sorted({m for a in objects for m in a.members})
        from difflib import get_close_matches

        close = get_close_matches(part, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        shown = ", ".join(names) if len(names) <= 40 else ", ".join(names[:40]) + ", ..."
        return [], f"'{part}' is not a member of {' | '.join(a.label for a in objects)} (members: {shown}){hint}"
    return [], f"{' | '.join(a.label for a in seen)} is {seen[0].kind if seen else 'nothing'}, not an object"


def walk(root: Node, path: Iterable[str]) -> tuple[list[Node], str]:
    """The nodes at `path` below `root`, or the first step that is not in the description."""
    nodes = [root]
    walked: list[str] = []
    for part in path:
        nxt: list[Node] = []
        why = ""
        for n in nodes:
            got, why_here = step(n, part)
            nxt.extend(got)
            why = why or why_here
        walked.append(part)
        if not nxt:
            return [], f"at {show_path(tuple(walked))}: {why}"
        nodes = nxt
    return nodes, ""


def show_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += "[]" if part == EACH else (f".{part}" if out else part)
    return out or "(the response)"


def dotted(path: str | None) -> Path_:
    """A declared path as walked: `"Reservations[].Instances"` is Reservations, each element, Instances."""
    parts: list[str] = []
    for part in path.split(".") if path else ():
        parts.extend((part[:-2], "[]") if part.endswith("[]") else (part,))
    return tuple(parts)


def inventory_problems(inv: Inventory, root: Node) -> list[str]:
    """Where `inv` says its items sit and what names them, checked against `root`."""
    problems: list[str] = []
    if inv.items is None:
        items: list[Node] = [root]
    else:
        where = () if inv.items == TOP else dotted(inv.items)
        at, why = walk(root, where)
        if why:
            return [f"{inv.key}: items path '{inv.items}' {why}"]
        lists = [n for a in at for n in _alternatives(a) if n.kind in ("list", "any")]
        if not lists:
            return [f"{inv.key}: items path '{inv.items}' is {at[0].kind} in {at[0].label}, not a list"]
        items = [n.item if n.kind == "list" and n.item is not None else n for n in lists]
    if inv.count is not None:
        at, why = walk(root, dotted(inv.count))
        if why:
            problems.append(f"{inv.key}: count path '{inv.count}' {why}")
        elif not any(n.kind in ("integer", "any") for a in at for n in _alternatives(a)):
            problems.append(f"{inv.key}: count path '{inv.count}' is {at[0].kind} in {at[0].label}, not an integer")
    if inv.id:
        for item in items:
            at, why = walk(item, dotted(inv.id))
            if why:
                problems.append(f"{inv.key}: id field '{inv.id}' of each item {why}")
                continue
            bad = [n for a in at for n in _alternatives(a) if n.kind not in ("string", "integer", "any")]
            if bad:
                problems.append(f"{inv.key}: id field '{inv.id}' is {bad[0].kind} in {bad[0].label}, not a name")
    elif inv.items is not None:
        bad = [n for a in items for n in _alternatives(a) if n.kind not in ("string", "integer", "any")]
        if bad:
            problems.append(f"{inv.key}: items of '{inv.items}' are {bad[0].kind} ({bad[0].label}) and no id "
                            "field is declared")
    return problems


# --------------------------------------------------------------------------- recording what checks read


class Reads:
    """Every (evidence key, path) looked up in a response."""

    def __init__(self) -> None:
        self.paths: set[tuple[str, Path_]] = set()

    def by_key(self) -> dict[str, set[Path_]]:
        out: dict[str, set[Path_]] = {}
        for key, path in self.paths:
            out.setdefault(key, set()).add(path)
        return out


class RecDict(dict[str, Any]):
    """A response object that notes every key looked up in it (`[]`, `get`, `in`)."""

    __slots__ = ("_at", "_key", "_reads")

    def __init__(self, data: Mapping[str, Any], reads: Reads, key: str, at: Path_) -> None:
        super().__init__({k: record(v, reads, key, (*at, k)) for k, v in data.items()})
        self._reads = reads
        self._key = key
        self._at = at

    def _saw(self, name: object) -> None:
        self._reads.paths.add((self._key, (*self._at, str(name))))

    def __getitem__(self, name: str) -> Any:
        self._saw(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self._saw(name)
        return super().get(name, default)

    def __contains__(self, name: object) -> bool:
        self._saw(name)
        return super().__contains__(name)


def record(value: Any, reads: Reads, key: str, at: Path_ = ()) -> Any:
    if isinstance(value, dict):
        return RecDict(value, reads, key, at)
    if isinstance(value, list):
        return [record(v, reads, key, (*at, EACH)) for v in value]
    return value


class RecordingIndex(EvidenceIndex):
    """An evidence index whose responses note every key a reader looks up."""

    def __init__(self, index: EvidenceIndex, reads: Reads) -> None:
        super().__init__(index.root, index.entries)
        self.reads = reads
        self._wrapped: dict[str, Evidence] = {}

    def load(self, entry: IndexEntry) -> Evidence:
        found = self._wrapped.get(entry.path)
        if found is None:
            ev = super().load(entry)
            wrapped = record(ev.record.response, self.reads, entry.key)
            found = self._wrapped[entry.path] = Evidence(ev.path, ev.record.model_copy(update={"response": wrapped}))
        return found


def static_reads(fn: Callable[..., Any]) -> dict[str, list[str]]:
    """Field names `fn` (and the check-module functions it calls) read with `need`/`parts`:
    name -> ["file:line", ...]. What a generated run must reach for its reads to be complete."""
    import inspect
    import textwrap

    out: dict[str, list[str]] = {}
    seen: set[Any] = set()
    todo: list[Any] = [fn]
    while todo:
        func = todo.pop()
        if func in seen:
            continue
        seen.add(func)
        try:
            lines, start = inspect.getsourcelines(func)
        except (OSError, TypeError):
            continue
        where = Path(inspect.getsourcefile(func) or "?").name
        for n in ast.walk(ast.parse(textwrap.dedent("".join(lines)))):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                ref = getattr(func, "__globals__", {}).get(n.id)
                if not str(getattr(ref, "__module__", "")).startswith("evidence.checks"):
                    continue
                if inspect.isfunction(ref):
                    todo.append(ref)
                elif inspect.isclass(ref):
                    for member in vars(ref).values():
                        got = member.fget if isinstance(member, property) else member
                        if inspect.isfunction(got):
                            todo.append(got)
            if not isinstance(n, ast.Call):
                continue
            arg: ast.AST | None = None
            if isinstance(n.func, ast.Attribute) and n.func.attr in ("need", "parts") and n.args:
                arg = n.args[0]
            elif isinstance(n.func, ast.Name) and n.func.id == "need" and len(n.args) >= 2:
                arg = n.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                for part in arg.value.split("."):
                    out.setdefault(part, []).append(f"{where}:{start + n.lineno - 1}")
    return out


# --------------------------------------------------------------------------- generation


_READERS = frozenset({"need", "get", "parts"})


def _fields_of(expr: ast.AST, variables: Mapping[str, set[str]]) -> set[str]:
    """Field names `expr` reads (`x.need("A.B", ...)` gives B) or names a variable holding them."""
    out: set[str] = set()
    for n in ast.walk(expr):
        if isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Constant) \
                and isinstance(n.args[0].value, str):
            func = n.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in _READERS:
                out.add(n.args[0].value.rpartition(".")[2])
        elif isinstance(n, ast.Call) and len(n.args) >= 2 and isinstance(n.func, ast.Name) and n.func.id == "need" \
                and isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str):
            out.add(n.args[1].value.rpartition(".")[2])
        elif isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str):
            out.add(n.slice.value)
        elif isinstance(n, ast.Name) and n.id in variables:
            out |= variables[n.id]
    return out


def _strings(expr: ast.AST, constants: Mapping[str, set[str]]) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(expr):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            out.add(n.value)
        elif isinstance(n, ast.Name) and n.id in constants:
            out |= constants[n.id]
    return out


def _bind(n: ast.AST, variables: dict[str, set[str]]) -> None:
    """Note which fields a variable holds: `x = item.need("A")`, `for x in xs`, `[... for x in xs]`."""
    pairs: list[tuple[ast.AST, ast.AST]] = []
    if isinstance(n, ast.Assign):
        pairs = [(t, n.value) for t in n.targets]
    elif isinstance(n, ast.For | ast.comprehension):
        pairs = [(n.target, n.iter)]
    for target, value in pairs:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for t, v in zip(target.elts, value.elts, strict=False):
                if isinstance(t, ast.Name):
                    variables.setdefault(t.id, set()).update(_fields_of(v, variables))
            continue
        names = [target] if isinstance(target, ast.Name) else [
            t for t in ast.walk(target) if isinstance(t, ast.Name)]
        fields = _fields_of(value, variables)
        for t in names:
            if isinstance(t, ast.Name):
                variables.setdefault(t.id, set()).update(fields)


@dataclass
class Literals:
    """What the check modules compare response fields with, read from their source."""

    #: field name -> the strings it is compared with (`group.need("GroupName", str) != "default"`)
    by_field: Mapping[str, tuple[str, ...]]
    #: every string compared with anything, or held in a module-level collection
    strings: tuple[str, ...]
    #: prefixes tested with startswith
    prefixes: tuple[str, ...]
    integers: tuple[int, ...]
    #: strings looked up as keys (`values.get("access_logs.s3.enabled")`): likely names of listed items
    keys: tuple[str, ...]

    @cached_property
    def prefixed(self) -> tuple[str, ...]:
        """Each prefix with each string (`Protocol-` + `TLSv1.2`)."""
        return tuple(p + s for p in self.prefixes for s in self.strings)


@cache
def check_literals() -> Literals:
    """Read every check, collector and shared source module: which strings its comparisons use, by
    the field compared (a collector's comparisons decide which per-resource calls it makes)."""
    by_field: dict[str, set[str]] = {}
    strings: set[str] = set()
    prefixes: set[str] = set()
    ints: set[int] = set()
    keys: set[str] = set()
    modules = [*Path(evidence.checks.__file__).parent.glob("*.py"),
               *Path(evidence.collectors.__file__).parent.glob("*.py"),
               *Path(evidence.sources.__file__).parent.glob("*.py")]
    for path in sorted(modules):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants: dict[str, set[str]] = {}
        for stmt in tree.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else getattr(stmt, "target", None)
            value = getattr(stmt, "value", None)
            if isinstance(target, ast.Name) and target.id != "__all__" and \
                    isinstance(value, ast.Set | ast.Tuple | ast.List | ast.Dict | ast.Constant):
                constants[target.id] = {s for s in _strings(value, {}) if s and len(s) <= 48}
                strings |= constants[target.id]
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            variables: dict[str, set[str]] = {}
            for _ in range(3):  # a variable may be bound from one bound later in the text
                for n in ast.walk(func):
                    _bind(n, variables)
            for n in ast.walk(func):
                if isinstance(n, ast.Compare):
                    found = set().union(*(_strings(c, constants) for c in n.comparators)) | \
                        (_strings(n.left, constants) - _fields_of(n.left, variables))
                    found = {s for s in found if s and len(s) <= 48}
                    strings |= found
                    for name in _fields_of(n.left, variables) | set().union(
                            *(_fields_of(c, variables) for c in n.comparators)):
                        by_field.setdefault(name, set()).update(found - {name})
                elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and \
                        n.func.attr in ("startswith", "removeprefix"):
                    prefixes |= {s for a in n.args for s in _strings(a, constants) if s}
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, int) and not isinstance(n.value, bool) \
                    and 0 <= n.value <= 65535:
                ints.add(n.value)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" \
                    and n.args and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str):
                keys.add(n.args[0].value)
    return Literals({k: tuple(sorted(v)) for k, v in by_field.items() if v}, tuple(sorted(strings)),
                    tuple(sorted(prefixes)), tuple(sorted(ints)), tuple(sorted(keys)))


#: values the vendors document for free-form strings whose meaning checks parse (a version out of
#: a protocol name); botocore types them as plain strings
VALUE_HINTS: dict[str, tuple[str, ...]] = {
    # elbv2 DescribeSSLPolicies SslProtocols; CloudFront/API Gateway policy names carry versions too
    "SslProtocols": ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    # elb DescribeLoadBalancerPolicies: an SSL negotiation policy's attributes
    "AttributeName": ("Protocol-SSLv3", "Protocol-TLSv1", "Protocol-TLSv1.1", "Protocol-TLSv1.2",
                      "Reference-Security-Policy", "Server-Defined-Cipher-Order", "ECDHE-RSA-AES128-GCM-SHA256"),
    "AttributeValue": ("true", "false", "ELBSecurityPolicy-TLS-1-2-2017-01"),
    # ec2 DescribeRegions: the regions an account has enabled, which the collector examines
    "RegionName": REGIONS,
}


def _names_something(member: str) -> bool:
    """An identifier (`Name`, `GroupId`, `LoadBalancerArn`...): vendors always return those."""
    return member.endswith(("Id", "Arn", "ARN", "Name", "id", "name", "login", "number"))


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


@dataclass
class Call:
    """The request a response is generated for."""

    key: str
    params: Mapping[str, Any]
    region: str = ""
    #: id field values already used in this response, by field name
    used: dict[str, set[Any]] = field(default_factory=dict)
    #: strings generated in the listed item being generated, by (singular) field name
    scope: dict[str, list[str]] | None = None


class Generator:
    """Values of a `Node`, deterministic for a seed (see the module docstring)."""

    #: nesting beyond which objects keep only their scalar members and lists are empty
    max_depth = 7

    def __init__(self, seed: int, id_fields: Mapping[str, set[str]] | None = None, omit: float = 0.0) -> None:
        self.seed = seed
        #: the share of optional members left out (0: every member present)
        self.omit = omit
        self.id_fields = id_fields or {}
        self.literals = check_literals()
        self._count = itertools.count(1)
        self._pools: dict[str, list[str]] = {}
        #: a string of a listed item -> every string generated in that item (a later call naming
        #: the item, e.g. its policies, refers to those)
        self._scopes: dict[str, dict[str, list[str]]] = {}
        self._lock = threading.Lock()

    def rng(self, call: Call, salt: object = "") -> random.Random:
        return random.Random(f"{self.seed}|{call.key}|{call.region}|{_canonical(call.params)}|{salt}")

    def fresh(self) -> int:
        with self._lock:
            return next(self._count)

    def response(self, node: Node, call: Call, rng: random.Random) -> Any:
        return self.value(node, "", 0, call, rng)

    def value(self, node: Node, name: str, depth: int, call: Call, rng: random.Random) -> Any:
        unique = name in self.id_fields.get(call.key, set())
        if node.nullable and not unique and rng.random() < 0.15:
            return None
        kind = node.kind
        if kind == "union":
            choices = node.parts.choices
            return self.value(rng.choice(choices), name, depth, call, rng) if choices else None
        if kind == "object":
            members = node.members
            if depth >= self.max_depth:
                members = {k: v for k, v in members.items() if v.kind not in ("object", "list", "map", "union")}
            if node.tagged and members:
                one = rng.choice(sorted(members))
                members = {one: members[one]}
            elif self.omit:
                ids = self.id_fields.get(call.key, set())
                members = {k: v for k, v in members.items()
                           if k in node.required or k in ids or _names_something(k) or rng.random() >= self.omit}
            return {k: self.value(v, k, depth + 1, call, rng) for k, v in members.items()}
        if kind == "list":
            item = node.item
            if item is None or depth >= self.max_depth:
                return []
            count = (rng.randint(3, 6) if depth <= 1 else rng.randint(2, 5) if depth == 2
                     else rng.choice((0, 1, 1, 2, 3)))
            if node.high is not None:
                count = min(count, int(node.high))
            if depth > 2 or item.kind != "object":
                return [self.value(item, name, depth + 1, call, rng) for _ in range(count)]
            out: list[Any] = []
            outer = call.scope
            for _ in range(count):
                scope: dict[str, list[str]] = {}
                call.scope = scope
                out.append(self.value(item, name, depth + 1, call, rng))
                with self._lock:
                    for values in scope.values():
                        for v in values:
                            self._scopes.setdefault(v, scope)
            call.scope = outer
            return out
        if kind == "map":
            item = node.item
            if item is None or depth >= self.max_depth:
                return {}
            return {f"key-{self.fresh()}": self.value(item, name, depth + 1, call, rng)
                    for _ in range(rng.choice((0, 1, 2)))}
        if kind == "string":
            return self.string(node, name, call, rng, unique)
        if kind == "integer":
            return self.integer(node, name, call, rng, unique)
        if kind == "number":
            return round(rng.uniform(0, 1000), 3)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "timestamp":
            return self.timestamp(rng)
        if kind == "blob":
            return rng.randbytes(8)
        return f"any-{self.fresh()}"

    def timestamp(self, rng: random.Random) -> datetime:
        span = 60 if rng.random() < 0.5 else 800
        return (REF + timedelta(seconds=rng.randint(-span * 86400, span * 86400 // 2))).replace(microsecond=0)

    def string(self, node: Node, name: str, call: Call, rng: random.Random, unique: bool) -> str:
        value = self._string(node, name, call, rng, unique)
        if call.scope is not None:
            call.scope.setdefault(_singular(name), []).append(value)
        return value

    def _string(self, node: Node, name: str, call: Call, rng: random.Random, unique: bool) -> str:
        if node.enum:
            compared = [v for v in self.literals.by_field.get(name, ()) if v in node.enum]
            return str(rng.choice(compared if compared and rng.random() < 0.5 else node.enum))
        if not node.fmt and "email" in name.lower():
            node = Node(node.kind, node.label, fmt="email", low=node.low, high=node.high)
        if node.fmt in ("date-time", "google-datetime"):
            return iso(self.timestamp(rng))
        if node.fmt == "digits":
            return str(self.fresh() if unique else rng.randint(0, 10**9))
        used = call.used.setdefault(name, set())

        def ok(value: str) -> bool:
            fits = (node.low is None or len(value) >= node.low) and (node.high is None or len(value) <= node.high)
            return fits and not (unique and value in used)

        echo = call.params.get(name)
        if isinstance(echo, str) and ok(echo) and node.fmt not in ("email", "uri"):
            return self._use(echo, used, unique)
        echoes = call.params.get(name + "s")
        if isinstance(echoes, list):
            free = [e for e in echoes if isinstance(e, str) and ok(e)]
            if free:
                return self._use(rng.choice(free), used, unique)
        if not unique and not node.low and not node.fmt and rng.random() < 0.1:
            return ""  # a string of the declared type that says nothing (`or` fallbacks are taken)
        lit = self.literals
        with self._lock:
            pool = self._pools.get(_singular(name), [])
            scoped = [v for p in call.params.values() if isinstance(p, str) and p in self._scopes
                      for v in self._scopes[p].get(_singular(name), ())]
        for chance, values in ((0.6, scoped), (0.6, VALUE_HINTS.get(name, ())), (0.3 if unique else 0, lit.keys),
                               (0.5, lit.by_field.get(name, ())),
                               (0.1, lit.strings), (0.05, lit.prefixed),
                               (0.3, pool)):
            if values and node.fmt not in ("email", "uri") and rng.random() < chance:
                pick = rng.choice(values)
                if ok(pick):
                    return self._use(pick, used, unique)
        value = self._fresh_string(node, name, call)
        if node.low is not None and len(value) < node.low:
            value = value.ljust(int(node.low), "x")
        if node.high is not None and len(value) > node.high:
            value = value[-int(node.high):]
        with self._lock:
            self._pools.setdefault(_singular(name), []).append(value)
        return self._use(value, used, unique)

    @staticmethod
    def _use(value: str, used: set[Any], unique: bool) -> str:
        if unique:
            used.add(value)
        return value

    def _fresh_string(self, node: Node, name: str, call: Call) -> str:
        n = self.fresh()
        if node.fmt == "email":
            return f"user{n}@example.com"
        if node.fmt == "uri":
            return f"https://example.com/{name or 'x'}/{n}"
        if name.lower().endswith("arn"):
            service = call.key.partition(".")[0]
            return f"arn:aws:{service}:{call.region or 'us-east-1'}:{ACCOUNT}:{name.lower()}/{name}-{n}"
        return f"{name or 'value'}-{n}"

    def integer(self, node: Node, name: str, call: Call, rng: random.Random, unique: bool) -> int:
        if unique:
            return self.fresh()
        echo = call.params.get(name)
        if isinstance(echo, int) and not isinstance(echo, bool):
            return echo
        low = int(node.low) if node.low is not None else None
        high = int(node.high) if node.high is not None else None
        if low is not None or high is not None:
            lo = low if low is not None else 0
            return rng.randint(lo, max(lo, high if high is not None else lo + 1000))
        roll = rng.random()
        if roll < 0.4 and self.literals.integers:
            return rng.choice(self.literals.integers)
        return rng.randint(0, 10) if roll < 0.7 else rng.randint(0, 65535)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def id_fields(checks: Iterable[Check]) -> dict[str, set[str]]:
    """key -> the id fields of the checks' inventories (unique in a generated response)."""
    out: dict[str, set[str]] = {}
    for chk in checks:
        for inv in [*chk.inventory.chain(), *(i for other in chk.listings for i in other.chain())]:
            if inv.id:
                out.setdefault(inv.key, set()).add(inv.id.rpartition(".")[2])
    return out


# --------------------------------------------------------------------------- AWS through the real collector

#: pagination tokens: a page asked with one is the last (so marker loops end)
_TOKENS = frozenset({"NextToken", "NextMarker", "Marker", "NextPageToken", "nextToken", "position",
                     "NextContinuationToken"})


def _credential_report(gen: Generator, rng: random.Random) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CREDENTIAL_REPORT_COLUMNS)
    for n in range(rng.randint(3, 6)):
        user = "<root_account>" if n == 0 else f"user-{gen.fresh()}"
        row: list[str] = []
        for col in CREDENTIAL_REPORT_COLUMNS:
            if col == "user":
                row.append(user)
            elif col == "arn":
                row.append(f"arn:aws:iam::{ACCOUNT}:{'root' if n == 0 else 'user/' + user}")
            elif col.endswith(("_active", "_enabled")):
                row.append(rng.choice(("true", "false")))
            elif col.endswith(("_time", "_used", "_changed", "_rotated", "_date", "_rotation")):
                row.append(rng.choice((iso(gen.timestamp(rng)), iso(gen.timestamp(rng)), "N/A", "no_information",
                                       "not_supported")))
            else:
                row.append(rng.choice(("us-east-1", "s3", "N/A")))
        writer.writerow(row)
    return out.getvalue().encode()


#: per-call adjustments the shapes cannot say (a finished report, who is calling)
def _adjust(key: str, resp: dict[str, Any], gen: Generator, rng: random.Random) -> dict[str, Any]:
    if key == "iam.GenerateCredentialReport":
        resp["State"] = "COMPLETE"
    elif key == "iam.GetCredentialReport":
        resp.update(Content=_credential_report(gen, rng), ReportFormat="text/csv")
    elif key == "sts.GetCallerIdentity":
        resp.update(Account=ACCOUNT, Arn=f"arn:aws:iam::{ACCOUNT}:user/auditor")
    return resp


class FakeAws:
    """Answers every AWS call from botocore's output shapes; each request is validated against
    the operation's input shape first (a bad one fails as botocore would)."""

    def __init__(self, gen: Generator, fail_rate: float = 0.0) -> None:
        self.gen = gen
        self.fail_rate = fail_rate
        self.calls: list[str] = []

    def respond(self, service: str, op: str, region: str, params: Mapping[str, Any], page: int = 0) -> dict[str, Any]:
        key = f"{service}.{op}"
        model = aws_operation(key)
        if model.input_shape is not None:
            validate_parameters(dict(params), model.input_shape)
        self.calls.append(key)
        call = Call(key, params, region)
        rng = self.gen.rng(call, page)
        if key != "sts.GetCallerIdentity" and self.gen.rng(call, ("fail", page)).random() < self.fail_rate:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "generated failure"}}, op)
        code = AWS_ANSWERS.get(key)
        if code is not None and rng.random() < 0.25:
            raise ClientError({"Error": {"Code": code, "Message": "generated answer"}}, op)
        resp = self.gen.response(aws_output(key), call, rng)
        resp = _adjust(key, resp if isinstance(resp, dict) else {}, self.gen, rng)
        if page or any(k in params for k in _TOKENS):
            for token in _TOKENS:
                resp.pop(token, None)
        return resp


@cache
def _paginated(service: str) -> frozenset[str]:
    """Operations botocore has a paginator for."""
    from botocore.exceptions import UnknownServiceError

    try:
        return frozenset(boto_session().get_paginator_model(service)._paginator_config)
    except UnknownServiceError:  # a service without paginators
        return frozenset()


class _FakePaginator:
    def __init__(self, client: _FakeClient, op: str) -> None:
        self.client = client
        self.op = op

    def paginate(self, PaginationConfig: Any = None, **params: Any) -> Iterator[dict[str, Any]]:
        c = self.client
        pages = c.world.gen.rng(Call(f"{c.service}.{self.op}", params, c.region), "pages").choice((1, 1, 2))
        for n in range(1, pages + 1):
            yield c.world.respond(c.service, self.op, c.region, params, page=n)


class _FakeClient:
    def __init__(self, world: FakeAws, service: str, region: str) -> None:
        self.world = world
        self.service = service
        self.region = region
        model = aws_service(service)
        self._ops = {xform_name(op): op for op in model.operation_names}
        self._paginated = _paginated(service)

    def can_paginate(self, method: str) -> bool:
        return self._ops[method] in self._paginated

    def get_paginator(self, method: str) -> _FakePaginator:
        return _FakePaginator(self, self._ops[method])

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        op = self._ops.get(method)
        if op is None:
            raise AttributeError(method)
        return lambda **params: self.world.respond(self.service, op, self.region, params)


class _FakeSession:
    def __init__(self, world: FakeAws) -> None:
        self.world = world

    def client(self, service: str, region_name: str = "", config: Any = None) -> _FakeClient:
        return _FakeClient(self.world, service, region_name)


def collect_aws(seed: int, wanted: Iterable[str], out: Path, checks: Iterable[Check] = (),
                fail_rate: float = 0.0, omit: float = 0.0) -> EvidenceIndex:
    """A bundle's evidence as the real AWS collector records it, from generated answers (and
    `AccessDenied` for a `fail_rate` share of the calls)."""
    from evidence.collectors.aws import AwsCollector
    from evidence.collectors.base import Sink
    from evidence.config import parse_config

    world = FakeAws(Generator(seed, id_fields(checks), omit), fail_rate)
    config = parse_config({"aws": {"regions": list(REGIONS), "max_workers": 1}})
    collector = AwsCollector(config, session_factory=lambda **_: _FakeSession(world))
    writer = EvidenceWriter(out)
    collector.collect(Sink(writer), frozenset(wanted))
    return writer.index()


# --------------------------------------------------------------------------- Google and GitHub


def collect_google(seed: int, out: Path, checks: Iterable[Check] = (), omit: float = 0.0) -> EvidenceIndex:
    """`users.list` pages as the Google Workspace collector records them."""
    from evidence.sources.google_workspace import SOURCE, USER_FIELDS, USERS_LIST

    gen = Generator(seed, id_fields(checks), omit)
    writer = EvidenceWriter(out)
    service, _, operation = USERS_LIST.partition(".")
    params = {"customer": GOOGLE_CUSTOMER, "maxResults": 500, "orderBy": "email", "projection": "basic",
              "viewType": "admin_view", "fields": USER_FIELDS}
    pages = random.Random(f"{seed}|google").choice((1, 2))
    for page in range(1, pages + 1):
        recorded = {**params, "page": page}
        call = Call(USERS_LIST, {})
        response = gen.response(google_output(USERS_LIST), call, gen.rng(call, page))
        if page == pages:
            response.pop("nextPageToken", None)
        writer.write(EvidenceRecord(source=SOURCE, service=service, operation=operation, parameters=recorded,
                                    account=GOOGLE_CUSTOMER, identity="auditor@example.com",
                                    collected_at=iso(REF), response=response))
    return writer.index()


class FakeGitHub:
    """Answers the GitHub collector's GETs from the OpenAPI description (an httpx handler)."""

    def __init__(self, spec: Any, shapes: GitHubShapes, gen: Generator) -> None:
        self.spec = spec
        self.shapes = shapes
        self.gen = gen
        self.pulls: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.paths: list[str] = []

    def __call__(self, request: Any) -> Any:
        import httpx

        path = request.url.raw_path.decode("ascii").partition("?")[0]
        op = self.spec.find_operation(request.method, path)
        assert op is not None, f"the GitHub collector asked for {request.method} {path}, which GitHub does not have"
        args = dict(zip(_template_names(op.template), _template_values(op.template, path), strict=True))
        params: dict[str, Any] = {**args, **dict(request.url.params)}
        for k in ("ruleset_id", "pull_number"):
            if k in params:
                params[k] = int(params[k])
        call = Call(f"github.{op.operation_id}", params)
        rng = self.gen.rng(call)
        self.paths.append(path)
        if op.operation_id == "repos/get-branch-protection" and rng.random() < 0.25:
            return httpx.Response(404, json={"message": "Branch not protected", "documentation_url": "x"})
        body = self.gen.response(self.shapes.response(op.operation_id, 200), call, rng)
        body = self.fixup(op.operation_id, params, body)
        return httpx.Response(200, json=_json_ready(body), headers={"X-RateLimit-Remaining": "4999"})

    def fixup(self, op_id: str, params: Mapping[str, Any], body: Any) -> Any:
        """What GitHub keeps consistent that a schema cannot say."""
        if op_id == "orgs/get" and isinstance(body, dict):
            body["login"] = params["org"]
        if op_id == "repos/list-for-org" and isinstance(body, list):
            for repo in body:
                repo["owner"]["login"] = params["org"]
                repo["full_name"] = f"{params['org']}/{repo['name']}"
        if op_id in ("repos/get-repo-ruleset", "repos/get-org-ruleset") and isinstance(body, dict):
            body["id"] = params["ruleset_id"]
        if op_id == "pulls/list" and isinstance(body, list):
            for pull in body:
                pull["base"]["ref"] = params.get("base", pull["base"]["ref"])
                self.pulls[(params["owner"], params["repo"], pull["number"])] = pull
        if op_id == "pulls/get" and isinstance(body, dict):
            listed = self.pulls.get((params["owner"], params["repo"], params["pull_number"]), {})
            body.update({k: v for k, v in listed.items() if k in body})
            body["number"] = params["pull_number"]
        return body


def _template_names(template: str) -> list[str]:
    return [p[1:-1] for p in template.strip("/").split("/") if p.startswith("{")]


def _template_values(template: str, path: str) -> list[str]:
    from urllib.parse import unquote

    return [unquote(v) for t, v in zip(template.strip("/").split("/"), path.strip("/").split("/"), strict=False)
            if t.startswith("{")]


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def collect_github(seed: int, spec: Any, shapes: GitHubShapes, wanted: Iterable[str], out: Path,
                   checks: Iterable[Check] = (), omit: float = 0.0) -> EvidenceIndex:
    """A bundle's evidence as the real GitHub collector records it, from generated answers."""
    import httpx

    from evidence.collectors.base import Sink
    from evidence.collectors.github import GitHubCollector
    from evidence.config import parse_config
    from evidence.models import Period

    fake = FakeGitHub(spec, shapes, Generator(seed, id_fields(checks), omit))
    real = httpx.Client

    def client(*args: Any, **kwargs: Any) -> httpx.Client:
        return real(*args, transport=httpx.MockTransport(fake), **kwargs)

    config = parse_config({"github": {"org": GITHUB_ORG, "token_env": "EVIDENCE_FAKE_GITHUB_TOKEN",
                                      "api_url": "http://127.0.0.1:9"}})
    writer = EvidenceWriter(out)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVIDENCE_FAKE_GITHUB_TOKEN", "ghp_generated")
        mp.setattr(httpx, "Client", client)
        GitHubCollector(config, Period.parse("2026-Q4"), sleep=lambda _: None).collect(Sink(writer), frozenset(wanted))
    return writer.index()


# --------------------------------------------------------------------------- bundles shared by the tests

@dataclass(frozen=True)
class Seed:
    """One generated bundle: its seed, the share of calls denied, the share of optional members left out."""

    seed: int
    fail_rate: float = 0.0
    omit: float = 0.0

    def __str__(self) -> str:
        return f"seed {self.seed} (fail_rate {self.fail_rate}, omit {self.omit})"


#: every member present; some calls denied (AccessDenied); optional members left out now and then
SEEDS = (Seed(0), Seed(1, fail_rate=0.08), Seed(2), Seed(3, fail_rate=0.08), Seed(4), Seed(5, omit=0.1),
         Seed(6, fail_rate=0.08, omit=0.1))
#: GitHub's and Google's bundles are small: more of them
MORE_SEEDS = (*SEEDS, *(Seed(n) for n in range(7, 12)), *(Seed(n, omit=0.2) for n in range(12, 16)))


def seeds(source: str) -> tuple[Seed, ...]:
    return SEEDS if source == "aws" else MORE_SEEDS
INJECTED = "AccessDenied"
_bundles: dict[tuple[str, Seed], EvidenceIndex] = {}


def bundle(source: str, seed: Seed, checks: Sequence[Check], base: Path, spec: Any = None) -> EvidenceIndex:
    """The generated bundle of `source` for every key `checks` read (made once per process)."""
    key = (source, seed)
    if key not in _bundles:
        wanted = {k for chk in checks for k in chk.requires}
        out = base / f"{source}-{seed.seed}"
        if source == "aws":
            _bundles[key] = collect_aws(seed.seed, wanted, out, checks, seed.fail_rate, seed.omit)
        elif source == "google_workspace":
            _bundles[key] = collect_google(seed.seed, out, checks, seed.omit)
        elif source == "github":
            assert spec is not None, "GitHub's OpenAPI description is needed"
            _bundles[key] = collect_github(seed.seed, spec, GitHubShapes(spec.document), wanted, out, checks, seed.omit)
        else:
            raise LookupError(f"no generator for source '{source}'")
    return _bundles[key]


# --------------------------------------------------------------------------- judging


def judging(sources: Iterable[str]) -> Judging:
    """A `Judging` with default parameters for every check of `sources`."""
    return Judging(reference_time=REF, catalog=Catalog(controls={}), params={},
                   sources=dict.fromkeys(sources))


def failed_records(index: EvidenceIndex, but: str = "") -> list[str]:
    """The failed calls of a generated bundle, except those failed with code `but` (injected)."""
    out: list[str] = []
    for entry in index.entries:
        if not entry.ok:
            err = index.load(entry).record.error
            if err is not None and err.code == but:
                continue
            out.append(f"{entry.key} {entry.subject or entry.region}: {err.code if err else ''} "
                       f"{err.message if err else ''}")
    return out
