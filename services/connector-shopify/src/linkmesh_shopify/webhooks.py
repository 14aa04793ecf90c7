"""Shopify's webhooks: the app's subscriptions (``webhookSubscriptionCreate``/``Delete``) and the
reading of one delivery.

A delivery is verified as Shopify signs it: ``X-Shopify-Hmac-Sha256`` is the base64 of the
HMAC-SHA256 of the raw body, keyed by the app's client secret (its API secret key). Shopify
names the event in ``X-Shopify-Event-Id`` (the same on a retry and on a duplicate) and when it
happened in ``X-Shopify-Triggered-At``; the body is the resource in the REST Admin shape.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_core.timestamps import from_iso
from linkmesh_core.vendor_http import Deadline
from linkmesh_shopify import queries as q
from linkmesh_shopify.client import Shop, ShopifyClient
from linkmesh_shopify.mapping import number_of

# What changes a linked customer's profile: its orders, their refunds and parcels, the customer.
TOPICS = ("ORDERS_UPDATED", "ORDERS_CANCELLED", "REFUNDS_CREATE", "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE", "CUSTOMERS_UPDATE")
# Shopify's mandatory privacy topics (set in the app's configuration, not through the API), and
# what each asks.
PRIVACY = {"customers/data_request": "data_request", "customers/redact": "redact_customer", "shop/redact": "redact_shop"}


def header(headers: dict[str, str], name: str) -> str:
    """A header by its name in any case (proxies and frameworks change it)."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def _state(node: dict[str, Any]) -> lookup_pb2.Subscription:
    url = str((node.get("endpoint") or {}).get("callbackUrl") or "")
    return lookup_pb2.Subscription(id=number_of(node["id"]), topic=str(node.get("topic") or ""), callback_url=url, state="active")


async def subscribed(client: ShopifyClient, shop: Shop, url: str, deadline: Deadline) -> list[dict[str, Any]]:
    found = await client.query(shop, "Webhooks", q.WEBHOOKS, {"url": url}, deadline, estimate=q.WEBHOOKS_COST)
    return [n for n in (found.get("webhookSubscriptions") or {}).get("nodes") or [] if isinstance(n, dict)]


async def subscribe(
    client: ShopifyClient, shop: Shop, request: lookup_pb2.SubscribeRequest, deadline: Deadline
) -> lookup_pb2.SubscribeResponse:
    """Each topic's subscription to the address, made where missing (read first: asking again,
    or after an answer lost, makes none twice)."""
    url = request.callback_url
    existing = await subscribed(client, shop, url, deadline)
    missing = [t for t in TOPICS if t not in {n.get("topic") for n in existing}]

    async def create(topic: str) -> dict[str, Any]:
        made = await client.query(
            shop, "WebhookCreate", q.WEBHOOK_CREATE, {"topic": topic, "url": url}, deadline, estimate=q.MUTATION_COST, write=True
        )
        answer = made.get("webhookSubscriptionCreate") or {}
        if answer.get("userErrors"):
            raise ServiceError(
                grpc.StatusCode.FAILED_PRECONDITION, f"Shopify refused the {topic} subscription: {answer['userErrors'][0]['message']}"
            )
        return {**answer["webhookSubscription"], "endpoint": {"callbackUrl": url}}

    created = await asyncio.gather(*(create(t) for t in missing))
    return lookup_pb2.SubscribeResponse(
        subscriptions=[_state(n) for n in [*existing, *created]], created=[number_of(n["id"]) for n in created]
    )


async def unsubscribe(
    client: ShopifyClient, shop: Shop, request: lookup_pb2.UnsubscribeRequest, deadline: Deadline
) -> lookup_pb2.UnsubscribeResponse:
    existing = await subscribed(client, shop, request.callback_url, deadline)

    async def delete(node: dict[str, Any]) -> str:
        await client.query(shop, "WebhookDelete", q.WEBHOOK_DELETE, {"id": node["id"]}, deadline, estimate=q.MUTATION_COST, write=True)
        return number_of(node["id"])

    return lookup_pb2.UnsubscribeResponse(removed=await asyncio.gather(*(delete(n) for n in existing)))


def verify(shop: Shop, headers: dict[str, str], body: bytes) -> None:
    if not shop.client_secret:
        raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, "set the app's client secret to receive Shopify's webhooks")
    sent = header(headers, "X-Shopify-Hmac-Sha256").encode()
    expected = base64.b64encode(hmac.new(shop.client_secret.encode(), body, hashlib.sha256).digest())
    if not sent or not hmac.compare_digest(sent, expected):
        raise ServiceError(grpc.StatusCode.UNAUTHENTICATED, "the delivery's signature does not hold")


def _whose(topic: str, resource: dict[str, Any]) -> tuple[str, str]:
    """(customer id, order id) the resource names, as far as it names them."""
    named = resource.get("customer")
    customer: dict[str, Any] = named if isinstance(named, dict) else {}
    if topic.startswith("orders/"):
        return str(customer.get("id") or ""), str(resource.get("id") or "")
    if topic.startswith(("refunds/", "fulfillments/")):
        return "", str(resource.get("order_id") or "")
    if topic.startswith("customers/") and topic not in PRIVACY:
        return str(resource.get("id") or ""), ""
    return str(customer.get("id") or ""), ""


def read(shop: Shop, request: lookup_pb2.ReadDeliveryRequest) -> lookup_pb2.Change:
    headers = dict(request.headers)
    verify(shop, headers, request.body)
    topic = header(headers, "X-Shopify-Topic")
    try:
        resource = json.loads(request.body or b"{}")
    except ValueError:
        raise ServiceError(grpc.StatusCode.INVALID_ARGUMENT, "the delivery's body is not JSON") from None
    resource = resource if isinstance(resource, dict) else {}
    customer_id, order_id = _whose(topic, resource)
    change = lookup_pb2.Change(
        event_id=header(headers, "X-Shopify-Event-Id") or header(headers, "X-Shopify-Webhook-Id"),
        topic=topic,
        external_customer_id=customer_id,
        order_id=order_id,
        kind="privacy" if topic in PRIVACY else "change" if (customer_id or order_id) else "other",
        privacy_request=PRIVACY.get(topic, ""),
    )
    happened = from_iso(header(headers, "X-Shopify-Triggered-At"))
    if happened is None:
        happened = Timestamp()
        happened.FromDatetime(datetime.now(UTC))
    change.happened_at.CopyFrom(happened)
    return change


async def changes(
    client: ShopifyClient, shop: Shop, request: lookup_pb2.ListChangesRequest, deadline: Deadline
) -> lookup_pb2.ListChangesResponse:
    """Orders updated since ``request.since`` (``updated_at:>=``, sorted by ``UPDATED_AT``), a page
    of 100 at a time by the connection's cursor; each names its customer. Shopify's ``updatedAt``
    is in whole seconds: the change happened before the end of it."""
    since = request.since.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    variables = {"query": f"updated_at:>='{since}'", "after": request.page_token or None}
    found = await client.query(shop, "OrdersChanged", q.ORDERS_CHANGED, variables, deadline, estimate=q.ORDERS_CHANGED_COST)
    orders = found.get("orders") or {}
    page = orders.get("pageInfo") or {}
    out = lookup_pb2.ListChangesResponse(next_page_token=str(page.get("endCursor") or "") if page.get("hasNextPage") else "")
    for node in orders.get("nodes") or []:
        updated = str(node.get("updatedAt") or "")
        change = out.changes.add(
            event_id=f"order/{node.get('legacyResourceId')}@{updated}",
            topic="sweep/order",
            external_customer_id=str((node.get("customer") or {}).get("legacyResourceId") or ""),
            order_id=str(node.get("legacyResourceId") or ""),
            kind="change",
        )
        at = from_iso(updated)
        if at is not None:
            change.happened_at.FromDatetime(at.ToDatetime(tzinfo=UTC) + timedelta(seconds=1))
    return out
