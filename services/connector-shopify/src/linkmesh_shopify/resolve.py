"""Whether a Shopify action whose answer was lost took effect, from Shopify's own record: the
order's refunds (made after the dispatch, with the same lines and quantities), its
``cancelledAt`` (a cancel is Shopify's background job: not cancelled yet stays undetermined,
never "not applied"), and the discount with the action's code (``codeDiscountNodeByCode``).
API 2025-01 has no ``@idempotent`` directive to resend a mutation under; reading is the way."""

from __future__ import annotations

from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError, not_found
from linkmesh_core.resolution import applied, code_for_key, matching_record, no_match, not_applied, since, undetermined, when
from linkmesh_core.timestamps import from_iso
from linkmesh_core.vendor_http import Deadline
from linkmesh_shopify import queries as q
from linkmesh_shopify.client import Shop, ShopifyClient
from linkmesh_shopify.mapping import gid, number_of, refunded


def refund_lines(refund: dict[str, Any]) -> dict[str, int]:
    return {
        number_of((n.get("lineItem") or {}).get("id")): int(n.get("quantity") or 0)
        for n in (refund.get("refundLineItems") or {}).get("nodes") or []
    }


async def order_with_refunds(
    client: ShopifyClient, shop: Shop, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
) -> dict[str, Any]:
    number = request.order_id.strip()
    data = await client.query(shop, "OrderRefunds", q.ORDER_REFUNDS, {"id": gid("Order", number)}, deadline, estimate=q.ORDER_REFUNDS_COST)
    order = data.get("order")
    if not order or number_of((order.get("customer") or {}).get("id")) != request.external_customer_id.strip():
        raise not_found(f"order {number} is not an order of this customer in Shopify")
    return dict(order)


async def resolve(
    client: ShopifyClient, shop: Shop, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
) -> lookup_pb2.ResolveActionResponse:
    if request.action == "create_discount_code":
        code = request.params.get("code", "").strip() or code_for_key(request.idempotency_key)
        data = await client.query(shop, "DiscountByCode", q.DISCOUNT_BY_CODE, {"code": code}, deadline, estimate=q.DISCOUNT_BY_CODE_COST)
        node = data.get("codeDiscountNodeByCode")
        if not node:
            return not_applied(f"Shopify has no discount code {code}")
        return applied(f"Discount code {code} created", {"code": code, "discount_id": number_of(node.get("id"))})
    order = await order_with_refunds(client, shop, request, deadline)
    name = order.get("name") or request.order_id
    if request.action == "cancel":
        cancelled = when(from_iso(order.get("cancelledAt")))
        if cancelled is not None and cancelled >= since(request):
            return applied(f"Order {name} cancelled", {"status": "cancelled"})
        return undetermined(f"order {name} is not cancelled yet (Shopify cancels in a background job)")
    if request.action == "refund":
        count, match = matching_record(order.get("refunds") or [], lambda r: when(from_iso(r.get("createdAt"))), refund_lines, request)
        if match is None:
            return no_match(count, f"refunds of these lines on order {name}")
        said, result = refunded(match.get("totalRefundedSet"))
        return applied(f"Refunded {said} on order {name}", {"refund_id": number_of(match.get("id")), **result})
    raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"Shopify has no action {request.action!r}")
