"""The BigCommerce connector's webhooks over real gRPC against the sandbox over real HTTP (issue 34):
Subscribe makes one hook per scope, with a token header only this app's deliveries carry, and
nothing twice; a hook BigCommerce turned off is turned on again; a delivery is read only when it
carries the token, and names the order or customer that changed; Unsubscribe removes them all."""

from __future__ import annotations

import json

import aiohttp
import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce.webhooks import SCOPES, TOKEN_HEADER
from linkmesh_sandboxes.bigcommerce import data
from tests.inprocess import bigcommerce_app, bigcommerce_connector, bigcommerce_sandbox
from tests.test_bigcommerce_hooks_sandbox import AUTH
from tests.test_shopify_connector import rpc_error
from tests.test_shopify_webhooks_sandbox import arrived, receiver


async def test_subscribe_makes_each_scope_once_turns_a_dropped_one_on_and_unsubscribe_removes_them() -> None:
    async with (
        bigcommerce_sandbox() as sandbox,
        receiver() as box,
        bigcommerce_connector() as stub,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        app = bigcommerce_app(sandbox.url)
        hooks = f"{sandbox.url}/stores/{data.STORE_HASH}/v3/hooks"
        first = await stub.Subscribe(lookup_pb2.SubscribeRequest(app=app, callback_url=box.url), timeout=10)
        assert sorted(s.topic for s in first.subscriptions) == sorted(SCOPES) and len(first.created) == len(SCOPES)
        async with http.get(hooks) as resp:
            made = (await resp.json())["data"]
        assert all(h["is_active"] and len(h["headers"][TOKEN_HEADER]) == 64 for h in made), made
        assert data.ACCESS_TOKEN not in json.dumps(made), "the token header is derived from the access token, not it"
        async with http.put(f"{hooks}/{made[0]['id']}", json={"is_active": False}) as resp:  # BigCommerce gave up on it
            assert resp.status == 200
        again = await stub.Subscribe(lookup_pb2.SubscribeRequest(app=app, callback_url=box.url), timeout=10)
        assert list(again.created) == [] and all(s.state == "active" for s in again.subscriptions), "on again, none twice"
        gone = await stub.Unsubscribe(lookup_pb2.UnsubscribeRequest(app=app, callback_url=box.url), timeout=10)
        assert sorted(gone.removed) == sorted(str(h["id"]) for h in made)
        async with http.get(hooks) as resp:
            assert (await resp.json())["data"] == []


async def test_a_delivery_is_read_when_it_carries_the_apps_token_and_names_what_changed() -> None:
    async with (
        bigcommerce_sandbox() as sandbox,
        receiver() as box,
        bigcommerce_connector() as stub,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        app = bigcommerce_app(sandbox.url)
        await stub.Subscribe(lookup_pb2.SubscribeRequest(app=app, callback_url=box.url), timeout=10)
        root = f"{sandbox.url}/stores/{data.STORE_HASH}"
        async with http.put(f"{root}/v2/orders/5003", json={"status_id": 5}) as resp:
            assert resp.status == 200
        async with http.post(f"{root}/v2/orders", json={"customer_id": 101, "products": [{"product_id": 112, "quantity": 1}]}) as resp:
            placed = await resp.json()
            assert resp.status == 201, placed
        async with http.put(f"{root}/v3/customers", json=[{"id": 101, "company": "Acme Indoor"}]) as resp:
            assert resp.status == 200
        got = await arrived(box, 4)
        changes = {}
        for headers, body in got:
            request = lookup_pb2.ReadDeliveryRequest(app=app, headers=headers, body=body, callback_url=box.url)
            changes[json.loads(body)["scope"]] = (await stub.ReadDelivery(request, timeout=5)).change
        assert set(changes) == {"store/order/statusUpdated", "store/order/updated", "store/order/created", "store/customer/updated"}
        assert changes["store/order/statusUpdated"].kind == "other", "the updated beside it tells of the change: read once"
        updated, created, customer = changes["store/order/updated"], changes["store/order/created"], changes["store/customer/updated"]
        assert (updated.order_id, updated.external_customer_id, updated.kind, updated.order_is_new) == ("5003", "", "change", False)
        assert (created.order_id, created.order_is_new) == (str(placed["id"]), True), "a new order: whose it is is asked"
        assert (customer.external_customer_id, customer.order_id) == ("101", "")
        assert updated.event_id.startswith("store/order/updated:") and updated.happened_at.seconds > 0
        again = await stub.ReadDelivery(
            lookup_pb2.ReadDeliveryRequest(app=app, headers=got[0][0], body=got[0][1], callback_url=box.url), timeout=5
        )
        assert again.change.event_id == changes[json.loads(got[0][1])["scope"]].event_id, "a retry is the same event"
        headers, body = got[0]
        for forged in ({**headers, TOKEN_HEADER: "0" * 64}, {k: v for k, v in headers.items() if k != TOKEN_HEADER}):
            request = lookup_pb2.ReadDeliveryRequest(app=app, headers=forged, body=body, callback_url=box.url)
            refused = await rpc_error(stub.ReadDelivery(request, timeout=5))
            assert refused.code == grpc.StatusCode.UNAUTHENTICATED and TOKEN_HEADER in refused.message
        elsewhere = lookup_pb2.ReadDeliveryRequest(app=app, headers=headers, body=body, callback_url=f"{box.url}/another-app")
        assert (await rpc_error(stub.ReadDelivery(elsewhere, timeout=5))).code == grpc.StatusCode.UNAUTHENTICATED, "another app's address"
