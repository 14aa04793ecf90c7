"""Protobuf messages to plain dicts: what ``json_format.MessageToDict`` answers with
``preserving_proto_field_name=True``, at a fraction of its CPU.

``MessageToDict`` decides each field's conversion again for every value it prints (about
65 us for a search answer of two records); here the decision is made once per field and
kept, and only the fields a message holds (``ListFields``, in the C runtime) are visited.
The output is the protobuf JSON mapping as ``MessageToDict`` gives it: int64 as a string,
bytes as base64, enums by name, NaN and infinities as strings, float32 at its shortest,
map keys as strings; a Timestamp by its own ``ToJsonString`` (once per instant), the other
well-known types (Struct, wrappers, Any...) by ``MessageToDict`` itself. tests/test_proto_dict.py holds both to the same answers for
every message of the project's protos.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.internal import type_checkers
from google.protobuf.json_format import MessageToDict, SerializeToJsonError
from google.protobuf.message import Message

FD = descriptor.FieldDescriptor
Convert = Callable[[Any], Any]
Field = Any  # a FieldDescriptor (the stubs make its message and enum types optional)
_INT64 = (FD.CPPTYPE_INT64, FD.CPPTYPE_UINT64)
# Without and with defaults: a field -> (its key, how its value converts).
_PLANS: tuple[dict[Field, tuple[str, Convert]], dict[Field, tuple[str, Convert]]] = ({}, {})
_DEFAULTS: dict[Any, dict[str, Any]] = {}  # the fields without presence, at their default


def message_dict(message: Message, *, with_defaults: bool = False) -> Any:
    """``message`` as ``MessageToDict(message, preserving_proto_field_name=True,
    always_print_fields_with_no_presence=with_defaults)`` answers it."""
    if message.DESCRIPTOR.full_name.startswith("google.protobuf."):
        return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=with_defaults)
    return _regular(message, with_defaults)


def _regular(message: Message, with_defaults: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    plans = _PLANS[with_defaults]
    for field, value in message.ListFields():
        plan = plans.get(field)
        if plan is None:
            plan = plans[field] = _plan(field, with_defaults)
        out[plan[0]] = plan[1](value)
    if with_defaults:
        for name, default in defaults_of(message.DESCRIPTOR).items():
            if name not in out:
                out[name] = default() if callable(default) else default
    return out


def _plan(field: Field, with_defaults: bool) -> tuple[str, Convert]:
    name = f"[{field.full_name}]" if field.is_extension else field.name
    if _is_map(field):
        value_of = _value(field.message_type.fields_by_name["value"], with_defaults)
        return name, lambda entries: {_map_key(k): value_of(entries[k]) for k in entries}
    one = _value(field, with_defaults)
    if field.is_repeated:
        return name, lambda values: [one(v) for v in values]
    return name, one


def _value(field: Field, with_defaults: bool) -> Convert:
    """How one value of ``field`` converts."""
    cpp = field.cpp_type
    if cpp == FD.CPPTYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return functools.partial(_timestamp, field.name)
        if field.message_type.full_name.startswith("google.protobuf."):
            return lambda m: MessageToDict(m, preserving_proto_field_name=True, always_print_fields_with_no_presence=with_defaults)
        return lambda m: _regular(m, with_defaults)
    if cpp == FD.CPPTYPE_ENUM:
        return _enum(field)
    if field.type == FD.TYPE_BYTES:
        return lambda b: base64.b64encode(b).decode("utf-8")
    if cpp in _INT64:
        return str
    if cpp == FD.CPPTYPE_FLOAT:
        return lambda v: _non_finite(v) if not math.isfinite(v) else type_checkers.ToShortestFloat(v)
    if cpp == FD.CPPTYPE_DOUBLE:
        return lambda v: _non_finite(v) if not math.isfinite(v) else v
    return _same


def _timestamp(name: str, stamp: Any) -> str:
    """A Timestamp field as MessageToDict writes it, and fails on it."""
    try:
        return instant_text(stamp.seconds, stamp.nanos)
    except ValueError as e:
        raise SerializeToJsonError(f"Failed to serialize {name} field: {e}.") from e


@functools.lru_cache(maxsize=16384)
def instant_text(seconds: int, nanos: int) -> str:
    """A Timestamp's ``ToJsonString``, once per instant: a profile's orders are written out
    again on every open, the same instants."""
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos).ToJsonString()


def _enum(field: Field) -> Convert:
    if field.enum_type.full_name == "google.protobuf.NullValue":
        return lambda _: None
    names = {v.number: v.name for v in field.enum_type.values}

    def name_of(number: int) -> Any:
        name = names.get(number)
        if name is not None:
            return name
        if field.enum_type.is_closed:  # MessageToDict refuses it too
            raise SerializeToJsonError(f"Failed to serialize {field.name} field: {number} is none of {field.enum_type.full_name}.")
        return number

    return name_of


def defaults_of(message_type: Any) -> dict[str, Any]:
    """Each field without presence at its default: a value, or a callable making a fresh
    list or dict (the caller may change what it is given)."""
    found = _DEFAULTS.get(message_type)
    if found is None:
        found = {}
        for field in message_type.fields:
            if field.has_presence:
                continue
            if _is_map(field):
                found[field.name] = dict
            elif field.is_repeated:
                found[field.name] = list
            else:
                found[field.name] = _value(field, True)(field.default_value)
        _DEFAULTS[message_type] = found
    return found


def _is_map(field: Field) -> bool:
    return field.type == FD.TYPE_MESSAGE and field.message_type.has_options and field.message_type.GetOptions().map_entry


def _map_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _non_finite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("-Infinity" if value < 0 else "Infinity")


def _same(value: Any) -> Any:
    return value
