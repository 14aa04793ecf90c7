"""dict_message makes what ParseDict(..., ignore_unknown_fields=True) makes, for every message
of the project's protos filled at random (as message_dict writes it, and with JSON names as
MessageToDict writes it), for a message with a field of every type, and for documents of odd
shapes, where both answer the same message or fail the same way."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.message import Message

from linkmesh_core.proto_dict import message_dict
from linkmesh_core.proto_parse import dict_message
from tests.test_proto_dict import TYPES, all_types, fill


def outcome(doc: Any, message_type: type[Message], parse: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(doc, message_type()).SerializeToString(deterministic=True)
    except Exception as exc:  # the failure itself is compared
        return "failed", (type(exc).__name__, str(exc))


def same(doc: Any, message_type: type[Message]) -> tuple[str, Any]:
    expected = outcome(doc, message_type, lambda d, m: ParseDict(d, m, ignore_unknown_fields=True))
    got = outcome(doc, message_type, dict_message)
    assert got == expected, (message_type.DESCRIPTOR.full_name, doc)
    return got


@pytest.mark.parametrize("message_type", TYPES, ids=lambda t: t.DESCRIPTOR.full_name)
def test_dict_message_makes_what_parse_dict_makes(message_type: type[Message]) -> None:
    rng = random.Random(message_type.DESCRIPTOR.full_name)
    same({}, message_type)
    for _ in range(25):
        message = fill(message_type(), rng)
        kept = same(message_dict(message), message_type)
        assert kept == ("ok", message.SerializeToString(deterministic=True)), "the message back as it was"
        same(MessageToDict(message), message_type)  # JSON names


def test_every_field_type_as_parse_dict_makes_it() -> None:
    AllTypes = all_types()
    rng = random.Random(11)
    for _ in range(300):
        message = fill(AllTypes(), rng)
        same(message_dict(message), AllTypes)
        same(MessageToDict(message), AllTypes)


ODD: list[dict[str, Any]] = [
    {"f5": 7, "unknown": {"deep": [1, 2]}},  # an unknown field: ignored
    {"f5": None, "f9": "x"},  # null: the field is left unset
    {"f5": "12", "f3": "-9", "f4": "18446744073709551615"},  # integers as text
    {"f5": 1.0},  # an integral float
    {"f5": 1.5},  # not an integer: refused
    {"f5": "1 2"},
    {"f5": True},
    {"f5": 2**31},  # out of range
    {"f2": "1.5", "f1": 2},  # a float as text, a double from an int
    {"f2": math.nan},  # NaN as a number: refused
    {"f2": "NaN", "f1": "-Infinity"},
    {"f2": 1e39},  # too large for float32
    {"f8": "true"},  # a bool as text: refused
    {"f9": 5},  # a number for a string: refused
    {"f12": "aGk-_w"},  # url-safe base64 without padding
    {"f12": "aGk+/w=="},
    {"color": 1, "colors": ["RED", 2]},  # an enum by number
    {"color": "PURPLE"},  # an unknown name
    {"color": 99},  # an unknown number (the enum is open)
    {"f5": 1, "f5": 2},  # noqa: F601 (Python keeps one)
    {"either_text": "a", "either_number": "5"},  # two members of one oneof
    {"child": {"f5": 3}, "children": [{"f9": "x"}, None]},  # null in a list: refused
    {"child": None},
    {"child": "text"},
    {"children": {"f5": 1}},  # an object for a list
    {"r5": [1, "2", None]},
    {"map3": {"1": "a", "-2": "b"}, "map8": {"true": {"f5": 1}, "false": {}}, "map9": {"x": 1.5, "y": "Infinity"}},
    {"map8": {"yes": {}}},  # not a bool key
    {"map3": {"x": "a"}},
    {"at": "2026-12-04T10:00:00.5Z", "data": {"a": [1, None, {"b": "c"}]}},
    {"at": "yesterday"},
    {"at": 5},
    {"maybe": 0},  # a proto3 optional at its default: present
    {"child": {"child": {"child": {"f9": "deep"}}}},
]


@pytest.mark.parametrize("doc", ODD, ids=range(len(ODD)))
def test_documents_of_odd_shapes_end_as_parse_dict_ends_them(doc: dict[str, Any]) -> None:
    same(doc, all_types())


def test_a_field_by_both_its_names_ends_as_in_parse_dict() -> None:
    from linkmesh.lookup.v1 import lookup_pb2

    same({"external_id": "1", "externalId": "2"}, lookup_pb2.Customer)
    same(
        {"external_id": "1", "orders": [{"id": "1", "createdAt": "2026-01-01T00:00:00Z", "created_at": "2026-01-02T00:00:00Z"}]},
        lookup_pb2.Customer,
    )


@pytest.mark.parametrize("message_type", TYPES, ids=lambda t: t.DESCRIPTOR.full_name)
def test_what_message_dict_wrote_takes_the_quick_way(message_type: type[Message], monkeypatch: pytest.MonkeyPatch) -> None:
    """Not ParseDict in disguise: a document message_dict wrote is read without handing it to
    ParseDict (a well-known type inside it, a Struct, still is)."""
    import linkmesh_core.proto_parse as proto_parse

    def parse_dict(doc: Any, message: Message, **kw: Any) -> Message:
        assert message.DESCRIPTOR.full_name.startswith("google.protobuf."), f"{message.DESCRIPTOR.full_name} went to ParseDict"
        return ParseDict(doc, message, **kw)

    monkeypatch.setattr(proto_parse, "ParseDict", parse_dict)
    rng = random.Random(3)
    for _ in range(10):
        message = fill(message_type(), rng)
        assert dict_message(message_dict(message), message_type()) == message or _has_nan(message)


def _has_nan(message: Message) -> bool:
    return "nan" in str(message).lower()


def test_a_links_data_becomes_the_message_parse_dict_made() -> None:
    """A profile's link as the API answers it: the stored data read the quick way, present
    even when nothing in it is known."""
    from linkmesh.lookup.v1 import lookup_pb2
    from linkmesh.profile.v1 import profile_pb2

    from linkmesh_profile.db.documents import link_to_proto
    from linkmesh_profile.model.customer import Link

    rng = random.Random(5)
    for _ in range(20):
        data = message_dict(fill(lookup_pb2.Customer(), rng))
        expected = profile_pb2.LinkedApp(app_id="a", external_customer_id="7")
        if data:
            expected.data.CopyFrom(ParseDict(data, lookup_pb2.Customer(), ignore_unknown_fields=True))
        assert link_to_proto(Link("a", "7", data=data), None) == expected
    only_unknown = link_to_proto(Link("a", "7", data={"from_a_newer_release": 1}), None)
    assert only_unknown.HasField("data") and only_unknown.data == lookup_pb2.Customer()
