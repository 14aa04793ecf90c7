"""Shopify end to end, over the stack that discovered it from its declaration (its connector
and sandbox started, its demo app made by the devstack); and an agent's search by order
number across BigCommerce, Magento, ReturnLogic and Shopify in one fan-out."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.e2e


@pytest.fixture()
def demo_apps(api: Api, sandbox_reset: None) -> Iterator[dict[str, dict[str, Any]]]:
    """One app per connector, each a demo app as `make run` makes it."""
    made = {}
    for payload in api.stack.demo_apps():
        response = api.post(
            "/api/v1/apps", {**payload, "name": f"{payload['name']} {uuid.uuid4().hex[:6]}", "auto_link_fields": []}, role="admin"
        )
        assert response.status_code == 201, response.text
        made[payload["type"]] = response.json()
    yield made
    for app in made.values():
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def found(search: dict[str, Any], apps: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    ids = {a["id"]: t for t, a in apps.items()}
    out: dict[str, list[str]] = {}
    for r in search["results"]:
        if r["app_id"] in ids:
            out.setdefault(ids[r["app_id"]], []).append(r["external_customer_id"])
    return out


def test_the_shopify_connector_is_discovered_started_and_described(api: Api) -> None:
    assert "shopify" in api.stack.vendors and api.stack.services["connector-shopify"].running()
    connectors = {c["type"]: c for c in api.get("/api/v1/connectors", role="admin").json()["connectors"]}
    shopify = connectors["shopify"]
    assert [a["name"] for a in shopify["actions"]] == ["refund", "cancel", "create_discount_code"]
    assert {s["name"] for s in shopify["settings"] if s["secret"]} == {"access_token", "client_secret"}


def test_an_order_number_finds_its_customer_in_every_system_that_holds_it_in_one_fan_out(
    api: Api, demo_apps: dict[str, dict[str, Any]]
) -> None:
    customer = api.post("/api/v1/customers", {"name": "Order Seeker"}).json()

    def search(number: str) -> dict[str, Any]:
        answer = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": "all", "order_number": number})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert not [f for f in body["failures"] if f["app_id"] in {a["id"] for a in demo_apps.values()}], body["failures"]
        return body

    # #1003 is John Doe's order in Shopify, and ReturnLogic (which reads the shop's orders) knows it too.
    both = search("#1003")
    assert found(both, demo_apps) == {"shopify": ["7002"], "returnlogic": ["john.doe@example.com"]}
    skipped = {s["app_id"] for s in both["skipped"]}
    assert demo_apps["lookup_adaptor"]["id"] in skipped, "the custom adaptor does not search by order number"
    assert found(search("5004"), demo_apps) == {"bigcommerce": ["102"]}
    assert found(search("000000104"), demo_apps) == {"magento": ["4"]}
    # Guest orders: no customer account on the order; its buyer's account is found by the order's email.
    assert found(search("5007"), demo_apps) == {"bigcommerce": ["102"]}
    assert found(search("000000346"), demo_apps) == {"magento": ["3"]}
    assert found(search("1006"), demo_apps) == {"shopify": ["7001"]}
    assert found(search("#1005"), demo_apps) == {"returnlogic": ["mo.gento@example.com"]}, "no Shopify account for that guest"


def test_link_shopify_refund_a_line_once_and_cancel_as_an_accepted_job(api: Api, demo_apps: dict[str, dict[str, Any]]) -> None:
    shopify = demo_apps["shopify"]
    customer = api.post("/api/v1/customers", {"name": "Jane Smith"}).json()
    linked = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": shopify["id"], "external_customer_id": "7001"})
    assert linked.status_code == 201, linked.text
    data = next(l for l in linked.json()["links"] if l["app_id"] == shopify["id"])["data"]
    assert [o["number"] for o in data["orders"]] == ["#1002", "#1001"]
    assert data["orders"][1]["shipments"][0]["tracking_number"] == "1Z999AA10123456784"
    by_number = api.get("/api/v1/customer-directory", params={"query": "#1002"}).json()
    assert customer["id"] in [c["id"] for c in by_number["customers"]], "the linked order number finds the customer"

    body = {"app_id": shopify["id"], "action": "refund", "order_id": "5101", "params": {"lines": "51012:1", "reason": "Holes"}}
    key = {"Idempotency-Key": f"shopify-refund-{uuid.uuid4().hex}"}
    first = api.post(f"/api/v1/customers/{customer['id']}/actions", body, headers=key)
    again = api.post(f"/api/v1/customers/{customer['id']}/actions", body, headers=key)
    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Refunded 14.50 USD on order #1001" and again.json()["replayed"] is True
    refunds = [r for r in api.sandbox("shopify", "GET", "/__sandbox/requests") if r["path"].endswith("/graphql.json")]
    assert refunds, "the connector spoke GraphQL to the sandbox"

    cancel = api.post(
        f"/api/v1/customers/{customer['id']}/actions",
        {"app_id": shopify["id"], "action": "cancel", "order_id": "5102", "params": {"reason": "CUSTOMER"}},
        headers={"Idempotency-Key": f"shopify-cancel-{uuid.uuid4().hex}"},
    )
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["result"]["status"] == "accepted"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        profile = api.get(f"/api/v1/customers/{customer['id']}", params={"refresh": shopify["id"]}).json()
        orders = next(l for l in profile["links"] if l["app_id"] == shopify["id"])["data"]["orders"]
        if next(o for o in orders if o["number"] == "#1002")["status"] == "cancelled":
            break
        time.sleep(0.3)
    else:
        pytest.fail("the cancellation never showed after a refresh")
