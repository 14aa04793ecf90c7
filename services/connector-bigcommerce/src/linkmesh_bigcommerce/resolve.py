"""Whether a BigCommerce action whose answer was lost took effect, from BigCommerce's own
record: the order's refunds (``GET /v3/orders/{id}/payment_actions/refunds``), its status and
date modified, the coupon with the action's code (``GET /v2/coupons?code=``)."""

from __future__ import annotations

from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce.actions import CANCELLED, owned_order
from linkmesh_bigcommerce.client import BigCommerceClient, Store
from linkmesh_core.errors import ServiceError
from linkmesh_core.money import decimal_string
from linkmesh_core.resolution import applied, code_for_key, matching_record, no_match, not_applied, since, undetermined, when
from linkmesh_core.timestamps import from_iso, from_rfc2822
from linkmesh_core.vendor_http import Deadline


def refund_lines(refund: dict[str, Any]) -> dict[str, int]:
    return {str(i.get("item_id")): int(i.get("quantity") or 0) for i in refund.get("items") or [] if i.get("item_type") == "PRODUCT"}


async def resolve_refund(
    client: BigCommerceClient, store: Store, order: dict[str, Any], request: lookup_pb2.ResolveActionRequest, deadline: Deadline
) -> lookup_pb2.ResolveActionResponse:
    oid = str(order["id"])
    refunds = await client.refunds(store, oid, deadline)
    count, match = matching_record(refunds, lambda r: when(from_iso(r.get("created"))), refund_lines, request)
    if match is None:
        return no_match(count, f"refunds of these lines on order {oid}")
    amount, currency = decimal_string(match.get("total_amount") or 0), order.get("currency_code") or ""
    return applied(
        f"Refunded {amount} {currency} on order {oid}", {"refund_id": str(match.get("id", "")), "amount": amount, "currency": currency}
    )


def resolve_cancel(order: dict[str, Any], request: lookup_pb2.ResolveActionRequest) -> lookup_pb2.ResolveActionResponse:
    oid = str(order["id"])
    if order.get("status_id") != CANCELLED:
        return not_applied(f"order {oid} is {order.get('status') or 'not cancelled'}")
    modified = when(from_rfc2822(order.get("date_modified")))
    if modified is None or modified < since(request):
        return undetermined(f"order {oid} is cancelled, but not since the request was sent")
    return applied(f"Order {oid} cancelled", {"status": str(order.get("status") or "Cancelled")})


async def resolve(
    client: BigCommerceClient, store: Store, request: lookup_pb2.ResolveActionRequest, deadline: Deadline
) -> lookup_pb2.ResolveActionResponse:
    if request.action == "create_discount_code":
        code = request.params.get("code", "").strip() or code_for_key(request.idempotency_key)
        coupons = await client.coupons_by_code(store, code, deadline)
        if not coupons:
            return not_applied(f"BigCommerce has no discount code {code}")
        return applied(f"Discount code {code} created", {"code": code, "coupon_id": str(coupons[0].get("id", ""))})
    order = await owned_order(client, store, request.external_customer_id.strip(), request.order_id, deadline)
    if request.action == "refund":
        return await resolve_refund(client, store, order, request, deadline)
    if request.action == "cancel":
        return resolve_cancel(order, request)
    raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"BigCommerce has no action {request.action!r}")
