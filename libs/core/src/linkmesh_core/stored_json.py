"""A stored document to the API's JSON, with no message made between.

A link's data is kept as ``message_dict`` wrote it (``lookup.v1.Customer``, fields at their
default left out) and the API answers it with every field: it was made a message
(``dict_message``) and the message a dict again (``message_dict(..., with_defaults=True)``),
two Python passes over every field of every order, most of the CPU of opening a customer
with a lot of data. ``api_json`` answers the same dict from the document in one pass: each
value already as the JSON mapping writes it is checked and kept, each field left out gets its
default. A value of any other shape (a field by its JSON name, an instant not as written
back, a number where text is due, null...) hands the whole document to the two passes, which
answer as they always did, errors included. tests/test_stored_json.py holds the two to the
same answers for every message of the project's protos.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.message import Message

from linkmesh_core.proto_dict import defaults_of, instant_text, message_dict
from linkmesh_core.proto_parse import dict_message

FD = descriptor.FieldDescriptor
Convert = Callable[[Any], Any]
Field = Any  # a FieldDescriptor (the stubs make its message and enum types optional)
_ABSENT = object()
_INT32 = {FD.TYPE_INT32: -(2**31), FD.TYPE_SINT32: -(2**31), FD.TYPE_SFIXED32: -(2**31), FD.TYPE_UINT32: 0, FD.TYPE_FIXED32: 0}


class _Unsure(Exception):
    """A value not as the JSON mapping writes it: the two passes decide."""


class _Plan:
    """One message type: each field's name, how its value is checked, and its default (or
    ``_ABSENT`` for a field with presence); the names a document may hold that send it the
    slow way (JSON names, extensions aside); each key's oneof where a oneof has several."""

    __slots__ = ("fields", "names", "json_names", "oneofs")

    def __init__(self, message_type: Any) -> None:
        defaults = defaults_of(message_type)
        self.fields = [(f.name, _convert(f), defaults.get(f.name, _ABSENT)) for f in message_type.fields]
        self.names = frozenset(f.name for f in message_type.fields)
        self.json_names = frozenset(f.json_name for f in message_type.fields) - self.names
        self.oneofs = {f.name: f.containing_oneof for f in message_type.fields if f.containing_oneof and len(f.containing_oneof.fields) > 1}


_PLANS: dict[Any, _Plan] = {}


def api_json(doc: Mapping[str, Any], message_type: type[Message]) -> Any:
    """``message_dict(dict_message(doc, message_type()), with_defaults=True)``, in one pass
    when every value of ``doc`` is as ``message_dict`` writes it."""
    if not message_type.DESCRIPTOR.full_name.startswith("google.protobuf."):
        try:
            return _complete(doc if isinstance(doc, dict) else dict(doc), message_type.DESCRIPTOR)
        except _Unsure:
            pass
    return message_dict(dict_message(doc, message_type()), with_defaults=True)


def _complete(doc: Any, message_type: Any) -> dict[str, Any]:
    if type(doc) is not dict:
        raise _Unsure
    plan = _PLANS.get(message_type)
    if plan is None:
        plan = _PLANS[message_type] = _Plan(message_type)
    out: dict[str, Any] = {}
    seen = 0
    for name, convert, default in plan.fields:
        value = doc.get(name, _ABSENT)
        if value is not _ABSENT:
            seen += 1
            out[name] = convert(value)
        elif default is not _ABSENT:
            out[name] = default() if callable(default) else default
    if seen != len(doc) and any(k in plan.json_names or k[:1] == "[" for k in doc if k not in plan.names):
        raise _Unsure  # by a JSON name, or an extension (other keys are unknown: left out, as when parsed)
    if plan.oneofs and len(doc) > 1:
        members = [plan.oneofs[k] for k in doc if k in plan.oneofs]
        if len(set(members)) < len(members):
            raise _Unsure  # two members of one oneof
    return out


def _convert(field: Field) -> Convert:
    if field.type == FD.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        return _map(field)
    one = _value(field)
    if field.is_repeated:

        def each(values: Any) -> list[Any]:
            if type(values) is not list:
                raise _Unsure
            return [one(v) for v in values]

        return each
    return one


def _map(field: Field) -> Convert:
    if field.message_type.fields_by_name["key"].type != FD.TYPE_STRING:
        return _unsure  # its keys written as text: the two passes
    one = _value(field.message_type.fields_by_name["value"])

    def entries(value: Any) -> dict[str, Any]:
        if type(value) is not dict or any(type(k) is not str for k in value):
            raise _Unsure
        return {k: one(v) for k, v in value.items()}

    return entries


def _value(field: Field) -> Convert:
    """How one value of ``field`` is checked, and copied where it is a container."""
    kind = field.type
    if kind == FD.TYPE_MESSAGE:
        name = field.message_type.full_name
        if name == "google.protobuf.Timestamp":
            return _instant
        if name.startswith("google.protobuf."):
            return _unsure
        message_type = field.message_type
        return lambda doc: _complete(doc, message_type)
    if kind == FD.TYPE_STRING:
        return _text
    if kind == FD.TYPE_BOOL:
        return _flag
    if kind in _INT32:
        low = _INT32[kind]
        high = 2**31 - 1 if low else 2**32 - 1

        def integer(value: Any) -> int:
            if type(value) is not int or not low <= value <= high:
                raise _Unsure
            return value

        return integer
    if kind == FD.TYPE_ENUM:
        written = frozenset({v.number: v.name for v in field.enum_type.values}.values())  # as message_dict names a number

        def enum(value: Any) -> str:
            if type(value) is not str or value not in written:
                raise _Unsure
            return value

        return enum
    return _unsure  # 64-bit integers, floats, bytes: rare in what is stored, the two passes


def _kept(kind: type) -> Convert:
    """A value kept as it is when it is of ``kind`` (text, a flag)."""

    def same(value: Any) -> Any:
        if type(value) is not kind:
            raise _Unsure
        return value

    return same


_text, _flag = _kept(str), _kept(bool)


def _instant(value: Any) -> str:
    if type(value) is not str or not _as_written(value):
        raise _Unsure
    return value


@lru_cache(maxsize=16384)
def _as_written(text: str) -> bool:
    """Whether ``text`` is an instant as ``message_dict`` writes one (once per text: a
    profile's orders are answered again on every open, the same instants)."""
    stamp = timestamp_pb2.Timestamp()
    try:
        stamp.FromJsonString(text)
        return instant_text(stamp.seconds, stamp.nanos) == text
    except ValueError:
        return False


def _unsure(value: Any) -> Any:
    raise _Unsure
