"""Declared inventories: what a check judges, where its items sit, and what names each one.

Every check declares the listing it judges, so the judge can count: each resource a listing
holds must be covered by a finding of the check (a verdict, or an explicit skip with its
reason); a page whose items are not where declared is an `error`, never "nothing in scope".

    LOAD_BALANCERS = Inventory("elbv2.DescribeLoadBalancers", items="LoadBalancers",
                               id="LoadBalancerArn", resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer")
    LISTENERS = Inventory("elbv2.DescribeListeners", items="Listeners", id="ListenerArn",
                          resource_type="AWS::ElasticLoadBalancingV2::Listener", parent=LOAD_BALANCERS)

- `items` is a dotted path to the list in each page (`"[]"`: the page itself is the list;
  `None`: each record is one resource, such as an account setting); a segment ending in `[]`
  walks every element of that list (`"Reservations[].Instances"`: the instances of every
  reservation);
- `id` is a dotted path in an item to the field that names it (`""`: the item is its name);
- `resource_id` builds the finding's resource id (an ARN the API does not give) from the
  item's id and its record; by default it is the id itself;
- `count` is a dotted path to the page's own item count, for APIs that leave the items out of
  an empty page (CloudFront's `Quantity`): a page without its items path is empty when its
  count is 0, and a malformed page otherwise;
- `parent` declares a chain: each record of this listing was collected for one resource of
  the parent listing (its `subject` names it), and every parent resource must have one.

Decisive fields are read with `need` (or `Item.need`): a field that is missing or of the wrong
type raises `FieldError`, which the judge turns into an `error` finding naming the record and
the field, never a default that passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from evidence.records import Evidence, EvidenceIndex

T = TypeVar("T")

#: `items` value for a page that is itself the list (GitHub's list endpoints)
TOP = "[]"

ResourceId = Callable[[str, Evidence], str]


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


MISSING: Any = _Missing()

_KIND_NAMES = {list: "a list", dict: "an object", str: "a string", int: "an integer", bool: "a boolean",
               float: "a number"}


def kind_name(kind: type[Any]) -> str:
    return _KIND_NAMES.get(kind, kind.__name__)


def _found(value: Any) -> str:
    if value is None:
        return "null"
    return kind_name(type(value)).removeprefix("a ").removeprefix("an ")


class FieldError(Exception):
    """A decisive field that is missing or of the wrong type in a record."""

    def __init__(self, field: str, expected: str, found: str, record: str = "", resource_id: str = "") -> None:
        self.field = field
        self.expected = expected
        self.found = found
        self.record = record
        self.resource_id = resource_id
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f" in {self.record}" if self.record else ""
        state = "is missing" if self.found == "missing" else f"is {self.found}"
        return f"field '{self.field}'{where} {state} (expected {self.expected})"


def _is(value: Any, kind: type[Any]) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


@overload
def need(obj: Any, name: str, kind: type[T]) -> T: ...
@overload
def need(obj: Any, name: str, kind: type[T], default: None) -> T | None: ...
@overload
def need(obj: Any, name: str, kind: type[T], default: T) -> T: ...
def need(obj: Any, name: str, kind: type[T], default: Any = MISSING) -> Any:
    """`obj[name]` (a dotted path), which must be a `kind`.

    Missing (or null) is a `FieldError` unless a `default` is given, for fields the API leaves
    out when they are empty or off; present with the wrong type is always a `FieldError`.
    """
    node = obj
    walked: list[str] = []
    for part in name.split("."):
        walked.append(part)
        if not isinstance(node, dict):
            raise FieldError(".".join(walked[:-1]) or name, "an object", _found(node))
        if node.get(part) is None:
            if default is not MISSING:
                return default
            raise FieldError(".".join(walked), kind_name(kind), "missing")
        node = node[part]
    if not _is(node, kind):
        raise FieldError(name, kind_name(kind), _found(node))
    return node


@dataclass(frozen=True)
class Inventory:
    """The listing a check judges (see the module docstring)."""

    key: str
    items: str | None = TOP
    id: str = ""
    resource_type: str = ""
    resource_id: ResourceId | None = field(default=None, compare=False)
    parent: Inventory | None = None
    count: str | None = None

    def chain(self) -> list[Inventory]:
        """This inventory and its ancestors, the root listing first."""
        out: list[Inventory] = []
        node: Inventory | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    @property
    def root(self) -> Inventory:
        return self.chain()[0]

    def describe(self) -> str:
        where = "each record" if self.items is None else ("the page" if self.items == TOP else f"'{self.items}'")
        ident = f", named by '{self.id}'" if self.id else ""
        return f"{self.key}: items at {where}{ident}"


@dataclass(frozen=True)
class Item:
    """One listed resource: its data, the record it came from, and its resource id."""

    value: Any
    ev: Evidence
    resource_id: str
    name: str
    #: where the item sits in the record ("LoadBalancers[2]"), for error messages
    at: str

    @property
    def account(self) -> str:
        return self.ev.account

    @property
    def region(self) -> str:
        return self.ev.region

    def part(self, value: Any, at: str) -> Item:
        """A nested object of this item (`at` relative to it), read with the same error context."""
        return Item(value, self.ev, self.resource_id, self.name, f"{self.at}.{at}" if self.at else at)

    def parts(self, name: str, *, required: bool = True) -> list[Item]:
        """Each element of the list field `name`, as an Item (absent: an error when `required`,
        else no elements)."""
        values = self.need(name, list) if required else self.need(name, list, [])
        return [self.part(v, f"{name}[{n}]") for n, v in enumerate(values)]

    @overload
    def need(self, name: str, kind: type[T]) -> T: ...
    @overload
    def need(self, name: str, kind: type[T], default: None) -> T | None: ...
    @overload
    def need(self, name: str, kind: type[T], default: T) -> T: ...
    def need(self, name: str, kind: type[T], default: Any = MISSING) -> Any:
        """A decisive field of this item (see `need`); a FieldError names the record and path."""
        try:
            return need(self.value, name, kind, default)
        except FieldError as exc:
            path = f"{self.at}.{exc.field}" if self.at else exc.field
            raise FieldError(path, exc.expected, exc.found, self.ev.path, self.resource_id) from None


@dataclass(frozen=True)
class PageProblem:
    """A page whose items are not where its inventory says, or an item without its id."""

    inventory: Inventory
    ev: Evidence
    path: str
    message: str


@dataclass
class Listing:
    """What one inventory's pages hold: the items, the pages read, and shape problems."""

    inventory: Inventory
    items: list[Item] = field(default_factory=list)
    pages: list[Evidence] = field(default_factory=list)
    problems: list[PageProblem] = field(default_factory=list)


def _walk(response: Any, path: str) -> tuple[Any, str | None]:
    """The value at dotted `path`, or (None, why) when it is not there."""
    if path == TOP:
        return response, None
    node = response
    for part in path.split("."):
        if not isinstance(node, dict):
            return None, f"the page is {_found(node)}, not an object holding '{path}'"
        if part not in node:
            return None, f"the page has no '{path}'"
        node = node[part]
    return node, None


def _item_lists(response: Any, path: str) -> tuple[list[tuple[str, Any]], str | None]:
    """Each value at `path` with where it sits (several when a segment ends in `[]`), or why
    the page does not hold them."""
    if path == TOP:
        return [("", response)], None
    nodes: list[tuple[str, Any]] = [("", response)]
    for part in path.split("."):
        name, flat = (part[:-2], True) if part.endswith("[]") else (part, False)
        nxt: list[tuple[str, Any]] = []
        for at, node in nodes:
            label = f"{at}.{name}" if at else name
            if not isinstance(node, dict):
                return [], f"{at or 'the page'} is {_found(node)}, not an object holding '{name}'"
            if name not in node:
                return [], f"{at or 'the page'} has no '{name}'" if at else f"the page has no '{path}'"
            value = node[name]
            if not flat:
                nxt.append((label, value))
            elif isinstance(value, list):
                nxt.extend((f"{label}[{n}]", v) for n, v in enumerate(value))
            else:
                return [], f"'{label}' is {_found(value)}, not a list"
        nodes = nxt
    return nodes, None


def read_listing(inv: Inventory, index: EvidenceIndex) -> Listing:
    """Every item of every successful page of `inv.key`, with each page's shape problems."""
    out = Listing(inv)
    for entry in index.entries_for(inv.key):
        if not entry.ok:
            continue
        ev = index.load(entry)
        out.pages.append(ev)
        if inv.items is None:
            one = _item(inv, ev.response, ev, "", out)
            if one is not None:
                out.items.append(one)
            continue
        lists, why = _item_lists(ev.response, inv.items)
        if why is not None and inv.count is not None:
            count, _ = _walk(ev.response, inv.count)
            if type(count) is int and count == 0:
                lists, why = [], None  # the API leaves the items out of an empty page
        if why is None:
            bad = next(((at, found) for at, found in lists if not isinstance(found, list)), None)
            if bad is not None:
                why = f"'{bad[0] or inv.items}' is {_found(bad[1])}, not a list"
        if why is not None:
            out.problems.append(PageProblem(inv, ev, inv.items, why))
            continue
        for label, found in lists:
            for n, value in enumerate(found):
                item = _item(inv, value, ev, f"{label}[{n}]", out)
                if item is not None:
                    out.items.append(item)
    return out


def _item(inv: Inventory, value: Any, ev: Evidence, at: str, out: Listing) -> Item | None:
    where = f"item {at}" if at else "the record"
    if inv.id:
        try:
            raw = need(value, inv.id, object)
        except FieldError as exc:
            path = f"{at}.{exc.field}" if at else exc.field
            out.problems.append(PageProblem(inv, ev, path, f"{where}: {exc.describe()}"))
            return None
        if not isinstance(raw, str | int) or isinstance(raw, bool) or raw == "":
            path = f"{at}.{inv.id}" if at else inv.id
            out.problems.append(PageProblem(inv, ev, path, f"{where}: '{inv.id}' is {_found(raw)}, not a name"))
            return None
        name = str(raw)
    elif inv.items is None:
        name = ev.record.subject
    else:
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            out.problems.append(PageProblem(inv, ev, at, f"{where} is {_found(value)}, not a name"))
            return None
        name = str(value)
    rid = inv.resource_id(name, ev) if inv.resource_id is not None else name
    return Item(value, ev, rid, name, at)


def children_missing(parent: Listing, child: Inventory, index: EvidenceIndex) -> Iterator[Item]:
    """Resources of `parent` for which no record of `child.key` (ok or failed) was collected."""
    have = {entry.subject for entry in index.entries_for(child.key)}
    for item in parent.items:
        if item.resource_id not in have and item.name not in have:
            yield item


__all__ = [
    "TOP",
    "FieldError",
    "Inventory",
    "Item",
    "Listing",
    "PageProblem",
    "children_missing",
    "kind_name",
    "need",
    "read_listing",
]
