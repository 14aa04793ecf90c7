"""The Shopify sandbox's mutations, with ``userErrors`` as Shopify words them: ``refundCreate``
(in the order's presentment currency, required when it is not the shop's), ``orderCancel`` (a
job: the order is cancelled a moment later, as Shopify cancels asynchronously) and
``discountCodeBasicCreate``."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from linkmesh_sandboxes import graphql_kit
from linkmesh_sandboxes.shopify import data
from linkmesh_sandboxes.shopify.data import CURRENCY, Line, Order, Shop, iso
from linkmesh_sandboxes.shopify.views import Views, gid, gid_number
from linkmesh_sandboxes.shopify.webhooks import Webhooks, order_payload, refund_payload


def user_error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    return {"field": field, "message": message, **({"code": code} if code else {})}


def refused(field: list[str] | None, message: str) -> dict[str, Any]:
    return {"refund": None, "order": None, "userErrors": [user_error(field, message)]}


def currency_refusal(o: Order, currency: str | None) -> dict[str, Any] | None:
    """Shopify refunds an order whose presentment currency differs from the shop's only in that
    currency, named in ``RefundInput.currency`` (required then); the transactions' amounts are in it."""
    if currency is None and o.presentment != CURRENCY:
        return refused(["currency"], f"Currency is required: the order was paid in {o.presentment}, the shop's currency is {CURRENCY}")
    if currency is not None and currency != o.presentment:
        return refused(["currency"], f"Currency must be the order's presentment currency {o.presentment}, not {currency}")
    return None


def refund_create(shop: Shop, info: Any, input: dict[str, Any], notify: Webhooks | None = None) -> dict[str, Any]:
    views = Views(shop)
    o = shop.orders.get(gid_number(input.get("orderId"), "Order") or -1)
    if o is None:
        return refused(["orderId"], "Order does not exist")
    wrong_currency = currency_refusal(o, input.get("currency"))
    if wrong_currency is not None:
        return wrong_currency
    lines = {l.id: l for l in o.lines}
    taken: list[tuple[Line, int]] = []
    for n, item in enumerate(input.get("refundLineItems") or []):
        line = lines.get(gid_number(item["lineItemId"], "LineItem") or -1)
        if line is None:
            return refused(["refundLineItems", str(n), "lineItemId"], "Line item does not exist")
        if item["quantity"] > line.quantity - line.refunded:
            return refused(["refundLineItems", str(n), "quantity"], "Quantity cannot refund more items than were purchased")
        taken.append((line, item["quantity"]))
    amount = Decimal("0")
    for n, t in enumerate(input.get("transactions") or []):
        if t["kind"] != "REFUND" or t["gateway"] != data.GATEWAY or gid_number(t["orderId"], "Order") != o.id:
            return refused(["transactions", str(n)], "Transaction is invalid")
        amount += Decimal(str(t["amount"]))
    if amount > o.total - o.refunded:
        return refused(
            ["transactions", "0", "amount"],
            f"Refund amount {amount} {o.presentment} is greater than net payment received {o.total - o.refunded} {o.presentment}",
        )
    if not taken and amount <= 0:
        return refused(None, "Refund must refund line items or an amount")
    for line, qty in taken:
        line.refunded += qty
    record = {
        "id": shop.new_id(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "amount": str(amount),
        "note": input.get("note"),
        "lines": [(l.id, q) for l, q in taken],
    }
    o.refunds.append(record)
    o.updated = datetime.now(UTC)
    if notify is not None:
        notify.emit(shop, "REFUNDS_CREATE", refund_payload(o, record))
        notify.emit(shop, "ORDERS_UPDATED", order_payload(o))
    return {"refund": views.refund(o, record, lines), "order": views.order(o), "userErrors": []}


def order_cancel(
    shop: Shop,
    delay_s: float,
    info: Any,
    orderId: str,
    refund: bool,
    restock: bool,
    reason: str,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
    notify: Webhooks | None = None,
) -> dict[str, Any]:
    o = shop.orders.get(gid_number(orderId, "Order") or -1)
    errors = []
    if o is None:
        errors = [user_error(["orderId"], "Order does not exist", "NOT_FOUND")]
    elif o.cancelled_at:
        errors = [user_error(["orderId"], "Cannot cancel an order that has already been canceled", "INVALID")]
    elif any(l.fulfilled for l in o.lines):
        errors = [user_error(["orderId"], "Cannot cancel an order that has fulfilled items; cancel its fulfillments first", "INVALID")]
    if errors:
        return {"job": None, "orderCancelUserErrors": errors, "userErrors": [{k: v for k, v in e.items() if k != "code"} for e in errors]}
    assert o is not None
    job = shop.new_id()

    def apply() -> None:  # Shopify cancels in a background job
        if o.cancelled_at:
            return
        o.cancelled_at, o.cancel_reason = datetime.now(UTC), reason
        o.updated = o.cancelled_at
        remaining = o.total - o.refunded
        record = None
        if refund and remaining > 0:
            lines = [(l.id, l.quantity - l.refunded) for l in o.lines if l.quantity > l.refunded]
            for l in o.lines:
                l.refunded = l.quantity
            record = {
                "id": shop.new_id(),
                "created": iso(o.cancelled_at),
                "amount": str(remaining),
                "note": "Order canceled",
                "lines": lines,
            }
            o.refunds.append(record)
        if notify is not None:
            if record is not None:
                notify.emit(shop, "REFUNDS_CREATE", refund_payload(o, record))
            notify.emit(shop, "ORDERS_CANCELLED", order_payload(o))
            notify.emit(shop, "ORDERS_UPDATED", order_payload(o))

    asyncio.get_running_loop().call_later(delay_s, apply)
    return {"job": {"id": gid("Job", job), "done": False, "query": None}, "orderCancelUserErrors": [], "userErrors": []}


def discount_code_basic_create(shop: Shop, info: Any, basicCodeDiscount: dict[str, Any]) -> dict[str, Any]:
    d = basicCodeDiscount
    code = (d.get("code") or "").strip()
    errors = []
    if not code:
        errors.append(user_error(["basicCodeDiscount", "code"], "Code can't be blank", "BLANK"))
    elif code.lower() in shop.discounts:
        errors.append(user_error(["basicCodeDiscount", "code"], "Code must be unique. Please try a different code.", "TAKEN"))
    if not d.get("startsAt"):
        errors.append(user_error(["basicCodeDiscount", "startsAt"], "Starts at can't be blank", "BLANK"))
    value = (d.get("customerGets") or {}).get("value") or {}
    percentage = value.get("percentage")
    amount = (value.get("discountAmount") or {}).get("amount")
    if percentage is None and amount is None:
        errors.append(user_error(["basicCodeDiscount", "customerGets", "value"], "Value can't be blank", "BLANK"))
    elif percentage is not None and not 0 < percentage <= 1:
        errors.append(
            user_error(
                ["basicCodeDiscount", "customerGets", "value", "percentage"], "Value must be between 0.0 and 1.0", "VALUE_OUTSIDE_RANGE"
            )
        )
    if errors:
        return {"codeDiscountNode": None, "userErrors": [{**e, "extraInfo": None} for e in errors]}
    number = shop.new_id()
    summary = f"{round(percentage * 100)}% off entire order" if percentage is not None else f"${amount} off entire order"
    record = {
        "__typename": "DiscountCodeBasic",
        "title": d.get("title") or code,
        "status": "ACTIVE",
        "startsAt": d["startsAt"],
        "endsAt": d.get("endsAt"),
        "usageLimit": d.get("usageLimit"),
        "summary": summary,
        "asyncUsageCount": 0,
        "codes": lambda info, **args: graphql_kit.connection([{"id": gid("DiscountRedeemCode", number), "code": code}], args.get("first")),
    }
    node = {"id": gid("DiscountCodeNode", number), "codeDiscount": record}
    shop.discounts[code.lower()] = node
    return {"codeDiscountNode": node, "userErrors": []}
