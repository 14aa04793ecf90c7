"""message_dict answers what MessageToDict answers, for every message of the project's protos:
filled at random (every field type, nested messages, maps, well-known types, values the
JSON mapping writes specially), partly filled, and empty; with and without defaults."""

from __future__ import annotations

import importlib
import math
import pkgutil
import random
from typing import Any

import linkmesh.lookup.v1
import linkmesh.profile.v1
import pytest
from google.protobuf import descriptor, struct_pb2, timestamp_pb2
from google.protobuf.json_format import MessageToDict, SerializeToJsonError
from google.protobuf.message import Message

from linkmesh_core.proto_dict import message_dict

FD = descriptor.FieldDescriptor
INTS = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1),
    FD.TYPE_FIXED64: (0, 2**64 - 1),
}
FLOATS = (0.0, -0.0, 1.5, 0.1, -2.75e10, 1e-7, math.inf, -math.inf, math.nan, 3.4028234663852886e38)


def message_types() -> list[type[Message]]:
    found = []
    for package in (linkmesh.lookup.v1, linkmesh.profile.v1):
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.endswith("_pb2"):
                module = importlib.import_module(f"{package.__name__}.{info.name}")
                found += [getattr(module, name) for name in module.DESCRIPTOR.message_types_by_name]
    return found


def scalar(field: Any, rng: random.Random) -> Any:
    if field.type in INTS:
        low, high = INTS[field.type]
        return rng.choice((low, high, 0, 1, rng.randint(low, high)))
    if field.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return rng.choice(FLOATS)
    if field.type == FD.TYPE_BOOL:
        return rng.random() < 0.5
    if field.type == FD.TYPE_STRING:
        return rng.choice(("", "jane.smith@example.com", 'Zoë \u2603 "quoted"', "12.50", "x" * 40))
    if field.type == FD.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(6)))
    numbers = [v.number for v in field.enum_type.values]
    return rng.choice(numbers + ([] if field.enum_type.is_closed else [99]))  # an open enum may hold a value it does not name


def fill(message: Message, rng: random.Random, depth: int = 0) -> Message:
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.25 or (field.cpp_type == FD.CPPTYPE_MESSAGE and depth > 3):
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target = getattr(message, field.name)
            key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            for _ in range(rng.randrange(3)):
                key = scalar(key_field, rng)
                if value_field.cpp_type == FD.CPPTYPE_MESSAGE:
                    fill(target[key], rng, depth + 1)
                else:
                    target[key] = scalar(value_field, rng)
        elif field.cpp_type == FD.CPPTYPE_MESSAGE:
            for one in (
                [getattr(message, field.name).add() for _ in range(rng.randrange(3))]
                if field.is_repeated
                else [getattr(message, field.name)]
            ):
                known(one, rng) or fill(one, rng, depth + 1)
                if not field.is_repeated:
                    getattr(message, field.name).SetInParent()
        elif field.is_repeated:
            getattr(message, field.name).extend(scalar(field, rng) for _ in range(rng.randrange(3)))
        else:
            setattr(message, field.name, scalar(field, rng))
    return message


def known(message: Message, rng: random.Random) -> bool:
    """Fills a well-known type as a service would; False for any other message."""
    if isinstance(message, timestamp_pb2.Timestamp):
        message.FromSeconds(rng.randrange(0, 4_000_000_000))
        message.nanos = rng.choice((0, 500_000_000, 123_456_789))
        return True
    if isinstance(message, struct_pb2.Struct):
        message.update({"plan": "gold", "spent": 12.5, "tags": ["a", "b"], "nested": {"ok": True, "none": None}})
        return True
    if message.DESCRIPTOR.full_name.startswith("google.protobuf."):
        return True  # left empty: MessageToDict converts it either way
    return False


def same(message: Message) -> None:
    for with_defaults in (False, True):
        expected = MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=with_defaults)
        got = message_dict(message, with_defaults=with_defaults)
        assert repr(got) == repr(expected), (type(message).__name__, with_defaults)  # repr: NaN, -0.0 and types compared too


TYPES = message_types()


def test_every_message_of_the_protos_is_covered() -> None:
    names = {t.DESCRIPTOR.full_name for t in TYPES}
    assert {"linkmesh.lookup.v1.Customer", "linkmesh.profile.v1.SearchExternalResponse", "linkmesh.profile.v1.Customer"} <= names
    assert len(names) > 60


@pytest.mark.parametrize("message_type", TYPES, ids=lambda t: t.DESCRIPTOR.full_name)
def test_message_dict_answers_as_message_to_dict(message_type: type[Message]) -> None:
    rng = random.Random(message_type.DESCRIPTOR.full_name)
    same(message_type())
    for _ in range(25):
        same(fill(message_type(), rng))


def test_an_answer_is_the_callers_to_change() -> None:
    from linkmesh.profile.v1 import profile_pb2

    first = message_dict(profile_pb2.SearchExternalResponse(), with_defaults=True)
    first["results"].append("changed")
    assert message_dict(profile_pb2.SearchExternalResponse(), with_defaults=True)["results"] == []


def all_types() -> type[Message]:
    """A message with a field of every type the JSON mapping writes apart (the project's
    protos have no float32 or 64-bit integer yet): singular, repeated, optional, in a oneof
    and as map keys and values."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    pool = descriptor_pool.DescriptorPool()
    for wkt in (timestamp_pb2, struct_pb2):
        pool.AddSerializedFile(wkt.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(name="all_types.proto", package="t", syntax="proto3")
    file.dependency.extend(["google/protobuf/timestamp.proto", "google/protobuf/struct.proto"])
    file.enum_type.add(name="Color").value.extend(
        [descriptor_pb2.EnumValueDescriptorProto(name=n, number=i) for i, n in enumerate(("COLOR_UNSET", "RED", "GREEN"))]
    )
    all_types = file.message_type.add(name="AllTypes")
    F = descriptor_pb2.FieldDescriptorProto
    number = 0

    def add(name: str, kind: int, label: int = F.LABEL_OPTIONAL, type_name: str = "", **more: Any) -> None:
        nonlocal number
        number += 1
        all_types.field.add(name=name, number=number, type=kind, label=label, **({"type_name": type_name} if type_name else {}), **more)

    for kind in INTS | {FD.TYPE_FLOAT: 0, FD.TYPE_DOUBLE: 0, FD.TYPE_BOOL: 0, FD.TYPE_STRING: 0, FD.TYPE_BYTES: 0}:
        add(f"f{kind}", kind)
        add(f"r{kind}", kind, F.LABEL_REPEATED)
    add("color", F.TYPE_ENUM, type_name=".t.Color")
    add("colors", F.TYPE_ENUM, F.LABEL_REPEATED, type_name=".t.Color")
    add("at", F.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp")
    add("data", F.TYPE_MESSAGE, type_name=".google.protobuf.Struct")
    add("child", F.TYPE_MESSAGE, type_name=".t.AllTypes")
    add("children", F.TYPE_MESSAGE, F.LABEL_REPEATED, type_name=".t.AllTypes")
    all_types.oneof_decl.add(name="choice")
    all_types.oneof_decl.add(name="_maybe")
    add("either_text", F.TYPE_STRING, oneof_index=0)
    add("either_number", F.TYPE_INT64, oneof_index=0)
    add("maybe", F.TYPE_INT32, oneof_index=1, proto3_optional=True)
    for key, value, value_type in (
        (F.TYPE_INT64, F.TYPE_STRING, ""),
        (F.TYPE_BOOL, F.TYPE_MESSAGE, ".t.AllTypes"),
        (F.TYPE_STRING, F.TYPE_FLOAT, ""),
    ):
        entry = all_types.nested_type.add(name=f"Map{key}Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=key, label=F.LABEL_OPTIONAL)
        entry.field.add(name="value", number=2, type=value, label=F.LABEL_OPTIONAL, **({"type_name": value_type} if value_type else {}))
        add(f"map{key}", F.TYPE_MESSAGE, F.LABEL_REPEATED, type_name=f".t.AllTypes.Map{key}Entry")
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("t.AllTypes"))


def test_every_field_type_converts_as_message_to_dict_does() -> None:
    AllTypes = all_types()
    rng = random.Random(7)
    same(AllTypes())
    for _ in range(300):
        same(fill(AllTypes(), rng))


def test_a_timestamp_out_of_range_fails_as_in_message_to_dict() -> None:
    from linkmesh.lookup.v1 import lookup_pb2

    order = lookup_pb2.Order(id="1")
    order.created_at.seconds = 10**12  # past year 9999
    with pytest.raises(SerializeToJsonError) as expected:
        MessageToDict(order, preserving_proto_field_name=True)
    with pytest.raises(SerializeToJsonError) as got:
        message_dict(order)
    assert str(got.value) == str(expected.value)
