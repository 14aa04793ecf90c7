"""Order-action forms: how a connector declares an action's fields, and how
any caller checks params against them. One parser per field type, shared by
the profile service (validation) and the connectors (use)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.money import parse_amount

TYPES = ("string", "integer", "decimal", "boolean", "select", "lines")
LINES_RE = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*:\s*(\d+)\s*$")
MAX_STRING = 500


def form_field(name: str, label: str, type: str = "string", *, required: bool = False, hint: str = "",
               options: tuple[str, ...] = ()) -> lookup_pb2.FormField:
    assert type in TYPES, type
    return lookup_pb2.FormField(name=name, label=label, type=type, required=required, hint=hint, options=list(options))


def parse_lines(raw: str) -> list[tuple[str, int]]:
    """``"500201:1, 500202:2"`` → ``[("500201", 1), ("500202", 2)]`` (order line id : quantity)."""
    out: list[tuple[str, int]] = []
    for part in (p for p in raw.split(",") if p.strip()):
        match = LINES_RE.match(part)
        if match is None or int(match.group(2)) < 1:
            raise ValueError(f"{part.strip()!r} is not line_id:quantity with a quantity of at least 1")
        out.append((match.group(1), int(match.group(2))))
    ids = [i for i, _ in out]
    if len(set(ids)) != len(ids):
        raise ValueError("a line is listed twice")
    return out


def check_value(f: lookup_pb2.FormField, value: str) -> str | None:
    """The problem with ``value`` for field ``f``, or None."""
    if f.type == "integer" and not re.fullmatch(r"\d+", value):
        return "must be a whole number"
    if f.type == "decimal":
        try:
            parse_amount(value)
        except ValueError as exc:
            return str(exc)
    if f.type == "boolean" and value not in ("true", "false"):
        return "must be true or false"
    if f.type == "select" and value not in f.options:
        return f"must be one of: {', '.join(f.options)}"
    if f.type == "lines":
        try:
            parse_lines(value)
        except ValueError as exc:
            return str(exc)
    if len(value) > MAX_STRING:
        return f"must be at most {MAX_STRING} characters"
    return None


def validate_params(spec: lookup_pb2.ActionSpec, params: Mapping[str, str]) -> dict[str, str]:
    """Every bad param, as ``{"params.<name>": problem}``."""
    errors: dict[str, str] = {}
    fields = {f.name: f for f in spec.fields}
    for name in params:
        if name not in fields:
            errors[f"params.{name}"] = f"unknown field (fields: {', '.join(fields) or 'none'})"
    for f in spec.fields:
        value = params.get(f.name, "").strip()
        if not value:
            if f.required:
                errors[f"params.{f.name}"] = "is required"
            continue
        problem = check_value(f, value)
        if problem:
            errors[f"params.{f.name}"] = problem
    return errors


def check_action(specs: list[lookup_pb2.ActionSpec], request: lookup_pb2.RunActionRequest) -> lookup_pb2.ActionSpec:
    """The connector's own check of a RunAction request: a known action, an order
    where one is needed, a linked customer, and params that fit the form."""
    from linkmesh_core.errors import invalid_argument

    spec = next((s for s in specs if s.name == request.action), None)
    if spec is None:
        raise invalid_argument(f"unknown action {request.action!r}", {"action": f"must be one of: {', '.join(s.name for s in specs)}"})
    errors = validate_params(spec, request.params)
    if spec.order_required and not request.order_id.strip():
        errors["order_id"] = "is required for this action"
    if not request.external_customer_id.strip():
        errors["external_customer_id"] = "is required"
    if errors:
        raise invalid_argument("the action request is invalid", errors)
    return spec
