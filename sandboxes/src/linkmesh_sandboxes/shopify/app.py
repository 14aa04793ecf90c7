"""Shopify Admin GraphQL API 2025-01 sandbox (``../shared/vendor-specs/shopify``).

``POST /admin/api/2025-01/graphql.json`` with ``X-Shopify-Access-Token``, body
``{"query", "variables", "operationName"}``. Every request is parsed and validated against
Shopify's own schema (the shipped introspection result, ``graphql_kit``) before it runs: a
query Shopify would reject is answered with GraphQL's errors here too. Answers carry
``extensions.cost`` (requested and actual cost, ``throttleStatus``); the shop's bucket holds
``rate_limit_quota`` points (knob; 1000) and refills completely in ``rate_limit_window_ms``
(20000: 50 points a second); a query costing more than is left is answered
``{"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}`` with HTTP 200
and not run, one costing more than the whole bucket ``MAX_COST_EXCEEDED``.

Implemented: ``shop``, ``customer``, ``customers(query:)`` (``email:``, ``phone:``, ``id:``,
``first_name:``, ``last_name:``), ``order``, ``orders(query:)`` (``name:`` with or without
``#``, ``email:``, ``customer_id:``, ``id:``), customers' ``orders``; on orders ``lineItems``,
``fulfillments { trackingInfo }``, ``returns``, ``refunds``, ``suggestedRefund``; the
mutations ``refundCreate``, ``orderCancel`` (a job: the order is cancelled a moment later,
as Shopify cancels asynchronously) and ``discountCodeBasicCreate``, with ``userErrors`` as
Shopify words them. Other fields of the schema validate and answer null.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from graphql import GraphQLError

from linkmesh_sandboxes import graphql_kit
from linkmesh_sandboxes.kit import DATA_KEYS
from linkmesh_sandboxes.knobs import STATE, SandboxState, add_control_routes, knobs_middleware
from linkmesh_sandboxes.shopify import cost, data, search
from linkmesh_sandboxes.shopify.data import CURRENCY, Customer, Line, Order, Shop, iso

API_VERSION = "2025-01"
SCHEMA_FILE = "admin_schema_2025-01.json.gz"
SHOP = web.AppKey("shop", Shop)
TOKEN = web.AppKey("token", str)
BUCKET = web.AppKey("bucket", dict)
CANCEL_DELAY = web.AppKey("cancel_delay_s", float)
DEFAULT_BUCKET, DEFAULT_REFILL_MS = 1000, 20_000


def schema_path() -> Path:
    return Path(str(resources.files("linkmesh_sandboxes.shopify").joinpath(SCHEMA_FILE)))


def handle(title: str) -> str:
    """A product's handle as Shopify makes one from its title ("Trail Runner Shoe" → "trail-runner-shoe")."""
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: Any, kind: str) -> int | None:
    text = str(value or "")
    prefix = f"gid://shopify/{kind}/"
    return int(text[len(prefix):]) if text.startswith(prefix) and text[len(prefix):].isdigit() else None


def money(amount: Decimal | str) -> dict[str, Any]:
    value = {"amount": str(Decimal(amount).quantize(Decimal("0.01"))), "currencyCode": CURRENCY}
    return {"shopMoney": value, "presentmentMoney": value}


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    return web.json_response({"errors": message}, status=status)


# Reads


class Views:
    """Shopify's objects over the shop's state, built as they are read (mutations show at once)."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def customer(self, c: Customer | None) -> dict[str, Any] | None:
        if c is None:
            return None
        orders = [o for o in self.shop.orders.values() if o.customer_id == c.id]
        spent = sum((o.total - o.refunded for o in orders if not o.cancelled_at), Decimal("0"))
        address = None
        if c.address:
            address = {**c.address, "firstName": c.first, "lastName": c.last, "name": f"{c.first} {c.last}", "country": "United States",
                       "province": c.address["provinceCode"]}
        return {
            "__typename": "Customer", "id": gid("Customer", c.id), "firstName": c.first, "lastName": c.last,
            "displayName": f"{c.first} {c.last}", "email": c.email, "phone": c.phone, "note": c.note, "tags": list(c.tags),
            "createdAt": iso(c.created), "updatedAt": iso(c.created), "state": "ENABLED", "verifiedEmail": True,
            "numberOfOrders": str(len(orders)), "amountSpent": money(spent)["shopMoney"], "defaultAddress": address,
            "addresses": lambda info, first=None: [address] if address else [],
            "orders": lambda info, **args: self.orders(args, [o for o in orders]),
        }

    def orders(self, args: dict[str, Any], orders: list[Order]) -> dict[str, Any]:
        found = [o for o in orders if search.matches(args.get("query"), o, order_matches)]
        key = args.get("sortKey") or "ID"
        found.sort(key=lambda o: {"PROCESSED_AT": o.created, "CREATED_AT": o.created, "ORDER_NUMBER": o.number}.get(key, o.id))
        if args.get("reverse"):
            found.reverse()
        return graphql_kit.connection([self.order(o) for o in found], args.get("first"), args.get("last"), args.get("after"), args.get("before"))

    def line(self, line: Line) -> dict[str, Any]:
        return {
            "id": gid("LineItem", line.id), "name": line.name, "title": line.name, "sku": line.sku, "variantTitle": None,
            "quantity": line.quantity, "currentQuantity": line.quantity - line.refunded, "refundableQuantity": line.quantity - line.refunded,
            "originalUnitPriceSet": money(line.price), "discountedUnitPriceSet": money(line.price),
            "product": {"id": gid("Product", line.id), "title": line.name, "handle": handle(line.name),
                        "onlineStoreUrl": f"https://{self.shop.domain}/products/{handle(line.name)}"},
        }

    def order(self, o: Order) -> dict[str, Any]:
        refunded = o.refunded
        if refunded and refunded >= o.total:
            financial = "REFUNDED"
        elif refunded:
            financial = "PARTIALLY_REFUNDED"
        else:
            financial = "PAID" if o.paid else "PENDING"
        shipped = sum(l.fulfilled for l in o.lines)
        fulfillment = "FULFILLED" if shipped and shipped == sum(l.quantity for l in o.lines) else "PARTIALLY_FULFILLED" if shipped else "UNFULFILLED"
        lines = {l.id: l for l in o.lines}
        return {
            "__typename": "Order", "id": gid("Order", o.id), "legacyResourceId": str(o.id), "name": o.name, "email": o.email, "phone": None,
            "createdAt": iso(o.created), "processedAt": iso(o.created), "updatedAt": iso(o.created),
            "cancelledAt": iso(o.cancelled_at) if o.cancelled_at else None, "cancelReason": o.cancel_reason,
            "closed": bool(o.cancelled_at), "currencyCode": CURRENCY, "displayFinancialStatus": financial,
            "displayFulfillmentStatus": fulfillment, "totalPriceSet": money(o.total), "currentTotalPriceSet": money(o.total - refunded),
            "subtotalPriceSet": money(sum((l.price * l.quantity for l in o.lines), Decimal("0"))),
            "totalDiscountsSet": money(o.discount), "currentTotalDiscountsSet": money(o.discount), "totalRefundedSet": money(refunded),
            "totalShippingPriceSet": money(o.shipping), "statusPageUrl": f"https://{self.shop.domain}/orders/{o.id}/authenticate",
            "customer": lambda info: self.customer(self.shop.customers.get(o.customer_id)) if o.customer_id else None,
            "lineItems": lambda info, **args: graphql_kit.connection([self.line(l) for l in o.lines], args.get("first"), args.get("last"),
                                                                     args.get("after"), args.get("before")),
            "fulfillments": lambda info, first=None: self.fulfillments(o)[: first if first is not None else None],
            "refunds": lambda info, first=None: [self.refund(o, r, lines) for r in o.refunds][: first if first is not None else None],
            "returns": lambda info, **args: graphql_kit.connection([self.return_(r, lines) for r in o.returns], args.get("first"),
                                                                   args.get("last"), args.get("after"), args.get("before")),
            "suggestedRefund": lambda info, **args: suggested_refund(self, o, args),
        }

    def fulfillments(self, o: Order) -> list[dict[str, Any]]:
        if not any(l.fulfilled for l in o.lines):
            return []
        tracking = [{"number": n, "company": c, "url": u} for n, c, u in o.tracking]
        return [{"id": gid("Fulfillment", o.id * 10 + 1), "name": f"{o.name}-F1", "status": "SUCCESS", "displayStatus": "FULFILLED",
                 "createdAt": iso(o.created), "updatedAt": iso(o.created),
                 "trackingInfo": lambda info, first=None: tracking[: first if first is not None else None]}]

    def refund(self, o: Order, r: dict[str, Any], lines: dict[int, Line]) -> dict[str, Any]:
        items = [{"lineItem": self.line(lines[lid]), "quantity": qty, "restockType": "NO_RESTOCK",
                  "subtotalSet": money(lines[lid].price * qty)} for lid, qty in r["lines"]]
        return {"id": gid("Refund", r["id"]), "createdAt": r["created"], "updatedAt": r["created"], "note": r.get("note"),
                "totalRefundedSet": money(r["amount"]),
                "refundLineItems": lambda info, **args: graphql_kit.connection(items, args.get("first"), args.get("last"))}

    def return_(self, r: dict[str, Any], lines: dict[int, Line]) -> dict[str, Any]:
        items = [{"__typename": "ReturnLineItem", "id": gid("ReturnLineItem", r["id"] * 10 + n), "quantity": qty, "refundableQuantity": 0,
                  "refundedQuantity": qty, "returnReason": reason, "returnReasonNote": note, "customerNote": None,
                  "fulfillmentLineItem": {"id": gid("FulfillmentLineItem", lid), "lineItem": self.line(lines[lid])}}
                 for n, (lid, qty, reason, note) in enumerate(r["lines"], 1)]
        return {"id": gid("Return", r["id"]), "name": r["name"], "status": r["status"], "totalQuantity": sum(i["quantity"] for i in items),
                "returnLineItems": lambda info, **args: graphql_kit.connection(items, args.get("first"), args.get("last"))}


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
    return False


def suggested_refund(views: Views, o: Order, args: dict[str, Any]) -> dict[str, Any]:
    lines = {l.id: l for l in o.lines}
    wanted: list[tuple[Line, int]] = []
    if args.get("suggestFullRefund"):
        wanted = [(l, l.quantity - l.refunded) for l in o.lines if l.quantity > l.refunded]
    for item in args.get("refundLineItems") or []:
        line = lines.get(gid_number(item["lineItemId"], "LineItem") or -1)
        if line is not None:
            wanted.append((line, max(0, min(int(item["quantity"]), line.quantity - line.refunded))))
    subtotal = sum((l.price * q for l, q in wanted), Decimal("0"))
    shipping = o.shipping if (args.get("refundShipping") or args.get("suggestFullRefund")) and not o.refunds else Decimal(args.get("shippingAmount") or 0)
    maximum = o.total - o.refunded
    amount = min(subtotal + shipping - (o.discount if args.get("suggestFullRefund") and not o.refunds else 0), maximum)
    amount = max(amount, Decimal("0"))
    parent = {"id": gid("OrderTransaction", o.id * 10), "kind": "SALE", "gateway": data.GATEWAY, "status": "SUCCESS",
              "amountSet": money(o.total), "createdAt": iso(o.created)}
    transactions = [{"amount": str(amount), "amountSet": money(amount), "gateway": data.GATEWAY, "formattedGateway": "Shopify Payments",
                     "kind": "SUGGESTED_REFUND", "maximumRefundable": str(maximum), "maximumRefundableSet": money(maximum),
                     "parentTransaction": parent, "accountNumber": None, "paymentDetails": None}] if amount > 0 else []
    return {
        "amountSet": money(amount), "subtotalSet": money(subtotal), "totalTaxSet": money(0), "maximumRefundableSet": money(maximum),
        "totalCartDiscountAmountSet": money(0), "discountedSubtotalSet": money(subtotal),
        "refundLineItems": [{"lineItem": views.line(l), "quantity": q, "restockType": "NO_RESTOCK", "subtotalSet": money(l.price * q),
                             "price": str(l.price), "priceSet": money(l.price)} for l, q in wanted],
        "shipping": {"amount": str(shipping), "amountSet": money(shipping), "maximumRefundable": str(o.shipping),
                     "maximumRefundableSet": money(o.shipping), "tax": "0.00", "taxSet": money(0)},
        "suggestedTransactions": transactions, "refundDuties": [],
    }


# Mutations


def user_error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    return {"field": field, "message": message, **({"code": code} if code else {})}


def refund_create(app: web.Application, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    shop, views = app[SHOP], Views(app[SHOP])
    o = shop.orders.get(gid_number(input.get("orderId"), "Order") or -1)
    if o is None:
        return {"refund": None, "order": None, "userErrors": [user_error(["orderId"], "Order does not exist")]}
    lines = {l.id: l for l in o.lines}
    taken: list[tuple[Line, int]] = []
    for n, item in enumerate(input.get("refundLineItems") or []):
        line = lines.get(gid_number(item["lineItemId"], "LineItem") or -1)
        if line is None:
            return {"refund": None, "order": None, "userErrors": [user_error(["refundLineItems", str(n), "lineItemId"], "Line item does not exist")]}
        if item["quantity"] > line.quantity - line.refunded:
            return {"refund": None, "order": None, "userErrors": [
                user_error(["refundLineItems", str(n), "quantity"], "Quantity cannot refund more items than were purchased")]}
        taken.append((line, item["quantity"]))
    amount = Decimal("0")
    for n, t in enumerate(input.get("transactions") or []):
        if t["kind"] != "REFUND" or t["gateway"] != data.GATEWAY or gid_number(t["orderId"], "Order") != o.id:
            return {"refund": None, "order": None, "userErrors": [user_error(["transactions", str(n)], "Transaction is invalid")]}
        amount += Decimal(str(t["amount"]))
    if amount > o.total - o.refunded:
        return {"refund": None, "order": None, "userErrors": [
            user_error(["transactions", "0", "amount"], f"Refund amount ${amount} is greater than net payment received ${o.total - o.refunded}")]}
    if not taken and amount <= 0:
        return {"refund": None, "order": None, "userErrors": [user_error(None, "Refund must refund line items or an amount")]}
    for line, qty in taken:
        line.refunded += qty
    record = {"id": shop.new_id(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "amount": str(amount), "note": input.get("note"),
              "lines": [(l.id, q) for l, q in taken]}
    o.refunds.append(record)
    return {"refund": views.refund(o, record, lines), "order": views.order(o), "userErrors": []}


def order_cancel(app: web.Application, info: Any, orderId: str, refund: bool, restock: bool, reason: str,
                 notifyCustomer: bool | None = None, staffNote: str | None = None) -> dict[str, Any]:
    shop = app[SHOP]
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
        o.cancelled_at, o.cancel_reason = data.datetime.now(data.timezone.utc), reason
        remaining = o.total - o.refunded
        if refund and remaining > 0:
            lines = [(l.id, l.quantity - l.refunded) for l in o.lines if l.quantity > l.refunded]
            for l in o.lines:
                l.refunded = l.quantity
            o.refunds.append({"id": shop.new_id(), "created": iso(o.cancelled_at), "amount": str(remaining), "note": "Order canceled",
                              "lines": lines})

    asyncio.get_running_loop().call_later(app[CANCEL_DELAY], apply)
    return {"job": {"id": gid("Job", job), "done": False, "query": None}, "orderCancelUserErrors": [], "userErrors": []}


def discount_code_basic_create(app: web.Application, info: Any, basicCodeDiscount: dict[str, Any]) -> dict[str, Any]:
    shop, d = app[SHOP], basicCodeDiscount
    code = (d.get("code") or "").strip()
    errors = []
    if not code:
        errors.append(user_error(["basicCodeDiscount", "code"], "Code can't be blank", "BLANK"))
    elif code.lower() in shop.discounts:
        errors.append(user_error(["basicCodeDiscount", "code"], "Code must be unique. Please try a different code.", "TAKEN"))
    if not d.get("startsAt"):
        errors.append(user_error(["basicCodeDiscount", "startsAt"], "Starts at can't be blank", "BLANK"))
    value = ((d.get("customerGets") or {}).get("value") or {})
    percentage = value.get("percentage")
    amount = (value.get("discountAmount") or {}).get("amount")
    if percentage is None and amount is None:
        errors.append(user_error(["basicCodeDiscount", "customerGets", "value"], "Value can't be blank", "BLANK"))
    elif percentage is not None and not 0 < percentage <= 1:
        errors.append(user_error(["basicCodeDiscount", "customerGets", "value", "percentage"], "Value must be between 0.0 and 1.0",
                                 "VALUE_OUTSIDE_RANGE"))
    if errors:
        return {"codeDiscountNode": None, "userErrors": [{**e, "extraInfo": None} for e in errors]}
    number = shop.new_id()
    summary = f"{round(percentage * 100)}% off entire order" if percentage is not None else f"${amount} off entire order"
    record = {"__typename": "DiscountCodeBasic", "title": d.get("title") or code, "status": "ACTIVE", "startsAt": d["startsAt"],
              "endsAt": d.get("endsAt"), "usageLimit": d.get("usageLimit"), "summary": summary, "asyncUsageCount": 0,
              "codes": lambda info, **args: graphql_kit.connection([{"id": gid("DiscountRedeemCode", number), "code": code}], args.get("first"))}
    node = {"id": gid("DiscountCodeNode", number), "codeDiscount": record}
    shop.discounts[code.lower()] = node
    return {"codeDiscountNode": node, "userErrors": []}


# The endpoint


def take(app: web.Application, requested: int) -> tuple[bool, dict[str, Any]]:
    """Takes ``requested`` points from the shop's bucket when it holds them."""
    knobs, bucket = app[STATE].knobs, app[BUCKET]
    maximum = float(knobs.rate_limit_quota)
    rate = maximum / max(knobs.rate_limit_window_ms / 1000, 0.001)
    now = time.monotonic()
    available = min(maximum, bucket.get("available", maximum) + rate * (now - bucket.get("at", now)))
    ok = requested <= available
    if ok:
        available -= requested
    bucket.update(available=available, at=now)
    return ok, {"maximumAvailable": maximum, "currentlyAvailable": int(available), "restoreRate": rate}


def refund_points(app: web.Application, points: int) -> None:
    bucket = app[BUCKET]
    bucket["available"] = min(float(app[STATE].knobs.rate_limit_quota), bucket.get("available", 0) + points)


async def graphql_endpoint(request: web.Request) -> web.Response:
    app = request.app
    if request.match_info["version"] != API_VERSION:
        return web.json_response({"errors": "Not Found"}, status=404)
    if request.headers.get("X-Shopify-Access-Token", "") != app[TOKEN]:
        return web.json_response({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, status=401)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
    schema = graphql_kit.load_schema(schema_path())
    try:
        parsed = graphql_kit.read_request(schema, body)
    except graphql_kit.Rejected as exc:
        return web.json_response({"errors": exc.errors})
    try:
        requested, _ = cost.costs(schema, parsed.document, parsed.operation, parsed.values)
    except cost.CostError as exc:
        return web.json_response({"errors": [{"message": str(exc), "extensions": {"code": "BAD_REQUEST"}}]})
    ok, status = take(app, requested)
    if requested > status["maximumAvailable"]:
        return web.json_response({"errors": [{"message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                                                         f"({int(status['maximumAvailable'])}).", "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                                                                                          "maxCost": int(status["maximumAvailable"])}}],
                                  "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}}})
    extensions: dict[str, Any] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}}
    if not ok:
        return web.json_response({"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}], "extensions": extensions})
    shop = app[SHOP]
    views = Views(shop)
    root: dict[str, Any] = {
        "shop": {"id": gid("Shop", 1), "name": shop.name, "myshopifyDomain": shop.domain, "currencyCode": CURRENCY,
                 "url": f"https://{shop.domain.replace('.myshopify.com', '')}.example", "email": "orders@summit-outfitters.example"},
        "customer": lambda info, id: views.customer(shop.customers.get(gid_number(id, "Customer") or -1)),
        "customers": lambda info, **args: graphql_kit.connection(
            [views.customer(c) for c in sorted(shop.customers.values(), key=lambda c: c.id) if search.matches(args.get("query"), c, customer_matches)],
            args.get("first"), args.get("last"), args.get("after"), args.get("before")),
        "order": lambda info, id: views.order(shop.orders[n]) if (n := gid_number(id, "Order")) in shop.orders else None,
        "orders": lambda info, **args: views.orders(args, list(shop.orders.values())),
        "refundCreate": lambda info, **args: refund_create(app, info, **args),
        "orderCancel": lambda info, **args: order_cancel(app, info, **args),
        "discountCodeBasicCreate": lambda info, **args: discount_code_basic_create(app, info, **args),
        "codeDiscountNodeByCode": lambda info, code: shop.discounts.get(code.strip().lower()),
    }
    result = graphql_kit.run(schema, parsed, root)
    _, actual = cost.costs(schema, parsed.document, parsed.operation, parsed.values, result.data)
    refund_points(app, requested - actual)
    status["currentlyAvailable"] = int(app[BUCKET]["available"])
    extensions["cost"]["actualQueryCost"] = actual
    answer: dict[str, Any] = {"data": result.data, "extensions": extensions}
    if result.errors:
        answer["errors"] = [e.formatted if isinstance(e, GraphQLError) else {"message": str(e)} for e in result.errors]
    return web.json_response(answer)


def _seed(app: web.Application) -> None:
    app[SHOP] = data.build_shop()
    app[BUCKET] = {}


def create_app(access_token: str = data.ACCESS_TOKEN, *, bucket: int = DEFAULT_BUCKET, refill_ms: int = DEFAULT_REFILL_MS,
               cancel_delay_s: float = 0.2) -> web.Application:
    """``bucket`` points, refilled completely in ``refill_ms`` (the knobs ``rate_limit_quota`` and
    ``rate_limit_window_ms``); a cancellation is carried out ``cancel_delay_s`` after it is asked."""
    app = web.Application(middlewares=[knobs_middleware(error_response)])
    state = SandboxState()
    state.knobs.rate_limit_quota, state.knobs.rate_limit_window_ms = bucket, refill_ms
    app[STATE] = state
    app[TOKEN] = access_token
    app[CANCEL_DELAY] = cancel_delay_s
    app[DATA_KEYS] = {"shop": SHOP}
    _seed(app)
    graphql_kit.load_schema(schema_path())  # built once, at start
    app.router.add_post("/admin/api/{version}/graphql.json", graphql_endpoint)
    add_control_routes(app, _seed)
    return app
