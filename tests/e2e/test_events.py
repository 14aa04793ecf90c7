"""The vendors' change events end to end (issue 34): a change made at Shopify (through its own
API, not linkmesh's) is delivered to the gateway, checked against the app's client secret,
kept once and applied to the one linked profile within seconds, with no agent asking; a bad
signature is 401 and keeps nothing; a duplicate is kept once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
import requests

from linkmesh_sandboxes.shopify import data
from tests.conftest import Api

pytestmark = pytest.mark.e2e

SUBSCRIPTIONS = """query($url: URL!) { webhookSubscriptions(first: 20, callbackUrl: $url) { nodes { topic } } }"""
REFUND = """mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }"""
CANCEL = """mutation($id: ID!) { orderCancel(orderId: $id, refund: true, restock: true, reason: CUSTOMER) { orderCancelUserErrors { message } } }"""


def shopify(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(
        f"{api.stack.sandbox_url('shopify')}/admin/api/2025-01/graphql.json",
        json={"query": query, "variables": variables},
        headers={"X-Shopify-Access-Token": data.ACCESS_TOKEN},
        timeout=10,
    ).json()
    assert "errors" not in answer, answer
    return dict(answer["data"])


@pytest.fixture()
def shop_app(api: Api, sandbox_reset: None) -> Any:
    payload = next(p for p in api.stack.demo_apps() if p["type"] == "shopify")
    made = api.post("/api/v1/apps", {**payload, "name": f"Events {uuid.uuid4().hex[:6]}", "auto_link_fields": ["email"]}, role="admin")
    assert made.status_code == 201, made.text
    app = made.json()
    yield app
    api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def order_status(api: Api, customer_id: str, app_id: str, number: str) -> str:
    customer = api.get(f"/api/v1/customers/{customer_id}?refresh=none").json()
    link = next(link for link in customer["links"] if link["app_id"] == app_id)
    return str(next(o["status"] for o in link["data"]["orders"] if o["number"] == number))


def test_a_cancel_at_shopify_reaches_the_linked_profile_with_no_one_asking(api: Api, shop_app: dict[str, Any]) -> None:
    """The app subscribed when it was made (LINKMESH_PUBLIC_URL is the gateway here); the
    change is made at Shopify, not through linkmesh; deactivating the app removes the subscriptions."""
    url = f"{api.stack.gateway_url}/webhooks/v1/apps/{shop_app['id']}"
    hooks = shop_app["webhooks"]
    assert hooks["state"] == "active" and hooks["callback_url"] == url and "ORDERS_UPDATED" in hooks["topics"], hooks
    listed = shopify(api, SUBSCRIPTIONS, {"url": url})["webhookSubscriptions"]["nodes"]
    assert sorted(n["topic"] for n in listed) == sorted(hooks["topics"]), "what the app says is what Shopify holds"
    jane = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"}).json()
    assert shop_app["id"] in [a["app_id"] for a in jane["linked_apps"] + jane["refreshed_apps"]], jane
    assert order_status(api, jane["customer_id"], shop_app["id"], "#1002") == "paid"
    changed = time.monotonic()
    shopify(api, CANCEL, {"id": "gid://shopify/Order/5102"})  # at Shopify, not through linkmesh
    status = ""
    while time.monotonic() - changed < 10:
        status = order_status(api, jane["customer_id"], shop_app["id"], "#1002")
        if status != "paid":
            break
        time.sleep(0.1)
    took = time.monotonic() - changed
    print(f"\nfrom the cancel at Shopify to the profile: {took:.2f} s")
    assert status == "cancelled" and took < 5, (status, took)
    deliveries = requests.get(f"{api.stack.sandbox_url('shopify')}/__sandbox/deliveries", timeout=5).json()
    assert deliveries and all(d["status"] == 200 for d in deliveries if d["url"] == url), deliveries
    off = api.post(f"/api/v1/apps/{shop_app['id']}/deactivate", role="admin").json()
    assert off["webhooks"]["state"] == "removed", off["webhooks"]
    assert shopify(api, SUBSCRIPTIONS, {"url": url})["webhookSubscriptions"]["nodes"] == []


def test_a_bad_signature_is_refused_and_a_duplicate_kept_once(api: Api, shop_app: dict[str, Any]) -> None:
    url = f"{api.stack.gateway_url}/webhooks/v1/apps/{shop_app['id']}"
    body = json.dumps({"id": 987654, "customer": {"id": 424242}, "updated_at": "2026-12-03T10:00:00Z"}).encode()
    event = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Event-Id": event,
        "X-Shopify-Triggered-At": "2026-12-03T10:00:00.000Z",
        "X-Shopify-Shop-Domain": data.SHOP,
    }
    signed = base64.b64encode(hmac.new(data.CLIENT_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    forged = requests.post(url, data=body, headers={**headers, "X-Shopify-Hmac-Sha256": base64.b64encode(b"x" * 32).decode()}, timeout=5)
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "unauthenticated", forged.text
    first = requests.post(url, data=body, headers={**headers, "X-Shopify-Hmac-Sha256": signed}, timeout=5)
    again = requests.post(url, data=body, headers={**headers, "X-Shopify-Hmac-Sha256": signed}, timeout=5)
    assert first.status_code == 200 and first.json() == {"received": True, "event_id": event, "duplicate": False}, first.text
    assert again.status_code == 200 and again.json()["duplicate"] is True
    unknown = requests.post(f"{api.stack.gateway_url}/webhooks/v1/apps/6b0000000000000000000000", data=body, headers=headers, timeout=5)
    assert unknown.status_code == 404


def test_duplicated_and_reordered_deliveries_are_kept_once_and_end_as_the_vendor_is(api: Api, shop_app: dict[str, Any]) -> None:
    """Shopify sends each delivery twice, newest first (the sandbox's knobs): each event is kept
    once (the second answers duplicate), and the profile ends as Shopify is, whatever the order."""
    jane = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"}).json()
    url = f"{api.stack.gateway_url}/webhooks/v1/apps/{shop_app['id']}"
    api.sandbox("shopify", "DELETE", "/__sandbox/deliveries")
    api.sandbox("shopify", "POST", "/__sandbox/knobs", {"deliveries_duplicate": True, "deliveries_reorder": True})
    try:
        refund: dict[str, Any] = {"orderId": "gid://shopify/Order/5101", "note": "twice"}
        refund["transactions"] = [{"orderId": refund["orderId"], "kind": "REFUND", "gateway": data.GATEWAY, "amount": "1.00"}]
        shopify(api, REFUND, {"input": refund})
        shopify(api, CANCEL, {"id": "gid://shopify/Order/5102"})
        deadline = time.monotonic() + 10
        while order_status(api, jane["customer_id"], shop_app["id"], "#1002") != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert order_status(api, jane["customer_id"], shop_app["id"], "#1002") == "cancelled"
        time.sleep(1.0)  # every duplicate has arrived
        answered = [d for d in api.sandbox("shopify", "GET", "/__sandbox/deliveries") if d["url"] == url and d["status"] == 200]
        by_event: dict[str, list[bool]] = {}
        for d in answered:
            by_event.setdefault(d["event_id"], []).append(bool(d["answer"]["duplicate"]))
        assert len(by_event) >= 3 and all(sorted(v) == [False, True] for v in by_event.values()), by_event
        profile = api.get(f"/api/v1/customers/{jane['customer_id']}?refresh=none").json()
        orders = next(link for link in profile["links"] if link["app_id"] == shop_app["id"])["data"]["orders"]
        assert {o["number"]: o["status"] for o in orders}["#1001"] in ("partially refunded", "refunded"), orders
    finally:
        api.sandbox("shopify", "POST", "/__sandbox/knobs", {"deliveries_duplicate": False, "deliveries_reorder": False})
