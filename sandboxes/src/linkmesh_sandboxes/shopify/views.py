"""The Shopify sandbox's reads: Shopify's objects over the shop's state, built as they are
read (a mutation shows at once), and the helpers every part shares. Money is a MoneyBag: an
order's amounts are kept in its presentment currency (what the customer paid in) and shown in
the shop's currency too, at the order's rate."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from linkmesh_sandboxes import graphql_kit
from linkmesh_sandboxes.shopify import data, search
from linkmesh_sandboxes.shopify.data import CURRENCY, Customer, Line, Order, Shop, iso


def handle(title: str) -> str:
    """A product's handle as Shopify makes one from its title ("Trail Runner Shoe" → "trail-runner-shoe")."""
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: Any, kind: str) -> int | None:
    text = str(value or "")
    prefix = f"gid://shopify/{kind}/"
    return int(text[len(prefix) :]) if text.startswith(prefix) and text[len(prefix) :].isdigit() else None


def money(amount: Decimal | str | int, order: Order | None = None) -> dict[str, Any]:
    """A MoneyBag: ``amount`` in the order's presentment currency (what the customer paid in), and
    in the shop's currency at the order's rate; without an order, the shop's currency alone."""
    cent = Decimal("0.01")
    value = Decimal(amount).quantize(cent)
    rate = order.shop_rate if order is not None else Decimal("1")
    return {
        "shopMoney": {"amount": str((value * rate).quantize(cent)), "currencyCode": CURRENCY},
        "presentmentMoney": {"amount": str(value), "currencyCode": order.presentment if order is not None else CURRENCY},
    }


def financial_status(o: Order) -> str:
    """The order's OrderDisplayFinancialStatus."""
    if o.refunded and o.refunded >= o.total:
        return "REFUNDED"
    if o.refunded:
        return "PARTIALLY_REFUNDED"
    return "PAID" if o.paid else "PENDING"


def fulfillment_status(o: Order) -> str:
    """The order's OrderDisplayFulfillmentStatus."""
    shipped = sum(l.fulfilled for l in o.lines)
    return "FULFILLED" if shipped and shipped == sum(l.quantity for l in o.lines) else "PARTIALLY_FULFILLED" if shipped else "UNFULFILLED"


class Views:
    """Shopify's objects over the shop's state, built as they are read (mutations show at once)."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def customer(self, c: Customer | None) -> dict[str, Any] | None:
        if c is None:
            return None
        orders = [o for o in self.shop.orders.values() if o.customer_id == c.id]
        spent = sum(((o.total - o.refunded) * o.shop_rate for o in orders if not o.cancelled_at), Decimal("0"))
        address = None
        if c.address:
            address = {
                **c.address,
                "firstName": c.first,
                "lastName": c.last,
                "name": f"{c.first} {c.last}",
                "country": "United States",
                "province": c.address["provinceCode"],
            }
        return {
            "__typename": "Customer",
            "id": gid("Customer", c.id),
            "legacyResourceId": str(c.id),
            "firstName": c.first,
            "lastName": c.last,
            "displayName": f"{c.first} {c.last}",
            "email": c.email,
            "phone": c.phone,
            "note": c.note,
            "tags": list(c.tags),
            "createdAt": iso(c.created),
            "updatedAt": iso(c.created),
            "state": "ENABLED",
            "verifiedEmail": True,
            "numberOfOrders": str(len(orders)),
            "amountSpent": money(spent)["shopMoney"],
            "defaultAddress": address,
            "addresses": lambda info, first=None: [address] if address else [],
            "orders": lambda info, **args: self.orders(args, [o for o in orders]),
        }

    def orders(self, args: dict[str, Any], orders: list[Order]) -> dict[str, Any]:
        found = [o for o in orders if search.matches(args.get("query"), o, order_matches)]
        key = args.get("sortKey") or "ID"
        if key in ("PROCESSED_AT", "CREATED_AT"):
            found.sort(key=lambda o: o.created)
        elif key == "UPDATED_AT":
            found.sort(key=lambda o: o.updated or o.created)
        else:
            found.sort(key=lambda o: o.number if key == "ORDER_NUMBER" else o.id)
        if args.get("reverse"):
            found.reverse()
        return graphql_kit.connection(
            [self.order(o) for o in found], args.get("first"), args.get("last"), args.get("after"), args.get("before")
        )

    def line(self, line: Line, o: Order) -> dict[str, Any]:
        return {
            "id": gid("LineItem", line.id),
            "name": line.name,
            "title": line.name,
            "sku": line.sku,
            "variantTitle": None,
            "quantity": line.quantity,
            "currentQuantity": line.quantity - line.refunded,
            "refundableQuantity": line.quantity - line.refunded,
            "originalUnitPriceSet": money(line.price, o),
            "discountedUnitPriceSet": money(line.price, o),
            "product": {
                "id": gid("Product", line.id),
                "title": line.name,
                "handle": handle(line.name),
                "onlineStoreUrl": f"https://{self.shop.domain}/products/{handle(line.name)}",
            },
        }

    def order(self, o: Order) -> dict[str, Any]:
        refunded = o.refunded
        financial, fulfillment = financial_status(o), fulfillment_status(o)
        lines = {l.id: l for l in o.lines}
        return {
            "__typename": "Order",
            "id": gid("Order", o.id),
            "legacyResourceId": str(o.id),
            "name": o.name,
            "email": o.email,
            "phone": None,
            "createdAt": iso(o.created),
            "processedAt": iso(o.created),
            "updatedAt": iso(o.updated or o.created),
            "cancelledAt": iso(o.cancelled_at) if o.cancelled_at else None,
            "cancelReason": o.cancel_reason,
            "closed": bool(o.cancelled_at),
            "currencyCode": CURRENCY,
            "presentmentCurrencyCode": o.presentment,
            "displayFinancialStatus": financial,
            "displayFulfillmentStatus": fulfillment,
            "totalPriceSet": money(o.total, o),
            "currentTotalPriceSet": money(o.total - refunded, o),
            "subtotalPriceSet": money(sum((l.price * l.quantity for l in o.lines), Decimal("0")), o),
            "totalDiscountsSet": money(o.discount, o),
            "currentTotalDiscountsSet": money(o.discount, o),
            "totalRefundedSet": money(refunded, o),
            "totalShippingPriceSet": money(o.shipping, o),
            "statusPageUrl": f"https://{self.shop.domain}/orders/{o.id}/authenticate",
            "customer": lambda info: self.customer(self.shop.customers.get(o.customer_id)) if o.customer_id else None,
            "lineItems": lambda info, **args: graphql_kit.connection(
                [self.line(l, o) for l in o.lines], args.get("first"), args.get("last"), args.get("after"), args.get("before")
            ),
            "fulfillments": lambda info, first=None: self.fulfillments(o)[: first if first is not None else None],
            "refunds": lambda info, first=None: [self.refund(o, r, lines) for r in o.refunds][: first if first is not None else None],
            "returns": lambda info, **args: graphql_kit.connection(
                [self.return_(o, r, lines) for r in o.returns], args.get("first"), args.get("last"), args.get("after"), args.get("before")
            ),
            "suggestedRefund": lambda info, **args: suggested_refund(self, o, args),
        }

    def fulfillments(self, o: Order) -> list[dict[str, Any]]:
        if not any(l.fulfilled for l in o.lines):
            return []
        tracking = [{"number": n, "company": c, "url": u} for n, c, u in o.tracking]
        return [
            {
                "id": gid("Fulfillment", o.id * 10 + 1),
                "name": f"{o.name}-F1",
                "status": "SUCCESS",
                "displayStatus": o.delivery or "FULFILLED",
                "deliveredAt": iso(o.delivered) if o.delivered else None,
                "createdAt": iso(o.created),
                "updatedAt": iso(o.created),
                "trackingInfo": lambda info, first=None: tracking[: first if first is not None else None],
            }
        ]

    def refund(self, o: Order, r: dict[str, Any], lines: dict[int, Line]) -> dict[str, Any]:
        items = [
            {
                "lineItem": self.line(lines[lid], o),
                "quantity": qty,
                "restockType": "NO_RESTOCK",
                "subtotalSet": money(lines[lid].price * qty, o),
            }
            for lid, qty in r["lines"]
        ]
        return {
            "id": gid("Refund", r["id"]),
            "createdAt": r["created"],
            "updatedAt": r["created"],
            "note": r.get("note"),
            "totalRefundedSet": money(r["amount"], o),
            "refundLineItems": lambda info, **args: graphql_kit.connection(items, args.get("first"), args.get("last")),
        }

    def return_(self, o: Order, r: dict[str, Any], lines: dict[int, Line]) -> dict[str, Any]:
        items = [
            {
                "__typename": "ReturnLineItem",
                "id": gid("ReturnLineItem", r["id"] * 10 + n),
                "quantity": qty,
                "refundableQuantity": 0,
                "refundedQuantity": qty,
                "returnReason": reason,
                "returnReasonNote": note,
                "customerNote": None,
                "fulfillmentLineItem": {"id": gid("FulfillmentLineItem", lid), "lineItem": self.line(lines[lid], o)},
            }
            for n, (lid, qty, reason, note) in enumerate(r["lines"], 1)
        ]
        return {
            "id": gid("Return", r["id"]),
            "name": r["name"],
            "status": r["status"],
            "totalQuantity": sum(i["quantity"] for i in items),
            "returnLineItems": lambda info, **args: graphql_kit.connection(items, args.get("first"), args.get("last")),
        }


def customer_matches(field: str, value: str, c: Customer) -> bool:
    if field == "email":
        return c.email.lower() == value.lower()
    if field == "phone":
        return bool(c.phone) and c.phone == value
    if field == "id":
        return str(c.id) == value or gid("Customer", c.id) == value
    if field in ("first_name", "last_name"):
        return (c.first if field == "first_name" else c.last).lower() == value.lower()
    return False


def order_matches(field: str, value: str, o: Order) -> bool:
    if field == "name":
        return value.lstrip("#") == str(o.number)
    if field == "email":
        return o.email.lower() == value.lower()
    if field == "customer_id":
        return o.customer_id is not None and str(o.customer_id) == value
    if field == "id":
        return str(o.id) == value
    if field in ("updated_at", "created_at"):
        return time_matches(value, (o.updated or o.created) if field == "updated_at" else o.created)
    return False


def time_matches(value: str, at: datetime) -> bool:
    """A ``time`` filter: ``>``, ``>=``, ``<``, ``<=`` or none, then a quoted or bare ISO 8601 time or date."""
    op = next((c for c in (">=", "<=", ">", "<") if value.startswith(c)), "")
    text = value[len(op) :].strip("'\"")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return {">=": at >= when, "<=": at <= when, ">": at > when, "<": at < when, "": at.date() == when.date()}[op]


def _wanted_lines(o: Order, args: dict[str, Any]) -> list[tuple[Line, int]]:
    """The lines and quantities a suggested refund covers (never more than is left to refund)."""
    lines = {l.id: l for l in o.lines}
    wanted: list[tuple[Line, int]] = []
    if args.get("suggestFullRefund"):
        wanted = [(l, l.quantity - l.refunded) for l in o.lines if l.quantity > l.refunded]
    for item in args.get("refundLineItems") or []:
        line = lines.get(gid_number(item["lineItemId"], "LineItem") or -1)
        if line is not None:
            wanted.append((line, max(0, min(int(item["quantity"]), line.quantity - line.refunded))))
    return wanted


def _suggested_transactions(o: Order, amount: Decimal, maximum: Decimal) -> list[dict[str, Any]]:
    if amount <= 0:
        return []
    parent = {
        "id": gid("OrderTransaction", o.id * 10),
        "kind": "SALE",
        "gateway": data.GATEWAY,
        "status": "SUCCESS",
        "amountSet": money(o.total, o),
        "createdAt": iso(o.created),
    }
    return [
        {
            "amount": str(amount),
            "amountSet": money(amount, o),
            "gateway": data.GATEWAY,
            "formattedGateway": "Shopify Payments",
            "kind": "SUGGESTED_REFUND",
            "maximumRefundable": str(maximum),
            "maximumRefundableSet": money(maximum, o),
            "parentTransaction": parent,
            "accountNumber": None,
            "paymentDetails": None,
        }
    ]


def suggested_refund(views: Views, o: Order, args: dict[str, Any]) -> dict[str, Any]:
    wanted = _wanted_lines(o, args)
    subtotal = sum((l.price * q for l, q in wanted), Decimal("0"))
    shipping = (
        o.shipping
        if (args.get("refundShipping") or args.get("suggestFullRefund")) and not o.refunds
        else Decimal(args.get("shippingAmount") or 0)
    )
    maximum = o.total - o.refunded
    amount = min(subtotal + shipping - (o.discount if args.get("suggestFullRefund") and not o.refunds else 0), maximum)
    amount = max(amount, Decimal("0"))
    transactions = _suggested_transactions(o, amount, maximum)
    return {
        "amountSet": money(amount, o),
        "subtotalSet": money(subtotal, o),
        "totalTaxSet": money(0, o),
        "maximumRefundableSet": money(maximum, o),
        "totalCartDiscountAmountSet": money(0, o),
        "discountedSubtotalSet": money(subtotal, o),
        "refundLineItems": [
            {
                "lineItem": views.line(l, o),
                "quantity": q,
                "restockType": "NO_RESTOCK",
                "subtotalSet": money(l.price * q, o),
                "price": str(l.price),
                "priceSet": money(l.price, o),
            }
            for l, q in wanted
        ],
        "shipping": {
            "amount": str(shipping),
            "amountSet": money(shipping, o),
            "maximumRefundable": str(o.shipping),
            "maximumRefundableSet": money(o.shipping, o),
            "tax": "0.00",
            "taxSet": money(0, o),
        },
        "suggestedTransactions": transactions,
        "refundDuties": [],
    }
