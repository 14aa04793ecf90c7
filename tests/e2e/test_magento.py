"""Magento end to end: a contact by email links Magento and BigCommerce at once,
phones never reach Magento, and the app admin refuses what Magento cannot do."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from linkmesh_sandboxes.bigcommerce import data as bc_data
from linkmesh_sandboxes.magento import data as mg_data
from tests.conftest import Api
from tests.e2e.unique import unique_phone

pytestmark = pytest.mark.e2e


def magento_payload(api: Api, **over: Any) -> dict[str, Any]:
    return {
        "type": "magento",
        "name": f"Magento {uuid.uuid4().hex[:6]}",
        "settings": {"api_base_url": api.stack.sandbox_url("magento")},
        "secrets": {"access_token": mg_data.ACCESS_TOKEN},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}],
        "auto_link_fields": ["email"],
        **over,
    }


def bigcommerce_payload(api: Api) -> dict[str, Any]:
    return {
        "type": "bigcommerce",
        "name": f"BigCommerce {uuid.uuid4().hex[:6]}",
        "settings": {"store_hash": bc_data.STORE_HASH, "api_base_url": api.stack.sandbox_url("bigcommerce")},
        "secrets": {"access_token": bc_data.ACCESS_TOKEN},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
        "auto_link_fields": ["email", "phone"],
    }


@pytest.fixture()
def apps(api: Api) -> Any:
    created = []
    for payload in (magento_payload(api), bigcommerce_payload(api)):
        response = api.post("/api/v1/apps", payload, role="admin")
        assert response.status_code == 201, response.text
        created.append(response.json())
    yield {a["type"]: a for a in created}
    for app in created:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def in_both(api: Api, phone: str = "") -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The same new person in both stores, through each vendor's own API."""
    email = f"both-{uuid.uuid4().hex[:8]}@example.com"
    mg = requests.post(
        f"{api.stack.sandbox_url('magento')}/rest/default/V1/customers",
        timeout=10,
        headers={"Authorization": f"Bearer {mg_data.ACCESS_TOKEN}"},
        json={"customer": {"email": email, "firstname": "Both", "lastname": "Places"}},
    )
    assert mg.status_code == 200, mg.text
    bc = requests.post(
        f"{api.stack.sandbox_url('bigcommerce')}/stores/{bc_data.STORE_HASH}/v3/customers",
        timeout=10,
        headers={"X-Auth-Token": bc_data.ACCESS_TOKEN},
        json=[{"email": email, "first_name": "Both", "last_name": "Places", "phone": phone}],
    )
    assert bc.status_code == 200, bc.text
    return email, mg.json(), bc.json()["data"][0]


def magento_searches(api: Api) -> list[dict[str, Any]]:
    return [r for r in api.sandbox("magento", "GET", "/__sandbox/requests") if r["path"].endswith("/customers/search")]


def test_a_contact_by_email_auto_links_magento_and_bigcommerce_at_once(api: Api, apps: dict[str, Any]) -> None:
    email, mg, bc = in_both(api)
    result = api.post("/api/v1/contacts", {"channel": "email", "email": email}).json()
    assert sorted(result["linked"]) == sorted([apps["magento"]["id"], apps["bigcommerce"]["id"]])
    profile = api.get(f"/api/v1/customers/{result['customer_id']}").json()
    links = {l["app_type"]: l for l in profile["links"] if l["app_id"] in result["linked"]}
    assert links["magento"]["external_customer_id"] == str(mg["id"]) and links["bigcommerce"]["external_customer_id"] == str(bc["id"])
    assert links["magento"]["data"]["admin_url"].endswith(f"/admin/customer/index/edit/id/{mg['id']}")


def test_a_phone_only_contact_never_calls_magento_search(api: Api, apps: dict[str, Any]) -> None:
    phone = unique_phone()
    _, _, bc = in_both(api, phone=phone)
    api.sandbox("magento", "DELETE", "/__sandbox/requests")
    result = api.post("/api/v1/contacts", {"channel": "sms", "phone": phone}).json()
    assert result["linked"] == [apps["bigcommerce"]["id"]]
    assert magento_searches(api) == []
    traces = api.get(
        f"/api/v1/apps/{apps['magento']['id']}/lookups", role="developer", params={"customer_id": result["customer_id"]}
    ).json()
    assert [t["decision"] for t in traces["lookups"]] == ["skipped"] and "no email" in traces["lookups"][0]["reason"]
    search = api.post(f"/api/v1/customers/{result['customer_id']}/external-search", {"app_id": "all", "phone": phone}).json()
    assert [s["app_id"] for s in search["skipped"]] == [apps["magento"]["id"]] and "email" in search["skipped"][0]["reason"]
    assert magento_searches(api) == [], "a phone search of all systems skips Magento"


def test_order_number_search_finds_the_magento_customer_by_increment_id(api: Api, apps: dict[str, Any]) -> None:
    customer = api.post("/api/v1/customers", {"name": "Order Seeker"}).json()
    search = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": "all", "order_number": "000000104"}).json()
    assert [(r["app_type"], r["external_customer_id"]) for r in search["results"] if r["app_id"] == apps["magento"]["id"]] == [
        ("magento", "4")
    ]
    # BigCommerce searches order numbers too (its order id), and holds no order 000000104.
    assert apps["bigcommerce"]["id"] not in [s["app_id"] for s in search["skipped"]]
    assert not [r for r in search["results"] if r["app_id"] == apps["bigcommerce"]["id"]]
    assert not [e for e in search["failures"] if e["app_id"] in (apps["bigcommerce"]["id"], apps["magento"]["id"])]


def test_the_app_admin_refuses_phone_matching_for_magento(api: Api) -> None:
    response = api.post(
        "/api/v1/apps",
        magento_payload(api, search_query_attributes=[{"attribute": "phone", "label": "Phone"}], auto_link_fields=["email", "phone"]),
        role="admin",
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert fields["search_query_attributes[0].attribute"] == "Magento 2 cannot search by phone"
    assert fields["auto_link_fields[1]"] == "Magento 2 cannot auto-link by phone"
    bad_token = api.post("/api/v1/apps", magento_payload(api, secrets={"access_token": "nope"}), role="admin")
    assert bad_token.status_code == 422 and bad_token.json()["error"]["fields"] == {"secrets.access_token": "Magento refused this token"}


def test_link_by_hand_pulls_magento_orders(api: Api, apps: dict[str, Any]) -> None:
    customer = api.post("/api/v1/customers", {"name": "Linker"}).json()
    linked = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": apps["magento"]["id"], "external_customer_id": "4"})
    assert linked.status_code == 201, linked.text
    data = next(l for l in linked.json()["links"] if l["app_id"] == apps["magento"]["id"])["data"]
    assert [o["number"] for o in data["orders"]] == ["000000105", "000000104"]
    assert data["orders"][0]["status"] == "canceled" and data["orders"][1]["lines"][0]["sku"] == "MH-LAMP"
