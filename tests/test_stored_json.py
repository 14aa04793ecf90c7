"""api_json(doc, type) answers what ``message_dict(dict_message(doc, type()), with_defaults=True)``
answers (the API's JSON of a stored document, with no message made between), for every message
of the project's protos filled at random, for a message with a field of every type, and for
documents of odd shapes, which fail the same way; and a customer's JSON the profile makes from
its stored document is the JSON the gateway made of GetCustomer's answer."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from bson import Int64, ObjectId
from google.protobuf.message import Message
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.customer_json import customer_json
from linkmesh_core.proto_dict import message_dict
from linkmesh_core.proto_parse import dict_message
from linkmesh_core.stored_json import api_json
from tests.test_proto_dict import TYPES, all_types, fill
from tests.test_proto_parse import ODD


def slow(doc: Any, message_type: type[Message]) -> Any:
    return message_dict(dict_message(doc, message_type()), with_defaults=True)


def outcome(doc: Any, message_type: type[Message], convert: Any) -> tuple[str, Any]:
    try:
        # Sorted keys: JSON's objects are unordered; 1, 1.0 and true still differ.
        return "ok", orjson.dumps(convert(doc, message_type), option=orjson.OPT_SORT_KEYS)
    except Exception as exc:  # the failure itself is compared
        return "failed", (type(exc).__name__, str(exc))


def same(doc: Any, message_type: type[Message]) -> tuple[str, Any]:
    expected = outcome(doc, message_type, slow)
    got = outcome(doc, message_type, api_json)
    assert got == expected, (message_type.DESCRIPTOR.full_name, doc)
    return got


@pytest.mark.parametrize("message_type", TYPES, ids=lambda t: t.DESCRIPTOR.full_name)
def test_api_json_answers_as_the_message_would(message_type: type[Message]) -> None:
    rng = random.Random(message_type.DESCRIPTOR.full_name)
    same({}, message_type)
    for _ in range(25):
        message = fill(message_type(), rng)
        assert same(message_dict(message), message_type)[0] == "ok"


def test_every_field_type_as_the_message_would() -> None:
    AllTypes = all_types()
    rng = random.Random(12)
    for _ in range(300):
        same(message_dict(fill(AllTypes(), rng)), AllTypes)


@pytest.mark.parametrize("doc", ODD, ids=range(len(ODD)))
def test_documents_of_odd_shapes_end_as_through_the_message(doc: dict[str, Any]) -> None:
    same(doc, all_types())


@pytest.mark.parametrize(
    "doc",
    [
        {"external_id": "1", "externalId": "2"},  # a field by both names
        {"externalId": "2", "firstName": "Jane"},  # by JSON names only
        {"external_id": "1", "orders": [{"id": "1", "createdAt": "2026-01-01T00:00:00Z", "created_at": "2026-01-02T00:00:00Z"}]},
        {"orders": [{"created_at": "2026-01-01T00:00:00.000Z"}]},  # an instant not as written back
        {"orders": [{"created_at": "2026-01-01T01:00:00+01:00"}]},
        {"orders": [{"created_at": "yesterday"}]},
        {"orders": [{"lines": [{"quantity": Int64(2)}]}]},  # as BSON may give an integer back
        {"orders": [{"lines": [{"quantity": 2**31}]}]},
        {"orders": [{"lines": [{"quantity": True}]}]},
        {"orders": [{"lines": [{"quantity": "3"}]}]},
        {"orders": [{"fulfilled": 1}]},
        {"orders": [{"fulfilled": None}]},
        {"orders": {"id": "1"}},  # not a list
        {"orders": [None]},
        {"emails": ["a@example.com", 7]},
        {"emails": "a@example.com"},
        {"name": 7},
        {"address": "1 Main St"},
        {"address": {}},  # present and empty
        {"address": {"line1": "1 Main St", "from_a_newer_release": {"x": 1}}},  # unknown: dropped
        {"[linkmesh.ext]": 1},
        {"phones": [{"number": "+15551234567", "type": ""}], "partial": []},  # defaults written out
    ],
)
def test_stored_links_of_odd_shapes_end_as_through_the_message(doc: dict[str, Any]) -> None:
    same(doc, lookup_pb2.Customer)


def test_an_answer_is_the_callers_to_change() -> None:
    doc = {"emails": ["a@example.com"], "orders": [{"id": "1", "partial": ["lines"]}]}
    out = api_json(doc, lookup_pb2.Customer)
    out["emails"].append("b@example.com")
    out["orders"][0]["partial"].clear()
    assert doc == {"emails": ["a@example.com"], "orders": [{"id": "1", "partial": ["lines"]}]}


def test_what_message_dict_wrote_takes_the_quick_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not the message in disguise: a link's data as a refresh stores it is not made a message."""
    import linkmesh_core.stored_json as stored_json

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("made a message")

    monkeypatch.setattr(stored_json, "dict_message", refuse)
    rng = random.Random(4)
    for _ in range(30):
        message = fill(lookup_pb2.Customer(), rng)
        assert api_json(message_dict(message), lookup_pb2.Customer) == message_dict(message, with_defaults=True)


def test_a_customers_json_is_what_the_gateway_made_of_the_message() -> None:
    from linkmesh_profile.db.documents import customer_to_proto, customer_view
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer, Link, Stale

    rng = random.Random(6)
    at = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
    apps = {"a1": App(id="a1", type="bigcommerce", name="Store", actions_enabled=True)}
    for n in range(20):
        links = {
            "a1": Link("a1", "7", "bigcommerce", at, at, message_dict(fill(lookup_pb2.Customer(), rng))),
            "a2": Link("a2", "8", "magento", None, None, {}, Stale("timeout", "no answer", at, at)),  # its app gone
            "a3": Link("a3", "9", "shopify", at, None, {"orders": [{"created_at": "2026-01-01T00:00:00.5Z"}]}),  # the slow way
        }
        customer = Customer(
            oid=ObjectId(),
            name="Jane Smith" if n % 2 else "",
            emails=("jane@example.com",),
            phones=("+14155550101",) if n % 3 else (),
            address={"line1": "1 Main St", "city": "Springfield"} if n % 2 else {},
            custom_attributes={"tier": "gold"},
            field_sources={"name": "a1"},
            attribute_sources={"tier": "a1"},
            links=links if n % 4 else {},
            created_at=at,
            updated_at=at,
            last_contact_at=at if n % 2 else None,
        )
        expected = customer_json(customer_to_proto(customer, apps))
        got = customer_view(customer, apps)
        assert orjson.dumps(got, option=orjson.OPT_SORT_KEYS) == orjson.dumps(expected, option=orjson.OPT_SORT_KEYS)
