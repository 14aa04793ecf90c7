"""Shopify order actions: refund (lines and quantities; amounts and transactions from the
order's ``suggestedRefund``), cancel (Shopify cancels in a background job: reported as
accepted, the final state shows after a refresh) and a basic discount code. ``userErrors``
are Shopify refusing in its own words: FAILED_PRECONDITION with them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.actions import flag, form_field, parse_lines, spec_of
from linkmesh_core.errors import ServiceError, failed_precondition, invalid_argument, not_found
from linkmesh_core.money import parse_amount
from linkmesh_core.resolution import code_for_key
from linkmesh_core.vendor_http import Deadline
from linkmesh_shopify import queries as q
from linkmesh_shopify.client import Shop, ShopifyClient
from linkmesh_shopify.mapping import gid, number_of, refunded

REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER")
DISCOUNT_TYPES = ("percentage", "fixed_amount")
DISCOUNT_LABELS = {"percentage": "Percentage off", "fixed_amount": "Amount off"}

ACTIONS = [
    lookup_pb2.ActionSpec(
        name="refund",
        label="Refund order",
        effect="Refunds the chosen lines to the original payment method. The items are not restocked.",
        order_required=True,
        fields=[
            form_field("lines", "Lines to refund", "lines", hint="Every line not refunded yet unless you choose"),
            form_field("reason", "Reason", hint="Kept as the refund's note in Shopify"),
        ],
    ),
    lookup_pb2.ActionSpec(
        name="cancel",
        label="Cancel order",
        effect="Cancels the order in Shopify (a background job: the order shows cancelled once Shopify has done it).",
        order_required=True,
        fields=[
            form_field("reason", "Reason", "select", required=True, options=REASONS),
            form_field("refund", "Refund the payment", "boolean", default=True, hint="Back to the original payment method"),
            form_field("restock", "Restock the items", "boolean", default=True, hint="Back into the stock they came from"),
            form_field("notify_customer", "Email the customer", "boolean", default=False, hint="Shopify's cancellation email"),
        ],
    ),
    lookup_pb2.ActionSpec(
        name="create_discount_code",
        label="Create discount code",
        effect="Creates a discount code in Shopify, once per customer, for any customer who has it.",
        order_required=False,
        fields=[
            form_field("type", "Discount type", "select", required=True, options=DISCOUNT_TYPES, choices=DISCOUNT_LABELS),
            form_field(
                "amount",
                "Amount",
                "decimal",
                required=True,
                hint="A percentage (1 to 100) or an amount in the shop's currency",
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
CANCEL = spec_of(ACTIONS, "cancel")


def _refusal(what: str, errors: list[dict[str, Any]]) -> ServiceError:
    return failed_precondition(f"Shopify refused {what}: " + "; ".join(str(e.get("message") or "") for e in errors))


async def owned_order(client: ShopifyClient, shop: Shop, customer_id: str, order_id: str, deadline: Deadline) -> dict[str, Any]:
    number = order_id.strip()
    if not number.isdigit():
        raise invalid_argument("order_id must be a Shopify order id", {"order_id": "must be a number"})
    data = await client.query(
        shop, "OrderForAction", q.ORDER_FOR_ACTION, {"id": gid("Order", number)}, deadline, estimate=q.ORDER_FOR_ACTION_COST
    )
    order = data.get("order")
    if not order:
        raise not_found(f"Shopify has no order {number}")
    if number_of((order.get("customer") or {}).get("id")) != customer_id:
        raise not_found(f"order {order.get('name') or number} is not an order of this customer")
    return order


def refund_lines(order: dict[str, Any], name: str, params: dict[str, str]) -> list[tuple[str, int]]:
    """(line id, quantity) to refund: those ``params.lines`` names (each on the order, never more
    than is left), else every line with something left to refund."""
    refundable = {number_of(l["id"]): int(l.get("refundableQuantity") or 0) for l in (order.get("lineItems") or {}).get("nodes") or []}
    try:
        wanted = parse_lines(params.get("lines", ""))
    except ValueError as exc:
        raise invalid_argument("the lines are not line_id:quantity", {"params.lines": str(exc)}) from None
    if not wanted:
        wanted = [(line, qty) for line, qty in refundable.items() if qty > 0]
        if not wanted:
            raise failed_precondition(f"order {name} has nothing left to refund")
    for line, qty in wanted:
        if line not in refundable:
            raise invalid_argument("the lines are not on this order", {"params.lines": f"line {line} is not on order {name}"})
        if qty > refundable[line]:
            raise failed_precondition(f"line {line} of order {name} has {refundable[line]} left to refund, not {qty}")
    return wanted


def refund_input_of(
    order: dict[str, Any], params: dict[str, str], lines: list[dict[str, Any]], suggested: dict[str, Any]
) -> dict[str, Any]:
    """RefundInput: the lines, and the suggested transactions' amounts. An order paid in another
    currency than the shop's is refunded in that currency, named in the input (Shopify requires
    it then), with the transactions' amounts in it."""
    presentment = order.get("presentmentCurrencyCode") or order.get("currencyCode")
    side = "presentmentMoney" if presentment and presentment != order.get("currencyCode") else "shopMoney"
    transactions = [
        {
            "orderId": order["id"],
            "parentId": (t.get("parentTransaction") or {}).get("id"),
            "gateway": t["gateway"],
            "kind": "REFUND",
            "amount": ((t.get("amountSet") or {}).get(side) or {}).get("amount"),
        }
        for t in suggested.get("suggestedTransactions") or []
        if t.get("gateway")
    ]
    refund_input = {
        "orderId": order["id"],
        "note": params.get("reason", "").strip() or None,
        "notify": False,
        "refundLineItems": [{**line, "restockType": "NO_RESTOCK"} for line in lines],
        "transactions": transactions,
    }
    if side == "presentmentMoney":
        refund_input["currency"] = presentment
    return refund_input


async def refund(
    client: ShopifyClient, shop: Shop, order: dict[str, Any], params: dict[str, str], deadline: Deadline
) -> lookup_pb2.RunActionResponse:
    name = order.get("name") or number_of(order["id"])
    if order.get("cancelledAt") and order.get("displayFinancialStatus") in ("REFUNDED", "VOIDED"):
        raise failed_precondition(f"order {name} is cancelled and refunded; there is nothing to refund")
    lines = [{"lineItemId": gid("LineItem", line), "quantity": qty} for line, qty in refund_lines(order, name, params)]
    suggested = (
        await client.query(
            shop,
            "SuggestedRefund",
            q.SUGGESTED_REFUND,
            {"id": order["id"], "lines": lines, "full": False},
            deadline,
            estimate=q.SUGGESTED_REFUND_COST,
        )
    ).get("order", {}).get("suggestedRefund") or {}
    refund_input = refund_input_of(order, params, lines, suggested)
    answer = (
        await client.query(shop, "RefundCreate", q.REFUND_CREATE, {"input": refund_input}, deadline, estimate=q.MUTATION_COST, write=True)
    ).get("refundCreate") or {}
    if answer.get("userErrors"):
        raise _refusal("the refund", answer["userErrors"])
    done = answer.get("refund") or {}
    said, result = refunded(done.get("totalRefundedSet") or suggested.get("amountSet"))
    return lookup_pb2.RunActionResponse(
        message=f"Refunded {said} on order {name}", result={"refund_id": number_of(done.get("id")), **result}
    )


async def cancel(
    client: ShopifyClient, shop: Shop, order: dict[str, Any], params: dict[str, str], deadline: Deadline
) -> lookup_pb2.RunActionResponse:
    name = order.get("name") or number_of(order["id"])
    if order.get("cancelledAt"):
        raise failed_precondition(f"order {name} is already cancelled")
    variables = {
        "orderId": order["id"],
        "reason": params.get("reason") or "CUSTOMER",
        "refund": flag(CANCEL, params, "refund"),
        "restock": flag(CANCEL, params, "restock"),
        "notify": flag(CANCEL, params, "notify_customer"),
        "note": "Cancelled from linkmesh",
    }
    answer = (await client.query(shop, "OrderCancel", q.ORDER_CANCEL, variables, deadline, estimate=q.MUTATION_COST, write=True)).get(
        "orderCancel"
    ) or {}
    if answer.get("orderCancelUserErrors"):
        raise _refusal(f"to cancel order {name}", answer["orderCancelUserErrors"])
    job = answer.get("job") or {}
    return lookup_pb2.RunActionResponse(
        message=f"Shopify accepted the cancellation of order {name}; it is carried out in the background, refresh to see it cancelled",
        result={"status": "accepted", "job_id": number_of(job.get("id")), "refund": str(variables["refund"]).lower()},
    )


async def create_discount_code(
    client: ShopifyClient, shop: Shop, params: dict[str, str], key: str, deadline: Deadline
) -> lookup_pb2.RunActionResponse:
    kind = params["type"]
    try:
        amount = parse_amount(params.get("amount", ""))
    except (ValueError, ArithmeticError):
        raise invalid_argument("give the discount's amount", {"params.amount": "must be a positive amount"}) from None
    if amount <= 0 or (kind == "percentage" and amount > 100):
        raise invalid_argument(
            "the amount is out of range",
            {"params.amount": "must be from 1 to 100 for a percentage" if kind == "percentage" else "must be more than 0"},
        )
    value: dict[str, Any] = (
        {"percentage": float(amount / Decimal(100))}
        if kind == "percentage"
        else {"discountAmount": {"amount": str(amount), "appliesOnEachItem": False}}
    )
    code = params.get("code", "").strip() or code_for_key(key)  # found again by its key after a lost answer
    discount = {
        "title": f"linkmesh {code}",
        "code": code,
        "startsAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "usageLimit": int(params.get("max_uses") or 1),
        "appliesOncePerCustomer": True,
        "customerSelection": {"all": True},
        "customerGets": {"value": value, "items": {"all": True}},
    }
    answer = (
        await client.query(
            shop, "DiscountCodeCreate", q.DISCOUNT_CODE_CREATE, {"discount": discount}, deadline, estimate=q.MUTATION_COST, write=True
        )
    ).get("discountCodeBasicCreate") or {}
    errors = answer.get("userErrors") or []
    if any(e.get("code") == "TAKEN" for e in errors):
        raise failed_precondition(f"the discount code {code} already exists in Shopify")
    if errors:
        raise _refusal("the discount code", errors)
    node = answer.get("codeDiscountNode") or {}
    summary = str((node.get("codeDiscount") or {}).get("summary") or "")
    return lookup_pb2.RunActionResponse(
        message=f"Discount code {code} created" + (f": {summary}" if summary else ""),
        result={"code": code, "discount_id": number_of(node.get("id"))},
    )


async def run(client: ShopifyClient, shop: Shop, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
    params = dict(request.params)
    if request.action == "create_discount_code":
        return await create_discount_code(client, shop, params, request.idempotency_key, deadline)
    order = await owned_order(client, shop, request.external_customer_id.strip(), request.order_id, deadline)
    if request.action == "refund":
        return await refund(client, shop, order, params, deadline)
    if request.action == "cancel":
        return await cancel(client, shop, order, params, deadline)
    raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"Shopify has no action {request.action!r}")
