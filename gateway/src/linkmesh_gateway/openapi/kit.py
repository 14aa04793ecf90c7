"""The helpers the OpenAPI document is built with: basic types, references, arrays, closed objects."""

from __future__ import annotations

from typing import Any

S: dict[str, Any] = {"type": "string"}
B: dict[str, Any] = {"type": "boolean"}
I: dict[str, Any] = {"type": "integer"}
TS: dict[str, Any] = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def arr(item: dict[str, Any], description: str = "") -> dict[str, Any]:
    out = {"type": "array", "items": item}
    if description:
        out["description"] = description
    return out


def obj(props: dict[str, Any], required: list[str] | None = None, *, closed: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    out["required"] = list(props) if required is None else required
    if closed:
        out["additionalProperties"] = False
    return out


def str_map() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": S}
