"""Order-action forms: how a connector declares an action's fields, and how
any caller checks params against them. One parser per field type, shared by
the profile service (validation) and the connectors (use)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.money import parse_amount

TYPES = ("string", "integer", "decimal", "boolean", "select", "lines")
# ASCII digits only: Python's \d and int() also take other scripts' digits (a full-width "１").
LINES_RE = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*:\s*([0-9]{1,9})\s*$", re.ASCII)
INTEGER_RE = re.compile(r"[0-9]{1,12}", re.ASCII)
MAX_STRING = 500
# Bounds when a connector declares none (FormField.min_value / max_value).
DEFAULT_BOUNDS = {"integer": ("1", "10000"), "decimal": ("0.01", "1000000"), "lines": ("1", "10000")}


def form_field(
    name: str,
    label: str,
    type: str = "string",
    *,
    required: bool = False,
    hint: str = "",
    options: tuple[str, ...] = (),
    min_value: str = "",
    max_value: str = "",
    default: str | bool = "",
    choices: Mapping[str, str] | None = None,
) -> lookup_pb2.FormField:
    """A field of an action's form. A ``boolean`` must say what the vendor does without a value
    (``default``): a form shows the box as the action will act. ``choices``: a select's
    values as people read them (the value is what is sent)."""
    assert type in TYPES, type
    assert type != "boolean" or isinstance(default, bool), f"the boolean {name} must declare its default"
    default_value = ("true" if default else "false") if isinstance(default, bool) else default
    return lookup_pb2.FormField(
        name=name,
        label=label,
        type=type,
        required=required,
        hint=hint,
        options=list(options),
        min_value=min_value,
        max_value=max_value,
        default_value=default_value,
        choices=[lookup_pb2.FormChoice(value=v, label=t) for v, t in (choices or {}).items()],
    )


def flag(spec: lookup_pb2.ActionSpec, params: Mapping[str, str], name: str) -> bool:
    """A boolean param as sent, else the default its form declares: the one place a connector
    decides what an absent box means."""
    value = params.get(name, "").strip().lower()
    if not value:
        declared = next((f for f in spec.fields if f.name == name), None)
        assert declared is not None and declared.type == "boolean", f"{spec.name} declares no boolean {name}"
        value = declared.default_value
    return value in ("true", "1", "yes", "on")


def spec_of(specs: list[lookup_pb2.ActionSpec], name: str) -> lookup_pb2.ActionSpec:
    return next(s for s in specs if s.name == name)


def bounds(f: lookup_pb2.FormField) -> tuple[Decimal, Decimal]:
    """The least and greatest value of a number field (or of a line's quantity)."""
    low, high = DEFAULT_BOUNDS.get(f.type, ("0", "0"))
    return Decimal(f.min_value or low), Decimal(f.max_value or high)


def out_of_bounds(value: Decimal, f: lookup_pb2.FormField, what: str = "") -> str | None:
    low, high = bounds(f)
    if not low <= value <= high:
        return f"{what}must be from {low} to {high}"
    return None


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
    if len(value) > MAX_STRING:
        return f"must be at most {MAX_STRING} characters"
    if f.type == "integer":
        if not INTEGER_RE.fullmatch(value):
            return "must be a whole number (digits 0-9)"
        return out_of_bounds(Decimal(value), f)
    if f.type == "decimal":
        try:
            return out_of_bounds(parse_amount(value), f)
        except ValueError as exc:
            return str(exc)
    if f.type == "boolean" and value not in ("true", "false"):
        return "must be true or false"
    if f.type == "select" and value not in f.options:
        return f"must be one of: {', '.join(f.options)}"
    if f.type == "lines":
        try:
            lines = parse_lines(value)
        except ValueError as exc:
            return str(exc)
        return next((p for line, qty in lines if (p := out_of_bounds(Decimal(qty), f, f"the quantity of line {line} "))), None)
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
