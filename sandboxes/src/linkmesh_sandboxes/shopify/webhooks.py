"""Shopify's webhooks in the sandbox: the subscriptions an app makes (``webhookSubscriptionCreate``,
``webhookSubscriptionDelete``, ``webhookSubscriptions``) and the deliveries Shopify sends them
when the shop's data changes through its API (a refund, a cancel).

A delivery is a POST of the resource's JSON (the REST Admin shape) with Shopify's headers:
``X-Shopify-Topic`` (``orders/cancelled``), ``X-Shopify-Hmac-Sha256`` (base64 of the
HMAC-SHA256 of the raw body, keyed by the app's client secret), ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id`` (this delivery), ``X-Shopify-Event-Id``
(the event: the same on a retry or a duplicate) and ``X-Shopify-Triggered-At``. Shopify wants
an HTTPS address; the sandbox also takes ``http://`` on a loopback host, for a receiver on the
same machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from linkmesh_sandboxes.deliveries import Delivery, Sender
from linkmesh_sandboxes.shopify.data import API_VERSION, CURRENCY, Order, Shop, iso
from linkmesh_sandboxes.shopify.views import financial_status, fulfillment_status, gid, gid_number

# The topics the sandbox sends, as the enum names them and as the header says them.
TOPICS = {
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "REFUNDS_CREATE": "refunds/create",
    "FULFILLMENTS_CREATE": "fulfillments/create",
    "FULFILLMENTS_UPDATE": "fulfillments/update",
    "CUSTOMERS_UPDATE": "customers/update",
    "RETURNS_REQUEST": "returns/request",
    "RETURNS_APPROVE": "returns/approve",
    "RETURNS_CLOSE": "returns/close",
    "CUSTOMERS_DATA_REQUEST": "customers/data_request",
    "CUSTOMERS_REDACT": "customers/redact",
    "SHOP_REDACT": "shop/redact",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _error(field: list[str] | None, message: str) -> dict[str, Any]:
    return {"webhookSubscription": None, "userErrors": [{"field": field, "message": message}]}


class Webhooks:
    """The app's subscriptions (kept across a reset of the shop's data, as an installed app's
    are) and the sending of its deliveries."""

    def __init__(self, sender: Sender, client_secret: str) -> None:
        self.sender = sender
        self.client_secret = client_secret
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self._next = 7_000_000

    def view(self, sub: dict[str, Any]) -> dict[str, Any]:
        url = sub["callbackUrl"]
        return {
            "__typename": "WebhookSubscription",
            **{k: v for k, v in sub.items() if k != "id"},
            "id": gid("WebhookSubscription", sub["id"]),
            "legacyResourceId": str(sub["id"]),
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": url},
        }

    def create(self, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        url = str(webhookSubscription.get("callbackUrl") or "")
        parts = urlsplit(url)
        if topic not in TOPICS:
            return _error(["topic"], f"Topic {topic} is not supported by this sandbox")
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            return _error(["webhookSubscription", "callbackUrl"], f"Address protocol {parts.scheme or 'none'}:// is not supported")
        if any(s["topic"] == topic and s["callbackUrl"] == url for s in self.subscriptions.values()):
            return _error(["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken")
        self._next += 1
        number, now = self._next, iso(datetime.now(UTC))
        sub: dict[str, Any] = {"id": number, "topic": topic, "callbackUrl": url, "format": webhookSubscription.get("format") or "JSON"}
        sub.update(createdAt=now, updatedAt=now, apiVersion={"handle": API_VERSION, "displayName": API_VERSION, "supported": True})
        sub.update(includeFields=[], metafieldNamespaces=[], filter=None)
        self.subscriptions[number] = sub
        return {"webhookSubscription": self.view(sub), "userErrors": []}

    def delete(self, id: str) -> dict[str, Any]:
        number = gid_number(id, "WebhookSubscription")
        if number is None or self.subscriptions.pop(number, None) is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}

    def listed(self, topics: list[str] | None = None, callbackUrl: str | None = None) -> list[dict[str, Any]]:
        return [
            self.view(s)
            for s in sorted(self.subscriptions.values(), key=lambda s: s["id"])
            if (not topics or s["topic"] in topics) and (callbackUrl is None or s["callbackUrl"] == callbackUrl)
        ]

    def emit(self, shop: Shop, topic: str, payload: dict[str, Any]) -> None:
        """One event of ``topic``: a delivery to each subscription of it, all with one event id."""
        subs = [s for s in self.subscriptions.values() if s["topic"] == topic]
        if not subs:
            return
        body = json.dumps(payload).encode()
        event_id, triggered = str(uuid.uuid4()), datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": TOPICS[topic],
            "X-Shopify-Hmac-Sha256": signature(self.client_secret, body),
            "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": triggered,
        }
        self.sender.send(
            [
                Delivery(s["callbackUrl"], TOPICS[topic], event_id, body, {**headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())})
                for s in subs
            ]
        )


def order_payload(o: Order) -> dict[str, Any]:
    """An order as Shopify's REST Admin API writes it in an ``orders/*`` delivery (the fields a
    receiver reads to find whose it is and what changed)."""
    return {
        "id": o.id,
        "admin_graphql_api_id": gid("Order", o.id),
        "name": o.name,
        "order_number": o.number,
        "email": o.email,
        "created_at": iso(o.created),
        "updated_at": iso(o.updated or o.created),
        "cancelled_at": iso(o.cancelled_at) if o.cancelled_at else None,
        "cancel_reason": (o.cancel_reason or "").lower() or None,
        "financial_status": financial_status(o).lower(),
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(fulfillment_status(o)),
        "currency": CURRENCY,
        "presentment_currency": o.presentment,
        "total_price": str(o.total),
        "customer": {"id": o.customer_id, "admin_graphql_api_id": gid("Customer", o.customer_id)} if o.customer_id else None,
    }


def refund_payload(o: Order, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "admin_graphql_api_id": gid("Refund", record["id"]),
        "order_id": o.id,
        "created_at": record["created"],
        "note": record.get("note"),
        "refund_line_items": [{"line_item_id": line, "quantity": qty} for line, qty in record["lines"]],
        "transactions": [{"kind": "refund", "status": "success", "amount": record["amount"], "currency": o.presentment}],
    }
