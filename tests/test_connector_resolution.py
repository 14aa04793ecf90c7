"""Each connector reads back from the vendor's own record whether an action took effect:
conservatively (made after the dispatch, same order and lines), never by sending it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.timestamps import from_datetime
from linkmesh_sandboxes.magento.app import SHOP
from linkmesh_sandboxes.shopify.app import SHOP as SHOPIFY_SHOP
from tests.inprocess import (
    bigcommerce_app,
    bigcommerce_connector,
    bigcommerce_sandbox,
    lookup_adaptor_app,
    lookup_adaptor_connector,
    lookup_adaptor_sandbox,
    magento_app,
    magento_connector,
    magento_sandbox,
    returnlogic_app,
    returnlogic_connector,
    returnlogic_sandbox,
)
from tests.test_shopify_connector import shopify_app, shopify_connector, shopify_sandbox

R = lookup_pb2.ResolveActionResponse.Resolution


def resolve(
    app: lookup_pb2.AppContext, action: str, customer: str, order: str = "", at: datetime | None = None, **params: str
) -> lookup_pb2.ResolveActionRequest:
    return lookup_pb2.ResolveActionRequest(
        app=app,
        action=action,
        external_customer_id=customer,
        order_id=order,
        params=params,
        idempotency_key="6b01:key-1",
        dispatched_at=from_datetime(at or datetime.now(UTC)),
    )


def run(app: lookup_pb2.AppContext, action: str, customer: str, order: str = "", **params: str) -> lookup_pb2.RunActionRequest:
    return lookup_pb2.RunActionRequest(
        app=app, action=action, external_customer_id=customer, order_id=order, params=params, idempotency_key="6b01:key-1"
    )


async def test_bigcommerce_reads_refunds_status_and_coupons() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app, sent = bigcommerce_app(sandbox.url), datetime.now(UTC)
        assert (await stub.ResolveAction(resolve(app, "refund", "101", "5001", sent, lines="500102:1"))).resolution == R.NOT_APPLIED
        await stub.RunAction(run(app, "refund", "101", "5001", lines="500102:1"))
        found = await stub.ResolveAction(resolve(app, "refund", "101", "5001", sent, lines="500102:1"))
        assert found.resolution == R.APPLIED and found.message == "Refunded 14.50 USD on order 5001" and found.result["refund_id"]
        other_lines = await stub.ResolveAction(resolve(app, "refund", "101", "5001", sent, lines="500101:1"))
        assert other_lines.resolution == R.NOT_APPLIED, "a refund of other lines is not this one"
        later = await stub.ResolveAction(resolve(app, "refund", "101", "5001", sent + timedelta(minutes=5), lines="500102:1"))
        assert later.resolution == R.NOT_APPLIED, "a refund made before the dispatch is not this one"
        discount = resolve(app, "create_discount_code", "101", "", sent, type="percentage_discount", amount="5")
        assert (await stub.ResolveAction(discount)).resolution == R.NOT_APPLIED
        await stub.RunAction(run(app, "create_discount_code", "101", "", type="percentage_discount", amount="5"))
        made = await stub.ResolveAction(discount)
        assert made.resolution == R.APPLIED and made.result["code"].startswith("LM-"), "the generated code is the key's"
        assert (await stub.ResolveAction(resolve(app, "cancel", "101", "5002", sent))).resolution == R.NOT_APPLIED
        sandbox_calls = [r for r in sandbox.requests if r["method"] != "GET"]
        assert len([r for r in sandbox_calls if r["path"].endswith("/payment_actions/refunds")]) == 1, "reads only"


async def test_magento_reads_credit_memos_and_state() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        app, sent = magento_app(sandbox.url), datetime.now(UTC)
        shop = sandbox.app[SHOP]
        placed = next(o for o in shop.orders.values() if o["state"] != "canceled" and any(i["qty_invoiced"] for i in o["items"]))
        customer, order = str(placed["customer_id"]), str(placed["entity_id"])
        item = next(i["item_id"] for i in placed["items"] if i["qty_invoiced"] and not i.get("parent_item_id"))
        ask = resolve(app, "refund", customer, order, sent, lines=f"{item}:1")
        assert (await stub.ResolveAction(ask)).resolution == R.NOT_APPLIED
        await stub.RunAction(run(app, "refund", customer, order, lines=f"{item}:1"))
        found = await stub.ResolveAction(ask)
        assert found.resolution == R.APPLIED and found.result["creditmemo_id"], found
        coupon = await stub.ResolveAction(resolve(app, "generate_coupon", customer, "", sent))
        assert coupon.resolution == R.UNDETERMINED, "a random code cannot be told apart"


async def test_returnlogic_says_whether_a_return_was_started() -> None:
    async with returnlogic_sandbox() as sandbox, returnlogic_connector() as stub:
        answer = await stub.ResolveAction(resolve(returnlogic_app(sandbox.url), "start_return", "jane.smith@example.com", "1001"))
        assert answer.resolution == R.NOT_APPLIED


async def test_a_lookup_adaptor_cannot_be_asked() -> None:
    async with lookup_adaptor_sandbox() as sandbox, lookup_adaptor_connector() as stub:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ResolveAction(resolve(lookup_adaptor_app(sandbox.url), "Pause subscription", "m-1"))
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_shopify_reads_its_refunds_cancellation_and_discount_by_code() -> None:
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        app, sent = shopify_app(sandbox.url), datetime.now(UTC)
        jacket = str(sandbox.app[SHOPIFY_SHOP].orders[5102].lines[0].id)
        ask = resolve(app, "refund", "7001", "5102", sent, lines=f"{jacket}:1")
        assert (await stub.ResolveAction(ask)).resolution == R.NOT_APPLIED
        await stub.RunAction(run(app, "refund", "7001", "5102", lines=f"{jacket}:1"))
        found = await stub.ResolveAction(ask)
        assert found.resolution == R.APPLIED and found.message.startswith("Refunded") and found.result["refund_id"], found
        discount = resolve(app, "create_discount_code", "7001", "", sent, type="percentage", amount="10")
        assert (await stub.ResolveAction(discount)).resolution == R.NOT_APPLIED
        await stub.RunAction(run(app, "create_discount_code", "7001", "", type="percentage", amount="10"))
        assert (await stub.ResolveAction(discount)).resolution == R.APPLIED
        cancel = resolve(app, "cancel", "7001", "5101", sent, reason="CUSTOMER")
        assert (await stub.ResolveAction(cancel)).resolution == R.UNDETERMINED, "a background job: not cancelled yet is never 'not applied'"


async def test_shopify_lines_link_their_product_and_returns_show_their_items() -> None:
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        fetched = await stub.Fetch(lookup_pb2.FetchRequest(app=shopify_app(sandbox.url), external_id="7001"))
        lines = [line for o in fetched.customer.orders for line in o.lines]
        assert lines and all(line.product_url.startswith("https://") and "/products/" in line.product_url for line in lines)
        returned = next(r for r in fetched.customer.returns if r.code == "#1001-R1")
        assert [(i.name, i.quantity, i.reason) for i in returned.items] == [("Trail Runner Shoe", 1, "size too small")], returned
