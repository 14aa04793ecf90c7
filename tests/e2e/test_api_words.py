"""The API the console speaks says each thing one way (issue 33): a contact's result names the
apps it linked and refreshed as it names those it did not link; the idempotency key is
`Idempotency-Key` in every error about it; codes are lower case in errors and in audit outcomes
alike; an unknown filter value is refused, naming the values it may take."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.test_linking_rules import make_app

pytestmark = pytest.mark.e2e


def test_a_contact_names_the_apps_it_linked_and_refreshed(api: Api, sandbox_reset: None) -> None:
    app = make_app(api, name=f"Named {uuid.uuid4().hex[:6]}")
    try:
        result = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
        assert {"app_id": app["id"], "app_name": app["name"]} in result["linked_apps"], result
        assert {"app_id": app["id"], "app_name": app["name"]} in result["refreshed_apps"], result
        assert [a["app_id"] for a in result["linked_apps"]] == result["linked"], "the ids, in the same order"
        again = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
        assert again["linked_apps"] == [] and all(a["app_name"] for a in again["refreshed_apps"]), again
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def test_the_idempotency_key_is_spelled_one_way_in_every_error(api: Api, sandbox_reset: None) -> None:
    app = make_app(api, actions_enabled=True)
    try:
        customer = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()["customer_id"]
        path = f"/api/v1/customers/{customer}/actions"
        body: dict[str, Any] = {"app_id": app["id"], "action": "create_discount_code", "params": {"type": "free_shipping"}}
        missing = api.post(path, body)
        assert missing.status_code == 422 and set(missing.json()["error"]["fields"]) == {"Idempotency-Key"}, missing.text
        key = {"Idempotency-Key": f"words-{uuid.uuid4().hex}"}
        assert api.post(path, body, headers=key).status_code == 200
        reused = api.post(path, {**body, "params": {"type": "free_shipping", "max_uses": "2"}}, headers=key)
        assert reused.status_code == 422 and set(reused.json()["error"]["fields"]) == {"Idempotency-Key"}, reused.text
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def test_audit_outcomes_are_codes_in_the_errors_case_and_an_unknown_one_is_refused(api: Api) -> None:
    api.post("/api/v1/customers", {"name": f"Audited {uuid.uuid4().hex[:6]}"})
    refused = api.post("/api/v1/customers", {"emails": [f"taken-{uuid.uuid4().hex[:6]}@example.com"], "phones": ["12"]})
    assert refused.json()["error"]["code"] == "invalid_argument"
    entries = api.get("/api/v1/audit", role="admin", params={"action": "customer.create", "limit": 50}).json()["entries"]
    outcomes = {e["outcome"] for e in entries}
    assert "ok" in outcomes and all(o == o.lower() for o in outcomes), outcomes
    ok = api.get("/api/v1/audit", role="admin", params={"outcome": "ok", "limit": 5}).json()["entries"]
    assert ok and all(e["outcome"] == "ok" for e in ok)
    bogus = api.get("/api/v1/audit", role="admin", params={"outcome": "bogus"})
    assert bogus.status_code == 422 and "ok" in bogus.json()["error"]["fields"]["outcome"], bogus.text
    no_action = api.get("/api/v1/audit", role="admin", params={"action": "customer.bogus"})
    assert no_action.status_code == 422 and "customer.create" in no_action.json()["error"]["fields"]["action"], no_action.text


def test_an_unknown_kind_of_lookup_is_refused_not_answered_empty(api: Api) -> None:
    app = make_app(api)
    try:
        path = f"/api/v1/apps/{app['id']}/lookups"
        assert api.get(path, role="developer", params={"kind": "search"}).status_code == 200
        bogus = api.get(path, role="developer", params={"kind": "bogus"})
        assert bogus.status_code == 422 and "autolink_search" in bogus.json()["error"]["fields"]["kind"], bogus.text
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def test_a_search_says_which_field_matched_and_who_already_holds_a_record(api: Api, sandbox_reset: None) -> None:
    app = make_app(api)
    try:
        holder_name = f"Holder {uuid.uuid4().hex[:6]}"
        jane = api.post("/api/v1/customers", {"name": holder_name}).json()["id"]
        linked = api.post(f"/api/v1/customers/{jane}/links", {"app_id": app["id"], "external_customer_id": "101"})
        assert linked.status_code == 201, linked.text[:300]
        other = api.post("/api/v1/customers", {"name": f"Someone {uuid.uuid4().hex[:6]}"}).json()["id"]
        path = f"/api/v1/customers/{other}/external-search"
        [hit] = [r for r in api.post(path, {"app_id": app["id"], "email": "jane.smith@example.com"}).json()["results"]]
        assert hit["matched"] == "email" and hit["linked_to"]["customer_id"] == jane, hit
        assert hit["linked_to"]["customer_name"] in (holder_name, "Jane Smith"), "named before the agent tries to link it"
        by_order = api.post(path, {"app_id": app["id"], "order_number": "5001"}).json()["results"]
        assert [r["matched"] for r in by_order] == ["order_number"], by_order
        own = api.post(f"/api/v1/customers/{jane}/external-search", {"app_id": app["id"], "email": "jane.smith@example.com"}).json()
        assert all(r["linked_to"] is None for r in own["results"]), "a record linked to the customer searched for is not 'elsewhere'"
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
