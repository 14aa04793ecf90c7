"""Magento order actions: cancel, refund (a credit memo for chosen items and
quantities) and a coupon code generated for the app's cart price rule."""

from __future__ import annotations

from decimal import Decimal

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.actions import flag, form_field, parse_lines, spec_of
from linkmesh_core.errors import ServiceError, failed_precondition, invalid_argument, not_found
from linkmesh_core.money import decimal_string, to_decimal
from linkmesh_core.vendor_http import Deadline
from linkmesh_magento.client import MagentoClient, Shop

ACTIONS = [
    lookup_pb2.ActionSpec(
        name="cancel",
        label="Cancel order",
        order_required=True,
        fields=[],
        effect="Cancels the order in Magento. Only an order not yet invoiced can be: nothing was charged, nothing is refunded.",
    ),
    lookup_pb2.ActionSpec(
        name="refund",
        label="Refund order (credit memo)",
        effect="Refunds the chosen invoiced items with a credit memo, to the original payment where Magento can.",
        order_required=True,
        fields=[
            form_field("lines", "Items to refund", "lines", hint="Every invoiced item not refunded yet unless you choose"),
            form_field("notify", "Email the customer", "boolean", default=False, hint="Magento's credit memo email"),
        ],
    ),
    lookup_pb2.ActionSpec(
        name="generate_coupon",
        label="Generate coupon code",
        order_required=False,
        fields=[],
        effect="Generates one code of the cart price rule the app names; the rule decides the discount.",
    ),
]

REFUND = spec_of(ACTIONS, "refund")


def _refusal(what: str, err: ServiceError) -> ServiceError:
    if err.code == grpc.StatusCode.INVALID_ARGUMENT:  # Magento's 400: a refusal, in its own words
        return failed_precondition(f"Magento refused {what}: {err.message.split(': ', 1)[-1]}")
    return err


async def owned_order(client: MagentoClient, shop: Shop, customer_id: str, order_id: str, deadline: Deadline) -> dict:
    if not order_id.strip().isdigit():
        raise invalid_argument("order_id must be a Magento order id", {"order_id": "must be the order's entity id (a number)"})
    try:
        order = await client.order(shop, order_id.strip(), deadline)
    except ServiceError as err:
        if err.code == grpc.StatusCode.NOT_FOUND:
            raise not_found(f"Magento has no order {order_id}") from None
        raise
    if str(order.get("customer_id")) != customer_id:
        raise not_found(f"order {order_id} is not an order of this customer")
    return order


async def cancel(client: MagentoClient, shop: Shop, order: dict, deadline: Deadline) -> lookup_pb2.RunActionResponse:
    number = order.get("increment_id") or order["entity_id"]
    if order.get("state") == "canceled":
        raise failed_precondition(f"order {number} is already cancelled")
    if not await client.cancel(shop, str(order["entity_id"]), deadline):
        raise failed_precondition(f"Magento cannot cancel order {number}: it has shipped or is {order.get('state', 'closed')}")
    return lookup_pb2.RunActionResponse(message=f"Order {number} cancelled", result={"state": "canceled"})


def refund_estimate(lines: dict[str, dict], wanted: list[tuple[str, int]]) -> Decimal:
    """What the chosen items cost, in exact decimals."""
    return sum((to_decimal(lines[iid].get("price_incl_tax") or lines[iid].get("price")) * qty for iid, qty in wanted), Decimal(0))


async def refund(
    client: MagentoClient, shop: Shop, order: dict, params: dict[str, str], deadline: Deadline
) -> lookup_pb2.RunActionResponse:
    number = order.get("increment_id") or order["entity_id"]
    lines = {str(i["item_id"]): i for i in order.get("items") or [] if not i.get("parent_item_id")}
    wanted = parse_lines(params.get("lines", ""))
    if not wanted:
        left = {iid: to_decimal(i.get("qty_invoiced")) - to_decimal(i.get("qty_refunded")) for iid, i in lines.items()}
        wanted = [(iid, int(qty)) for iid, qty in left.items() if qty >= 1]
        if not wanted:
            raise failed_precondition(f"order {number} has nothing invoiced left to refund")
    unknown = [iid for iid, _ in wanted if iid not in lines]
    if unknown:
        raise invalid_argument("the items are not on this order", {"params.lines": f"item {unknown[0]} is not on order {number}"})
    items = [{"order_item_id": int(iid), "qty": qty} for iid, qty in wanted]
    try:
        memo = await client.refund(shop, str(order["entity_id"]), items, deadline, notify=flag(REFUND, params, "notify"))
    except ServiceError as err:
        raise _refusal("the refund", err) from None
    # The amount Magento refunded, from its credit memo; our own sum only if the memo cannot be read now.
    try:
        amount = decimal_string((await client.creditmemo(shop, memo, deadline)).get("grand_total"))
    except ServiceError:
        amount = decimal_string(refund_estimate(lines, wanted))
    currency = order.get("order_currency_code") or ""
    return lookup_pb2.RunActionResponse(
        message=f"Refunded {amount} {currency} on order {number} (credit memo {memo})",
        result={"creditmemo_id": str(memo), "amount": amount, "currency": currency},
    )


async def generate_coupon(client: MagentoClient, shop: Shop, rule_setting: str, deadline: Deadline) -> lookup_pb2.RunActionResponse:
    if not rule_setting.strip().isdigit():
        raise failed_precondition("set the app's coupon_rule_id (a cart price rule that allows coupon auto-generation) to generate codes")
    try:
        code = await client.generate_coupon(shop, int(rule_setting), deadline)
    except ServiceError as err:
        raise _refusal("the coupon", err) from None
    return lookup_pb2.RunActionResponse(message=f"Coupon code {code} generated", result={"code": code, "rule_id": rule_setting.strip()})


async def run(client: MagentoClient, shop: Shop, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
    if request.action == "generate_coupon":
        return await generate_coupon(client, shop, request.app.settings.get("coupon_rule_id", ""), deadline)
    order = await owned_order(client, shop, request.external_customer_id.strip(), request.order_id, deadline)
    if request.action == "cancel":
        return await cancel(client, shop, order, deadline)
    if request.action == "refund":
        return await refund(client, shop, order, dict(request.params), deadline)
    raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"Magento has no action {request.action!r}")
