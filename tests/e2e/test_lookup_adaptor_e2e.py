"""A custom lookup adaptor end to end, over the real processes: an app of type lookup_adaptor
on the demo adaptor (which verifies every signature) auto-links a profile, shows its orders,
subscription and actions, and runs an action through its form, once per idempotency key."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from linkmesh_sandboxes.lookup_adaptor import data
from tests.conftest import Api

pytestmark = pytest.mark.e2e


def adaptor_app(api: Api, **over: Any) -> requests.Response:
    payload = {
        "type": "lookup_adaptor",
        "name": f"Club {uuid.uuid4().hex[:6]}",
        "settings": {"url": f"{api.stack.sandbox_url('lookup_adaptor')}/lookup", "username": data.USERNAME},
        "secrets": {"signing_key": data.SIGNING_KEY, "password": data.PASSWORD},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
        "auto_link_fields": ["email", "phone"],
        "actions_enabled": True,
        **over,
    }
    return api.post("/api/v1/apps", payload, role="admin")


@pytest.fixture()
def app(api: Api, sandbox_reset: None) -> Any:
    response = adaptor_app(api)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secrets_set"] == ["password", "signing_key"], "secrets are write-only"
    yield created
    api.delete(f"/api/v1/apps/{created['id']}", role="admin")


def link_of(customer: dict[str, Any], app_id: str) -> dict[str, Any]:
    return next(link for link in customer["links"] if link["app_id"] == app_id)


def run(api: Api, customer_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    return api.post(f"/api/v1/customers/{customer_id}/actions", body, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def test_an_app_with_a_wrong_key_is_refused_naming_the_field(api: Api) -> None:
    response = adaptor_app(api, secrets={"signing_key": "not-the-key", "password": data.PASSWORD})
    assert response.status_code in (400, 422), response.text
    assert "secrets.signing_key" in response.json()["error"]["fields"], response.text


def test_a_custom_adaptor_links_shows_its_records_and_runs_an_action_through_its_form(api: Api, app: dict[str, Any]) -> None:
    contact = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
    assert app["id"] in contact["linked"] + contact["refreshed"], contact
    customer = api.get(f"/api/v1/customers/{contact['customer_id']}").json()
    link = link_of(customer, app["id"])
    assert link["external_customer_id"] == "club-1001"
    club = link["data"]
    assert [(o["number"], o["total"]["amount"], o["total"]["currency"]) for o in club["orders"]] == [
        ("CB-5002", "49.00", "USD"),
        ("CB-5001", "64.00", "USD"),
    ]
    assert [t["type"] for t in club["transactions"]] == ["SUBSCRIPTION"]
    [points_action] = club["actions"]
    [cancel_action] = club["orders"][0]["actions"]

    form = api.get(f"/api/v1/customers/{customer['id']}/action-form", params={"app_id": app["id"], "form_url": points_action["form_url"]})
    assert form.status_code == 200, form.text
    assert [f["name"] for f in form.json()["fields"]] == ["points", "reason", "notify"]

    body = {"app_id": app["id"], "form_url": points_action["form_url"], "params": {"points": "5000", "reason": "goodwill"}}
    refused = run(api, customer["id"], body)
    assert refused.status_code in (400, 422) and "params.points" in refused.json()["error"]["fields"], refused.text

    key = uuid.uuid4().hex
    body["params"] = {"points": "50", "reason": "late", "notify": False}
    done = run(api, customer["id"], body, key)
    assert done.status_code == 200, done.text
    assert done.json()["message"] == "Added 50 points" and done.json()["action"] == "Add loyalty points"
    points = {a["key"]: a["value"] for a in link_of(done.json()["customer"], app["id"])["data"]["custom_attributes"]}["points"]
    assert points == "2500", "the profile was refreshed after the action"
    again = run(api, customer["id"], body, key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    after = link_of(api.get(f"/api/v1/customers/{customer['id']}").json(), app["id"])["data"]["custom_attributes"]
    assert {a["key"]: a["value"] for a in after}["points"] == "2500", "a replay never runs the action again"

    cancelled = run(api, customer["id"], {"app_id": app["id"], "form_url": cancel_action["form_url"]})
    assert cancelled.status_code == 200 and cancelled.json()["order_id"] == "CB-5002", cancelled.text
    orders = link_of(cancelled.json()["customer"], app["id"])["data"]["orders"]
    assert orders[0]["status"] == "Cancelled" and orders[0]["actions"] == []

    stranger = run(api, customer["id"], {"app_id": app["id"], "form_url": "/actions/add-points?customer=club-1002"})
    assert stranger.status_code in (400, 422) and "form_url" in stranger.json()["error"]["fields"], (
        "only the actions the linked record offers are run"
    )
    answers = api.sandbox("lookup_adaptor", "GET", "/__sandbox/requests")
    assert answers and all(r["status"] in (200, 400, 406) for r in answers), "every request was signed as the adaptor expects"


def test_a_search_of_every_app_includes_the_adaptors_candidates(api: Api, app: dict[str, Any]) -> None:
    customer = api.post("/api/v1/customers", {"emails": [f"adaptor-{uuid.uuid4().hex[:8]}@example.net"]}).json()
    response = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": app["id"], "phone": "+1 415-555-0102"})
    assert response.status_code == 200, response.text
    assert [r["external_customer_id"] for r in response.json()["results"]] == ["club-1002"]
