"""Whether a Magento action whose answer was lost took effect, from Magento's own record: the
order's credit memos (``GET /V1/creditmemos`` by ``order_id``: made after the dispatch, for the
same items and quantities) and its state (``canceled``). A generated coupon code is random and
Magento's coupon search cannot tell whose it is: that outcome stays unknown."""

from __future__ import annotations

from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_core.money import decimal_string, to_decimal
from linkmesh_core.resolution import applied, matching_record, no_match, not_applied, undetermined, when
from linkmesh_core.timestamps import from_utc_sql
from linkmesh_core.vendor_http import Deadline
from linkmesh_magento.actions import owned_order
from linkmesh_magento.client import MagentoClient, Shop


def memo_lines(memo: dict[str, Any]) -> dict[str, int]:
    return {str(i.get("order_item_id")): int(to_decimal(i.get("qty"))) for i in memo.get("items") or [] if to_decimal(i.get("qty")) > 0}


async def resolve_refund(
    client: MagentoClient, shop: Shop, order: dict[str, Any], request: lookup_pb2.ResolveActionRequest, deadline: Deadline
) -> lookup_pb2.ResolveActionResponse:
    number = order.get("increment_id") or order["entity_id"]
    memos = await client.creditmemos(shop, str(order["entity_id"]), deadline)
    count, match = matching_record(memos, lambda m: when(from_utc_sql(m.get("created_at"))), memo_lines, request)
    if match is None:
        return no_match(count, f"credit memos for these items of order {number}")
    amount, currency = decimal_string(match.get("grand_total")), order.get("order_currency_code") or ""
    return applied(
        f"Refunded {amount} {currency} on order {number} (credit memo {match.get('entity_id')})",
        {"creditmemo_id": str(match.get("entity_id", "")), "amount": amount, "currency": currency},
    )


def resolve_cancel(order: dict[str, Any]) -> lookup_pb2.ResolveActionResponse:
    number = order.get("increment_id") or order["entity_id"]
    if order.get("state") != "canceled":
        return not_applied(f"order {number} is {order.get('state') or 'not cancelled'}")
    return applied(f"Order {number} cancelled", {"state": "canceled"})


async def resolve(
    client: MagentoClient, shop: Shop, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
) -> lookup_pb2.ResolveActionResponse:
    if request.action == "generate_coupon":
        return undetermined("Magento's generated coupon codes are random: whether one was made cannot be read back")
    order = await owned_order(client, shop, request.external_customer_id.strip(), request.order_id, deadline)
    if request.action == "refund":
        return await resolve_refund(client, shop, order, request, deadline)
    if request.action == "cancel":
        return resolve_cancel(order)
    raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"Magento has no action {request.action!r}")
