"""Plain dicts to protobuf messages: what ``json_format.ParseDict(doc, message,
ignore_unknown_fields=True)`` makes, at a fraction of its CPU.

A profile's linked data is kept as the JSON mapping of ``lookup.v1.Customer`` and made a
message again on every open: ``ParseDict`` took 8 ms for a customer with 50 orders (it decides
each field's conversion anew for every value). Here the decision is made once per message
type and field name and kept. Only the values the mapping writes as ``message_dict`` writes
them (and ``MessageToDict`` with JSON names) take the quick way; a value of any other shape
(a number as text in a float field, an enum by an unknown name, a field given twice, a second
member of a oneof, null where a message is due...) hands the whole document to ``ParseDict``,
which answers as it always did, errors included. tests/test_proto_parse.py holds the two to
the same messages for every message of the project's protos.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

from google.protobuf import descriptor, duration_pb2, timestamp_pb2
from google.protobuf.json_format import ParseDict
from google.protobuf.message import Message

FD = descriptor.FieldDescriptor
Setter = Callable[[Message, Any], None]
M = TypeVar("M", bound=Message)
Field = Any  # a FieldDescriptor (the stubs make its message and enum types optional)
_INTS = (FD.CPPTYPE_INT32, FD.CPPTYPE_INT64, FD.CPPTYPE_UINT32, FD.CPPTYPE_UINT64)
_FLOAT_MAX = float.fromhex("0x1.fffffep+127")  # the largest float32 (type_checkers._FLOAT_MAX, which ParseDict checks)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_JSON_STRING_TYPES = ("google.protobuf.Timestamp", "google.protobuf.Duration")
# A message type -> (each key's setter, by field name and JSON name; the JSON names that differ;
# the oneof of each key that shares its oneof with others): see _plan.
_PLANS: dict[Any, Any] = {}


class _Unsure(Exception):
    """A value the quick way does not take: ParseDict decides."""


def dict_message(doc: Mapping[str, Any], message: M) -> M:
    """``message`` (new, empty; a field of another message too) filled from ``doc`` as
    ``ParseDict(doc, message, ignore_unknown_fields=True)`` fills it; answers ``message``."""
    plain = doc if isinstance(doc, dict) else dict(doc)
    if message.DESCRIPTOR.full_name.startswith("google.protobuf."):
        return ParseDict(plain, message, ignore_unknown_fields=True)
    try:
        _fill(message, plain)
    except (_Unsure, ValueError, TypeError, AttributeError, KeyError, OverflowError):
        message.Clear()
        ParseDict(plain, message, ignore_unknown_fields=True)
    return message


def _fill(message: Message, doc: Any) -> None:
    if type(doc) is not dict:
        raise _Unsure
    plan = _PLANS.get(message.DESCRIPTOR)
    if plan is None:
        plan = _PLANS[message.DESCRIPTOR] = _plan(message.DESCRIPTOR)
    setters, aliases, oneofs = plan
    for key, value in doc.items():
        setter = setters.get(key)
        if setter is None:
            if key[:1] == "[":  # an extension
                raise _Unsure
            continue  # unknown: ignored
        if value is None:
            raise _Unsure  # null: ParseDict's to read
        setter(message, value)
    if aliases and any(alias in doc and name in doc for alias, name in aliases.items()):
        raise _Unsure  # a field given by both its names
    if oneofs:
        members = [oneofs[k] for k in doc if k in oneofs]
        if len(set(members)) < len(members):
            raise _Unsure  # two members of one oneof


_Plan = tuple[dict[str, Setter], dict[str, str], dict[str, Any]]


def _plan(message_type: Any) -> _Plan:
    """Each key's setter (by field name and by JSON name), the JSON names that differ from
    their field's name, and the oneof of each key that is one of several in a oneof."""
    setters: dict[str, Setter] = {}
    aliases: dict[str, str] = {}
    oneofs: dict[str, Any] = {}
    for field in message_type.fields:
        setters[field.name] = setters[field.json_name] = _setter(field)
        if field.json_name != field.name:
            aliases[field.json_name] = field.name
        if field.containing_oneof is not None and len(field.containing_oneof.fields) > 1:
            oneofs[field.name] = oneofs[field.json_name] = field.containing_oneof
    return setters, aliases, oneofs


def _setter(field: Field) -> Setter:
    name = field.name
    if _is_map(field):
        key_of = _scalar(field.message_type.fields_by_name["key"], map_key=True)
        value_field = field.message_type.fields_by_name["value"]
        if value_field.cpp_type == FD.CPPTYPE_MESSAGE:
            fill_value = _message_filler(value_field)

            def set_map_of_messages(message: Message, value: Any) -> None:
                target = getattr(message, name)
                for k, v in _entries(value):
                    fill_value(target[key_of(k)], v)

            return set_map_of_messages
        value_of = _scalar(value_field)

        def set_map(message: Message, value: Any) -> None:
            target = getattr(message, name)
            for k, v in _entries(value):
                target[key_of(k)] = value_of(v)

        return set_map
    if field.cpp_type == FD.CPPTYPE_MESSAGE:
        fill = _message_filler(field)
        if field.is_repeated:

            def add_messages(message: Message, value: Any) -> None:
                target = getattr(message, name)
                for item in _items(value):
                    fill(target.add(), item)

            return add_messages

        def set_message(message: Message, value: Any) -> None:
            target = getattr(message, name)
            target.SetInParent()
            fill(target, value)

        return set_message
    convert = _scalar(field)
    if field.is_repeated:
        return lambda message, value: getattr(message, name).extend([convert(v) for v in _items(value)])
    return lambda message, value: setattr(message, name, convert(value))


def _message_filler(field: Field) -> Callable[[Message, Any], None]:
    """How one message value of ``field`` is filled in: the quick way, or ParseDict's own for
    a well-known type (a Timestamp from its text)."""
    full_name = field.message_type.full_name
    if full_name in _JSON_STRING_TYPES:
        parse = _instant if full_name == "google.protobuf.Timestamp" else _span

        def from_text(target: Message, value: Any) -> None:
            if type(value) is not str:
                raise _Unsure
            target.seconds, target.nanos = parse(value)  # type: ignore[attr-defined]

        return from_text
    if full_name.startswith("google.protobuf."):
        return _parse_well_known
    return _fill


def _parse_well_known(target: Message, value: Any) -> None:
    ParseDict(value, target, ignore_unknown_fields=True)


@lru_cache(maxsize=16384)
def _instant(text: str) -> tuple[int, int]:
    """A Timestamp's text as (seconds, nanos), read by protobuf's own reader (a profile's orders
    are read again on every open: the same texts)."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(text)
    return stamp.seconds, stamp.nanos


@lru_cache(maxsize=1024)
def _span(text: str) -> tuple[int, int]:
    span = duration_pb2.Duration()
    span.FromJsonString(text)
    return span.seconds, span.nanos


def _scalar(field: Field, *, map_key: bool = False) -> Callable[[Any], Any]:
    cpp = field.cpp_type
    if cpp in _INTS:
        return _integer
    if cpp == FD.CPPTYPE_DOUBLE:
        return _float
    if cpp == FD.CPPTYPE_FLOAT:
        return _float32
    if cpp == FD.CPPTYPE_BOOL:
        return _bool_key if map_key else _bool
    if cpp == FD.CPPTYPE_ENUM:
        return _enum(field)
    if field.type == FD.TYPE_BYTES:
        return _bytes
    return _string


def _integer(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    raise _Unsure


def _float(value: Any) -> float:
    if (type(value) is float and math.isfinite(value)) or type(value) is int:
        return float(value)
    if type(value) is str and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise _Unsure  # NaN or infinity as a number (refused), a number as text...


def _float32(value: Any) -> float:
    number = _float(value)
    if math.isfinite(number) and abs(number) > _FLOAT_MAX:
        raise _Unsure  # too large for 32 bits: refused
    return number


def _bool_key(value: Any) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise _Unsure


def _exactly(kind: type) -> Callable[[Any], Any]:
    """A value of exactly ``kind`` (a bool is no number, a number no text), as it is."""

    def same(value: Any) -> Any:
        if type(value) is kind:
            return value
        raise _Unsure

    return same


_bool, _string = _exactly(bool), _exactly(str)


def _bytes(value: Any) -> bytes:
    if type(value) is not str:
        raise _Unsure
    encoded = value.encode("utf-8")
    return base64.urlsafe_b64decode(encoded + b"=" * (4 - len(encoded) % 4))  # as ParseDict reads it


def _enum(field: Field) -> Callable[[Any], int]:
    by_name = {v.name: v.number for v in field.enum_type.values}
    numbers = set(by_name.values())
    is_closed = field.enum_type.is_closed

    def number_of(value: Any) -> int:
        if type(value) is str and value in by_name:
            return by_name[value]
        if type(value) is int and (value in numbers or not is_closed):
            return value
        raise _Unsure

    return number_of


def _items(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Unsure
    return value


def _entries(value: Any) -> Any:
    if type(value) is not dict:
        raise _Unsure
    return value.items()


def _is_map(field: Field) -> bool:
    return field.type == FD.TYPE_MESSAGE and field.message_type.has_options and field.message_type.GetOptions().map_entry
