"""Typed check parameters: each check's parameters are a pydantic model.

The model gives every parameter its type, bounds, default and description. The catalog and
the `[controls.ID]` overrides are validated against it when they load (a wrong type or a value
out of bounds is one line naming the key, exit 2), and a check reads its parameters as typed
attributes (`ctx.params.min_azs`), never by casting `ctx.params["min_azs"]`.

    class MultiAzParams(Params):
        min_azs: int = Field(2, ge=1, description="Availability Zones a load balancer must span.")

Models are strict: `"2048"` is not an integer and `"false"` is not a boolean, since a string
that coerced quietly could loosen a check while looking stricter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo


class Params(BaseModel):
    """Base of every check's parameter model: strict, closed, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoParams(Params):
    """The parameters of a check that takes none."""


@dataclass(frozen=True)
class ParamInfo:
    """One parameter as `evidence controls show` prints it."""

    name: str
    type: str
    bounds: str
    default: Any
    description: str


_BOUND_SYMBOLS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=", "max_length": "length <="}


def _bounds(info: FieldInfo) -> str:
    parts: list[str] = []
    for meta in info.metadata:
        for attr, symbol in _BOUND_SYMBOLS.items():
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def _type_name(info: FieldInfo) -> str:
    ann = info.annotation
    if ann is None:
        return "any"
    text = getattr(ann, "__name__", None) if not getattr(ann, "__args__", None) else None
    return text or str(ann).replace("typing.", "")


def describe(model: type[Params]) -> list[ParamInfo]:
    """Every parameter of `model` with its type, bounds, default and description."""
    return [
        ParamInfo(
            name=name,
            type=_type_name(info),
            bounds=_bounds(info),
            default=info.get_default(call_default_factory=True),
            description=info.description or "",
        )
        for name, info in model.model_fields.items()
    ]


def defaults(model: type[Params]) -> dict[str, Any]:
    """The model's defaults as JSON-ready values."""
    return model().model_dump(mode="json")


def problem(model: type[Params], values: Mapping[str, Any]) -> tuple[str, str] | None:
    """(parameter name, why) for the first value `model` refuses, else None."""
    try:
        model.model_validate(dict(values))
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "?"
        if first["type"] == "extra_forbidden":
            known = ", ".join(model.model_fields) or "none"
            return name, f"unknown parameter (parameters: {known})"
        got = first.get("input")
        shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) else ""
        return name, f"{first['msg']}{shown}"
    return None


__all__ = ["NoParams", "ParamInfo", "Params", "defaults", "describe", "problem"]
