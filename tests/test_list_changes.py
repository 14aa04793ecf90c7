"""What changed since a time, as each vendor's own "updated since" filter says it (issue 34's
reconciliation sweep), over real gRPC against the sandboxes over real HTTP: a change made through
the vendor's API after the time is listed, oldest first, naming whose it is and when (never
before the change); nothing older is; pages follow by their token; a vendor with no such filter
says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_sandboxes.bigcommerce import data as bc_data
from linkmesh_sandboxes.magento import data as magento_data
from linkmesh_sandboxes.shopify.app import create_app
from tests.inprocess import (
    bigcommerce_app,
    bigcommerce_connector,
    bigcommerce_sandbox,
    magento_app,
    magento_connector,
    magento_sandbox,
    returnlogic_app,
    returnlogic_connector,
    running,
)
from tests.test_bigcommerce_hooks_sandbox import AUTH as BC_AUTH
from tests.test_shopify_connector import rpc_error, shopify_app, shopify_connector
from tests.test_shopify_webhooks_sandbox import CANCEL, graphql


def moments_ago(seconds: float = 2.0) -> tuple[datetime, Timestamp]:
    at = datetime.now(UTC) - timedelta(seconds=seconds)
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return at, stamp


def listed(answer: lookup_pb2.ListChangesResponse) -> list[tuple[str, str]]:
    return [(c.order_id, c.external_customer_id) for c in answer.changes]


async def test_bigcommerce_lists_orders_modified_since_a_time_page_by_page() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub, aiohttp.ClientSession(headers=BC_AUTH) as http:
        app, (before, since) = bigcommerce_app(sandbox.url), moments_ago()
        root = f"{sandbox.url}/stores/{bc_data.STORE_HASH}"
        for order in ("5005", "5003"):
            async with http.put(f"{root}/v2/orders/{order}", json={"status_id": 5}) as resp:
                assert resp.status == 200
            await asyncio.sleep(1.05)  # whole seconds: one after the other
        first = await stub.ListChanges(lookup_pb2.ListChangesRequest(app=app, since=since, limit=1), timeout=10)
        assert listed(first) == [("5005", "103")] and first.next_page_token == "2", "the least recently modified first"
        rest = await stub.ListChanges(lookup_pb2.ListChangesRequest(app=app, since=since, limit=1, page_token="2"), timeout=10)
        assert listed(rest) == [("5003", "101")]
        change = rest.changes[0]
        assert change.kind == "change" and change.event_id.startswith("order/5003@") and change.happened_at.ToDatetime(tzinfo=UTC) > before
        later = Timestamp()
        later.FromDatetime(datetime.now(UTC) + timedelta(minutes=1))
        assert listed(await stub.ListChanges(lookup_pb2.ListChangesRequest(app=app, since=later), timeout=10)) == []


async def test_shopify_lists_orders_updated_since_a_time() -> None:
    async with running(create_app(cancel_delay_s=0.01)) as sandbox, shopify_connector() as stub:
        app, (before, since) = shopify_app(sandbox.url), moments_ago()
        await graphql(sandbox, CANCEL, {"id": "gid://shopify/Order/5102"})
        await asyncio.sleep(0.2)  # the cancel is a job: it lands a moment later
        answer = await stub.ListChanges(lookup_pb2.ListChangesRequest(app=app, since=since), timeout=10)
        assert listed(answer) == [("5102", "7001")] and answer.next_page_token == "", listed(answer)
        assert answer.changes[0].happened_at.ToDatetime(tzinfo=UTC) > before


async def test_magento_lists_orders_updated_since_a_time() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub, aiohttp.ClientSession() as http:
        app, (before, since) = magento_app(sandbox.url), moments_ago()
        headers = {"Authorization": f"Bearer {magento_data.ACCESS_TOKEN}"}
        async with http.post(f"{sandbox.url}/rest/default/V1/orders/102/cancel", headers=headers) as resp:
            assert resp.status == 200 and await resp.json() is True
        answer = await stub.ListChanges(lookup_pb2.ListChangesRequest(app=app, since=since), timeout=10)
        assert len(answer.changes) == 1 and answer.next_page_token == "", listed(answer)
        change = answer.changes[0]
        assert change.external_customer_id and change.order_id and change.happened_at.ToDatetime(tzinfo=UTC) > before


async def test_a_vendor_with_no_such_filter_says_so() -> None:
    async with returnlogic_connector() as stub:
        request = lookup_pb2.ListChangesRequest(app=returnlogic_app("http://127.0.0.1:9"), since=moments_ago()[1])
        refused = await rpc_error(stub.ListChanges(request, timeout=5))
    assert refused.code == grpc.StatusCode.UNIMPLEMENTED and "offers no list of what changed" in refused.message
