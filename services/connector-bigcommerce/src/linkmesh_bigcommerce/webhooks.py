"""BigCommerce's webhooks (Webhooks v3, bigcommerce/docs ``reference/webhooks.v3.yml`` and
``docs/integrations/webhooks/events/index.mdx``): the app's hooks and the reading of one delivery.

One hook per scope, made with ``POST /v3/hooks`` ``{scope, destination, is_active, headers}``,
found with ``GET /v3/hooks?destination=`` and removed with ``DELETE /v3/hooks/{id}``. A hook
BigCommerce deactivated (after its deliveries failed) is turned on again with ``PUT``.

BigCommerce signs nothing: it sends back the custom ``headers`` a hook was made with. Each hook
carries ``X-Linkmesh-Token``, an HMAC-SHA256 of the store and the address keyed by the app's
access token, so a delivery is checked without keeping anything, and a new token makes new
values (``subscribe`` updates the hooks). The payload names only ids (``data.id`` of an order or
a customer, ``data.orderId`` of a shipment); its ``hash`` (SHA-1 of ``data``) with its scope and
``created_at`` names the event, the same on a retry. ``created_at`` is in whole seconds: the
change happened before the end of that second, which is what the event says.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce.client import MAX_LIMIT, BigCommerceClient, Store
from linkmesh_core.errors import ServiceError
from linkmesh_core.vendor_http import Deadline

# What changes a linked customer's profile: three hooks, each a call of the store's budget
# (150 requests in 30 s on most plans) to make and to remove.
SCOPES = ("store/order/*", "store/customer/*", "store/shipment/*")
# Of store/order/*, what changes what a profile shows: statusUpdated fires beside the updated that
# already tells of it, and messages, transactions and metafields show nothing (recorded, not read).
ORDER_CHANGES = ("store/order/created", "store/order/updated", "store/order/archived", "store/order/refund/created")
TOKEN_HEADER = "X-Linkmesh-Token"


def token(store: Store, destination: str) -> str:
    message = f"linkmesh webhooks|{store.store_hash}|{destination}".encode()
    return hmac.new(store.access_token.encode(), message, hashlib.sha256).hexdigest()


def _state(hook: dict[str, Any]) -> lookup_pb2.Subscription:
    return lookup_pb2.Subscription(
        id=str(hook.get("id") or ""),
        topic=str(hook.get("scope") or ""),
        callback_url=str(hook.get("destination") or ""),
        state="active" if hook.get("is_active") else "inactive",
    )


async def subscribe(
    client: BigCommerceClient, store: Store, request: lookup_pb2.SubscribeRequest, deadline: Deadline
) -> lookup_pb2.SubscribeResponse:
    """Each scope's hook to the address, made where missing and turned on again (with this
    token's header) where BigCommerce deactivated it or the token changed; read first, so asking
    again makes none twice."""
    destination = request.callback_url
    headers = {TOKEN_HEADER: token(store, destination)}
    existing = {str(h.get("scope")): h for h in await client.hooks(store, destination, deadline)}
    hooks, created = [], []
    for scope in SCOPES:
        hook = existing.get(scope)
        if hook is None:
            hook = await client.create_hook(
                store, {"scope": scope, "destination": destination, "is_active": True, "headers": headers}, deadline
            )
            created.append(str(hook.get("id") or ""))
        elif not hook.get("is_active") or (hook.get("headers") or {}).get(TOKEN_HEADER) != headers[TOKEN_HEADER]:
            hook = await client.update_hook(store, hook["id"], {"is_active": True, "headers": headers}, deadline)
        hooks.append(hook)
    return lookup_pb2.SubscribeResponse(subscriptions=[_state(h) for h in hooks], created=created)


async def unsubscribe(
    client: BigCommerceClient, store: Store, request: lookup_pb2.UnsubscribeRequest, deadline: Deadline
) -> lookup_pb2.UnsubscribeResponse:
    removed = []
    for hook in await client.hooks(store, request.callback_url, deadline):
        await client.delete_hook(store, hook["id"], deadline)
        removed.append(str(hook["id"]))
    return lookup_pb2.UnsubscribeResponse(removed=removed)


def header(headers: dict[str, str], name: str) -> str:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def _whose(scope: str, data: dict[str, Any]) -> tuple[str, str]:
    """(customer id, order id) the payload names."""
    if scope.startswith("store/customer/address/"):
        return str((data.get("address") or {}).get("customer_id") or ""), ""
    if scope.startswith("store/customer/"):
        return str(data.get("id") or ""), ""
    if scope.startswith("store/shipment/"):
        return "", str(data.get("orderId") or "")
    if scope.startswith("store/order/"):
        return "", str(data.get("id") or data.get("order_id") or "")
    return "", ""


def read(store: Store, request: lookup_pb2.ReadDeliveryRequest, destination: str) -> lookup_pb2.Change:
    headers = dict(request.headers)
    sent = header(headers, TOKEN_HEADER).encode()
    if not sent or not hmac.compare_digest(sent, token(store, destination).encode()):
        raise ServiceError(grpc.StatusCode.UNAUTHENTICATED, f"the delivery's {TOKEN_HEADER} header is not this app's")
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        raise ServiceError(grpc.StatusCode.INVALID_ARGUMENT, "the delivery's body is not JSON") from None
    if not isinstance(payload, dict) or not payload.get("scope"):
        raise ServiceError(grpc.StatusCode.INVALID_ARGUMENT, "the delivery names no scope")
    scope = str(payload["scope"])
    data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
    customer_id, order_id = _whose(scope, data)
    created = payload.get("created_at")
    second = int(created) if isinstance(created, int | float) else int(datetime.now(UTC).timestamp())
    change = lookup_pb2.Change(
        event_id=f"{scope}:{payload.get('hash') or hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()}:{second}",
        topic=scope,
        external_customer_id=customer_id,
        order_id=order_id,
        kind="change" if (customer_id or order_id) and (scope in ORDER_CHANGES or not scope.startswith("store/order/")) else "other",
        order_is_new=scope == "store/order/created",
    )
    change.happened_at.FromDatetime(datetime.fromtimestamp(second, UTC) + timedelta(seconds=1))
    return change


async def changes(
    client: BigCommerceClient, store: Store, request: lookup_pb2.ListChangesRequest, deadline: Deadline
) -> lookup_pb2.ListChangesResponse:
    """Orders modified since ``request.since`` (``min_date_modified``, oldest first), a page at a
    time; the page token is the next page's number. An order names its customer (0: a guest,
    named by its order alone). Its time is in whole seconds: it changed before the end of it."""
    page = int(request.page_token) if request.page_token.isdigit() else 1
    limit = min(request.limit or MAX_LIMIT, MAX_LIMIT)
    since = request.since.ToDatetime(tzinfo=UTC).isoformat(timespec="seconds")
    orders = await client.orders_modified_since(store, since, page, limit, deadline)
    out = lookup_pb2.ListChangesResponse(next_page_token=str(page + 1) if len(orders) >= limit else "")
    for order in orders:
        modified = parsedate_to_datetime(str(order.get("date_modified") or "")) if order.get("date_modified") else None
        change = out.changes.add(
            event_id=f"order/{order.get('id')}@{order.get('date_modified') or ''}",
            topic="sweep/order",
            external_customer_id=str(order.get("customer_id") or "") if int(order.get("customer_id") or 0) else "",
            order_id=str(order.get("id") or ""),
            kind="change",
        )
        if modified is not None:
            change.happened_at.FromDatetime(modified.astimezone(UTC) + timedelta(seconds=1))
    return out
