"""Refund quotes and refunds (never more than is left to refund), and coupons (unique codes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.bigcommerce import hooks, records
from linkmesh_sandboxes.bigcommerce.data import Store, rfc2822
from linkmesh_sandboxes.bigcommerce.http import Invalid, error_response, json_body, store_of
from linkmesh_sandboxes.bigcommerce.order_routes import NOT_REFUNDABLE, STATUS_NAMES, order_or_404


def _refund_lines(store: Store, order: dict[str, Any], items: Any) -> tuple[float, list[dict[str, Any]]]:
    """Validates PRODUCT refund items against what is left to refund; answers (amount, items)."""
    if order["status_id"] in NOT_REFUNDABLE:
        raise Invalid("order", f"Order {order['id']} is {order['status']} and cannot be refunded.")
    if not isinstance(items, list) or not items:
        raise Invalid("items", "At least one item is required.")
    products = {p["id"]: p for p in store.order_products[order["id"]]}
    amount = 0.0
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("item_type") != "PRODUCT" or not isinstance(item.get("quantity"), int):
            raise Invalid(f"items[{i}]", "Each item needs item_type PRODUCT, item_id and an integer quantity.")
        product = products.get(item.get("item_id"))
        if product is None:
            raise Invalid(f"items[{i}].item_id", f"Order product {item.get('item_id')} is not on order {order['id']}.")
        left = product["quantity"] - product["quantity_refunded"]
        if not 0 < item["quantity"] <= left:
            raise Invalid(f"items[{i}].quantity", f"Only {left} of order product {product['id']} can be refunded.")
        amount += float(product["price_inc_tax"]) * item["quantity"]
    return round(amount, 2), items


def _failed(order_id: int, status: int, error: str) -> web.Response:
    return web.json_response({"data": [{"order_id": order_id, "status": status, "error": error}], "meta": {}}, status=status)


async def refund_quote(request: web.Request) -> web.Response:
    """``POST /v3/orders/{id}/payment_actions/refund_quotes``."""
    order = order_or_404(request)
    if isinstance(order, web.Response):
        return order
    try:
        body = await json_body(request)
        amount, _ = _refund_lines(store_of(request), order, (body or {}).get("items"))
    except Invalid as exc:
        return error_response(request, 422, exc.message, {exc.field: exc.message})
    left = round(float(order["total_inc_tax"]) - float(order["refunded_amount"]), 2)
    amount = min(amount, left)
    return web.json_response(
        {
            "data": {
                "order_id": order["id"],
                "total_refund_amount": amount,
                "total_refund_tax_amount": 0,
                "order_level_refund_amount": 0,
                "rounding": 0,
                "adjustment": 0,
                "tax_inclusive": True,
                "refund_methods": [
                    [
                        {
                            "provider_id": "checkout_stripe",
                            "provider_description": "Stripe",
                            "amount": amount,
                            "offline": False,
                            "offline_provider": False,
                            "offline_reason": "",
                        }
                    ]
                ],
            },
            "meta": {},
        },
        status=201,
    )


def _apply_refund(
    store: Store, order: dict[str, Any], items: list[dict[str, Any]], payments: list[Any], paid_back: float
) -> dict[str, Any]:
    """Marks the lines and the order refunded (partly or fully); answers the refund as BigCommerce shows it."""
    products = {p["id"]: p for p in store.order_products[order["id"]]}
    for item in items:
        product = products[item["item_id"]]
        product["quantity_refunded"] += item["quantity"]
        product["is_refunded"] = product["quantity_refunded"] >= product["quantity"]
        product["refund_amount"] = f"{float(product['refund_amount']) + float(product['price_inc_tax']) * item['quantity']:.4f}"
    order["refunded_amount"] = f"{float(order['refunded_amount']) + paid_back:.4f}"
    fully = float(order["refunded_amount"]) >= float(order["total_inc_tax"]) - 0.001
    order["status_id"] = 4 if fully else 14
    order["status"] = STATUS_NAMES[order["status_id"]]
    order["date_modified"] = rfc2822(datetime.now(UTC))
    refund_id = 1 + sum(len(r) for r in records.refunds_of(store).values())
    return {
        "id": refund_id,
        "order_id": order["id"],
        "user_id": 0,
        "created": datetime.now(UTC).isoformat(),
        "reason": str(items[0].get("reason") or ""),
        "total_amount": paid_back,
        "total_tax": 0,
        "uses_merchant_override_values": False,
        "items": [
            {
                "item_type": "PRODUCT",
                "item_id": i["item_id"],
                "reason": str(i.get("reason") or ""),
                "quantity": i["quantity"],
                "adjustments": [],
                "requested_amount": round(float(products[i["item_id"]]["price_inc_tax"]) * i["quantity"], 2),
            }
            for i in items
        ],
        "payments": [
            {
                "id": refund_id * 10,
                "provider_id": p.get("provider_id", ""),
                "amount": float(p.get("amount") or 0),
                "offline": bool(p.get("offline")),
                "is_declined": False,
                "declined_message": "",
                "transaction_id": "",
            }
            for p in payments
        ],
    }


async def create_refund(request: web.Request) -> web.Response:
    """``POST /v3/orders/{id}/payment_actions/refunds``: never more than was paid."""
    store = store_of(request)
    order = order_or_404(request)
    if isinstance(order, web.Response):
        return order
    try:
        body = await json_body(request)
        amount, items = _refund_lines(store, order, (body or {}).get("items"))
    except Invalid as exc:
        return _failed(order["id"] if isinstance(order, dict) else 0, 422, exc.message)
    payments = (body or {}).get("payments")
    if not isinstance(payments, list) or not payments:
        return _failed(order["id"], 422, "At least one payment is required.")
    paid_back = round(sum(float(p.get("amount") or 0) for p in payments if isinstance(p, dict)), 2)
    left = round(float(order["total_inc_tax"]) - float(order["refunded_amount"]), 2)
    if paid_back > left + 0.001:
        return _failed(order["id"], 422, f"The refund amount {paid_back:.2f} exceeds the {left:.2f} available to refund.")
    if abs(paid_back - min(amount, left)) > 0.01:
        return _failed(order["id"], 422, "The payments do not add up to the refund quote.")
    refund = _apply_refund(store, order, items, payments, paid_back)
    records.keep_refund(store, refund)
    hooks.emit(request, "store/order/refund/created", {"type": "order", "id": refund["order_id"], "refund": {"refund_id": refund["id"]}})
    hooks.emit(request, "store/order/updated", {"type": "order", "id": refund["order_id"]})
    return web.json_response({"data": refund, "meta": {}}, status=201)


async def get_refunds(request: web.Request) -> web.Response:
    order = order_or_404(request)
    if isinstance(order, web.Response):
        return order
    return records.list_refunds(store_of(request), order["id"])


async def get_coupons(request: web.Request) -> web.Response:
    return records.list_coupons(store_of(request), request.query)


COUPON_TYPES = {"per_item_discount", "per_total_discount", "shipping_discount", "free_shipping", "percentage_discount", "promotion"}


async def create_coupon(request: web.Request) -> web.Response:
    """``POST /v2/coupons`` (legacy coupons): codes are unique per store."""
    store = store_of(request)
    try:
        body = await json_body(request)
    except Invalid as exc:
        return error_response(request, 400, exc.message)
    if not isinstance(body, dict):
        return error_response(request, 400, "The request body must be a JSON object.")
    for field in ("name", "code", "type", "amount", "applies_to"):
        if field not in body or body[field] in ("", None):
            return error_response(request, 400, f"The required field '{field}' was not supplied.")
    if body["type"] not in COUPON_TYPES:
        return error_response(request, 400, "The field 'type' is invalid.")
    if any(c["code"].lower() == str(body["code"]).lower() for c in store.coupons.values()):
        return error_response(request, 409, f"The coupon code '{body['code']}' is already in use.")
    coupon_id = len(store.coupons) + 1
    coupon = {
        "id": coupon_id,
        "name": body["name"],
        "type": body["type"],
        "amount": f"{float(body['amount']):.4f}",
        "min_purchase": f"{float(body.get('min_purchase') or 0):.4f}",
        "expires": body.get("expires", ""),
        "enabled": bool(body.get("enabled", True)),
        "code": body["code"],
        "applies_to": body["applies_to"],
        "num_uses": 0,
        "max_uses": int(body.get("max_uses") or 0),
        "max_uses_per_customer": int(body.get("max_uses_per_customer") or 0),
        "restricted_to": body.get("restricted_to") or {},
        "shipping_methods": body.get("shipping_methods") or [],
        "date_created": rfc2822(datetime.now(UTC)),
    }
    store.coupons[coupon_id] = coupon
    return web.json_response(coupon, status=201)
