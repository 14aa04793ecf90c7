"""BigCommerce order actions: refund (with a refund quote first, so the amount is
one BigCommerce accepts), cancel (status Cancelled) and a discount code (coupon)."""

from __future__ import annotations

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce.client import BigCommerceClient, Store
from linkmesh_core.actions import form_field, parse_lines
from linkmesh_core.errors import ServiceError, failed_precondition, invalid_argument, not_found
from linkmesh_core.money import decimal_string, parse_amount
from linkmesh_core.resolution import code_for_key
from linkmesh_core.vendor_http import Deadline

CANCELLED, REFUNDED = 5, 4
NOT_REFUNDABLE = {0: "incomplete", 5: "cancelled", 6: "declined", 4: "already refunded in full"}
COUPON_TYPES = ("percentage_discount", "per_total_discount", "free_shipping")
COUPON_LABELS = {"percentage_discount": "Percentage off", "per_total_discount": "Amount off the order", "free_shipping": "Free shipping"}

ACTIONS = [
    lookup_pb2.ActionSpec(
        name="refund",
        label="Refund order",
        effect="Refunds the chosen lines to the original payment method.",
        order_required=True,
        fields=[
            form_field(
                "lines",
                "Lines to refund",
                "lines",
                hint="Every line not refunded yet unless you choose",
            ),
            form_field("reason", "Reason", hint="Shown on the refund in BigCommerce"),
        ],
    ),
    lookup_pb2.ActionSpec(
        name="cancel",
        label="Cancel order",
        order_required=True,
        fields=[],
        effect="Sets the order's status to Cancelled. BigCommerce does not refund the payment: refund the order on its own.",
    ),
    lookup_pb2.ActionSpec(
        name="create_discount_code",
        label="Create discount code",
        effect="Creates a coupon code in BigCommerce on every product, usable once per customer.",
        order_required=False,
        fields=[
            form_field("type", "Discount type", "select", required=True, options=COUPON_TYPES, choices=COUPON_LABELS),
            form_field(
                "amount",
                "Amount",
                "decimal",
                hint="A percentage (1 to 100) or an amount in the store's currency; none for free shipping",
                min_value="0.01",
                max_value="100000",
            ),
            form_field("code", "Code", hint="Leave empty to generate one"),
            form_field(
                "max_uses",
                "Maximum uses",
                "integer",
                default="1",
                hint="How many orders may use the code",
                min_value="1",
                max_value="10000",
            ),
        ],
    ),
]


async def owned_order(client: BigCommerceClient, store: Store, customer_id: str, order_id: str, deadline: Deadline) -> dict:
    if not order_id.strip().isdigit():
        raise invalid_argument("order_id must be a BigCommerce order id", {"order_id": "must be a number"})
    try:
        order = await client.order(store, order_id.strip(), deadline)
    except ServiceError as err:
        if err.code == grpc.StatusCode.NOT_FOUND:
            raise not_found(f"BigCommerce has no order {order_id}") from None
        raise
    if str(order.get("customer_id")) != customer_id:
        raise not_found(f"order {order_id} is not an order of this customer")
    return order


async def refund(
    client: BigCommerceClient, store: Store, order: dict, params: dict[str, str], deadline: Deadline
) -> lookup_pb2.RunActionResponse:
    oid = str(order["id"])
    if order.get("status_id") in NOT_REFUNDABLE:
        raise failed_precondition(f"order {oid} cannot be refunded: it is {NOT_REFUNDABLE[order['status_id']]}")
    products = {str(p["id"]): p for p in (await client.order_products(store, order["id"], deadline, strict=True)).items}
    wanted = parse_lines(params.get("lines", ""))
    if not wanted:
        wanted = [
            (pid, int(p["quantity"]) - int(p.get("quantity_refunded") or 0))
            for pid, p in products.items()
            if int(p["quantity"]) > int(p.get("quantity_refunded") or 0)
        ]
        if not wanted:
            raise failed_precondition(f"order {oid} has nothing left to refund")
    unknown = [line for line, _ in wanted if line not in products]
    if unknown:
        raise invalid_argument("the lines are not on this order", {"params.lines": f"line {unknown[0]} is not on order {oid}"})
    reason = params.get("reason", "").strip()
    items = [
        {"item_type": "PRODUCT", "item_id": int(line), "quantity": qty, **({"reason": reason} if reason else {})} for line, qty in wanted
    ]
    try:
        quote = await client.refund_quote(store, oid, items, deadline)
        methods = quote.get("refund_methods") or []
        if not methods or not methods[0]:
            raise failed_precondition(f"BigCommerce offers no way to refund order {oid}")
        payments = [{"provider_id": p["provider_id"], "amount": p["amount"], "offline": bool(p.get("offline"))} for p in methods[0]]
        done = await client.refund(store, oid, items, payments, deadline)
    except ServiceError as err:
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:  # BigCommerce's 422: a refusal, in its own words
            raise failed_precondition(f"BigCommerce refused the refund: {err.message.split(': ', 1)[-1]}") from None
        raise
    currency = order.get("currency_code") or ""
    amount = decimal_string(done.get("total_amount") or quote.get("total_refund_amount") or 0)
    return lookup_pb2.RunActionResponse(
        message=f"Refunded {amount} {currency} on order {oid}",
        result={"refund_id": str(done.get("id", "")), "amount": amount, "currency": currency},
    )


async def cancel(client: BigCommerceClient, store: Store, order: dict, deadline: Deadline) -> lookup_pb2.RunActionResponse:
    oid = str(order["id"])
    if order.get("status_id") == CANCELLED:
        raise failed_precondition(f"order {oid} is already cancelled")
    if order.get("status_id") == REFUNDED:
        raise failed_precondition(f"order {oid} was refunded in full; there is nothing to cancel")
    updated = await client.set_order_status(store, oid, CANCELLED, deadline)
    return lookup_pb2.RunActionResponse(message=f"Order {oid} cancelled", result={"status": str(updated.get("status") or "Cancelled")})


async def create_discount_code(
    client: BigCommerceClient, store: Store, params: dict[str, str], key: str, deadline: Deadline
) -> lookup_pb2.RunActionResponse:
    kind = params["type"]
    amount = params.get("amount", "").strip()
    if kind != "free_shipping" and not amount:
        raise invalid_argument("give the discount's amount", {"params.amount": f"is required for {kind}"})
    if kind == "percentage_discount" and parse_amount(amount) > 100:
        raise invalid_argument("a percentage cannot pass 100", {"params.amount": "must be at most 100 for a percentage"})
    code = params.get("code", "").strip() or code_for_key(key)  # found again by its key after a lost answer
    coupon = {
        "name": f"linkmesh {code}",
        "code": code,
        "type": kind,
        "amount": amount or "0",
        "enabled": True,
        "applies_to": {"entity": "categories", "ids": [0]},
        "max_uses": int(params.get("max_uses") or 1),
        "max_uses_per_customer": 1,
    }
    try:
        created = await client.create_coupon(store, coupon, deadline)
    except ServiceError as err:
        if err.code == grpc.StatusCode.FAILED_PRECONDITION:  # 409: the code is taken
            raise failed_precondition(f"the discount code {code} already exists in BigCommerce") from None
        raise
    return lookup_pb2.RunActionResponse(
        message=f"Discount code {code} created", result={"code": code, "coupon_id": str(created.get("id", ""))}
    )


async def run(
    client: BigCommerceClient, store: Store, request: lookup_pb2.RunActionRequest, deadline: Deadline
) -> lookup_pb2.RunActionResponse:
    params = dict(request.params)
    if request.action == "create_discount_code":
        return await create_discount_code(client, store, params, request.idempotency_key, deadline)
    order = await owned_order(client, store, request.external_customer_id.strip(), request.order_id, deadline)
    if request.action == "refund":
        return await refund(client, store, order, params, deadline)
    if request.action == "cancel":
        return await cancel(client, store, order, deadline)
    raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"BigCommerce has no action {request.action!r}")
