"""The Shopify sandbox sends webhooks as Shopify does (issue 34): subscriptions made and removed
through the Admin GraphQL API (each query checked against Shopify's schema), a delivery per
change its API makes (a cancel: refunds/create, orders/cancelled, orders/updated), signed with
the app's client secret, retried while the receiver fails, and by knobs duplicated or sent out
of order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from linkmesh_sandboxes.shopify import data
from linkmesh_sandboxes.shopify.app import create_app
from linkmesh_sandboxes.shopify.webhooks import signature
from tests.inprocess import RunningSandbox, running

SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message }
  }
}"""
UNSUBSCRIBE = """mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }"""
LISTED = """{ webhookSubscriptions(first: 20) { nodes { id topic endpoint { ... on WebhookHttpEndpoint { callbackUrl } } } } }"""
CANCEL = """mutation($id: ID!) {
  orderCancel(orderId: $id, refund: true, restock: true, reason: CUSTOMER) { job { id } orderCancelUserErrors { field message code } }
}"""


@dataclass
class Receiver:
    url: str
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer first (then 200)


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver("")

    async def take(request: web.Request) -> web.Response:
        box.got.append((dict(request.headers), await request.read()))
        return web.Response(status=box.answers.pop(0) if box.answers else 200)

    app = web.Application()
    app.router.add_post("/hooks", take)
    async with running(app) as server:
        box.url = f"{server.url}/hooks"
        yield box


async def graphql(sandbox: RunningSandbox, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{sandbox.url}/admin/api/2025-01/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": data.ACCESS_TOKEN},
        ) as resp:
            body = await resp.json()
    assert "errors" not in body, body
    return body["data"]


async def subscribe(sandbox: RunningSandbox, topic: str, url: str) -> dict[str, Any]:
    made = (await graphql(sandbox, SUBSCRIBE, {"topic": topic, "sub": {"callbackUrl": url, "format": "JSON"}}))["webhookSubscriptionCreate"]
    return made


async def arrived(box: Receiver, count: int, timeout: float = 5.0) -> list[tuple[dict[str, str], bytes]]:
    for _ in range(int(timeout / 0.02)):
        if len(box.got) >= count:
            break
        await asyncio.sleep(0.02)
    return box.got


async def test_a_cancel_is_delivered_signed_to_every_subscription_of_its_topics() -> None:
    async with running(create_app(cancel_delay_s=0.05)) as sandbox, receiver() as box:
        for topic in ("ORDERS_CANCELLED", "REFUNDS_CREATE", "ORDERS_UPDATED"):
            made = await subscribe(sandbox, topic, box.url)
            assert made["userErrors"] == [] and made["webhookSubscription"]["endpoint"]["callbackUrl"] == box.url
        again = await subscribe(sandbox, "ORDERS_CANCELLED", box.url)
        assert again["userErrors"][0]["message"] == "Address for this topic has already been taken"
        far = await subscribe(sandbox, "ORDERS_CANCELLED", "http://hooks.example.com/x")
        assert "Address protocol http:// is not supported" in far["userErrors"][0]["message"], "Shopify wants HTTPS"
        cancelled = await graphql(sandbox, CANCEL, {"id": "gid://shopify/Order/5102"})
        assert cancelled["orderCancel"]["orderCancelUserErrors"] == []
        got = await arrived(box, 3)
        topics = sorted(h["X-Shopify-Topic"] for h, _ in got)
        assert topics == ["orders/cancelled", "orders/updated", "refunds/create"], topics
        for headers, body in got:
            assert headers["X-Shopify-Hmac-Sha256"] == signature(data.CLIENT_SECRET, body), "signed with the app's client secret"
            assert headers["X-Shopify-Shop-Domain"] == data.SHOP and headers["X-Shopify-API-Version"] == "2025-01"
            assert headers["X-Shopify-Event-Id"] and headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Triggered-At"]
        order = next(json.loads(b) for h, b in got if h["X-Shopify-Topic"] == "orders/cancelled")
        assert (order["id"], order["customer"]["id"], order["financial_status"]) == (5102, 7001, "refunded")
        assert order["cancelled_at"] and order["updated_at"] >= order["created_at"]
        listed = (await graphql(sandbox, LISTED))["webhookSubscriptions"]["nodes"]
        assert len(listed) == 3
        for sub in listed:
            gone = (await graphql(sandbox, UNSUBSCRIBE, {"id": sub["id"]}))["webhookSubscriptionDelete"]
            assert gone["deletedWebhookSubscriptionId"] == sub["id"]
        assert (await graphql(sandbox, LISTED))["webhookSubscriptions"]["nodes"] == []


async def test_a_failed_delivery_is_retried_with_its_event_id_and_knobs_duplicate_and_reorder() -> None:
    async with running(create_app(cancel_delay_s=0.01)) as sandbox, receiver() as box:
        await subscribe(sandbox, "ORDERS_CANCELLED", box.url)
        async with aiohttp.ClientSession() as http:
            await http.post(f"{sandbox.url}/__sandbox/knobs", json={"delivery_backoff_s": 0.05})
        box.answers = [500, 503]
        await graphql(sandbox, CANCEL, {"id": "gid://shopify/Order/5102"})
        got = await arrived(box, 3)
        assert len(got) == 3 and len({h["X-Shopify-Event-Id"] for h, _ in got}) == 1, "retried until it answered 2xx, one event"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sandbox.url}/__sandbox/deliveries") as resp:
                log = await resp.json()
        assert [(d["attempt"], d["status"]) for d in log] == [(1, 500), (2, 503), (3, 200)]
        box.got.clear()
        async with aiohttp.ClientSession() as http:
            await http.post(f"{sandbox.url}/__sandbox/knobs", json={"deliveries_duplicate": True, "deliveries_reorder": True})
        await graphql(sandbox, CANCEL, {"id": "gid://shopify/Order/5104"})  # Priya's: two events of two orders
        await asyncio.sleep(0.05)
        await graphql(sandbox, CANCEL, {"id": "gid://shopify/Order/5105"})
        got = await arrived(box, 4)
        orders = [json.loads(b)["id"] for _, b in got]
        assert sorted(orders) == [5104, 5104, 5105, 5105], "each sent twice"
        assert orders[0] == 5105, f"the newest first: {orders}"
