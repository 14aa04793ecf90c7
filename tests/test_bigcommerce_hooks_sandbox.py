"""The BigCommerce sandbox's webhooks (issue 34): hooks made, listed and removed through
/v3/hooks as BigCommerce's Webhooks v3 reference says; a status change made through its API is
delivered to each active hook whose scope matches (store/order/* matches every order scope),
with the hook's custom headers (how a receiver knows it is the store's) and the data's hash."""

from __future__ import annotations

import hashlib
import json

import aiohttp

from linkmesh_sandboxes.bigcommerce import data
from tests.inprocess import bigcommerce_sandbox
from tests.test_shopify_webhooks_sandbox import arrived, receiver

AUTH = {"X-Auth-Token": data.ACCESS_TOKEN, "Accept": "application/json", "Content-Type": "application/json"}


async def test_a_status_change_is_delivered_with_the_hooks_own_headers() -> None:
    async with bigcommerce_sandbox() as sandbox, receiver() as box, aiohttp.ClientSession(headers=AUTH) as http:
        hooks = f"{sandbox.url}/stores/{data.STORE_HASH}/v3/hooks"
        made = {"scope": "store/order/*", "destination": box.url, "is_active": True, "headers": {"X-Linkmesh-Secret": "s3cret"}}
        async with http.post(hooks, json=made) as resp:
            hook = (await resp.json())["data"]
            assert resp.status == 200 and hook["scope"] == "store/order/*" and hook["headers"] == {"X-Linkmesh-Secret": "s3cret"}
        async with http.post(hooks, json={**made, "destination": "http://hooks.example.com/x"}) as resp:
            assert resp.status == 422 and "port 443" in (await resp.json())["title"]
        async with http.get(hooks, params={"destination": box.url}) as resp:
            assert [h["id"] for h in (await resp.json())["data"]] == [hook["id"]]
        async with http.put(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/orders/5003", json={"status_id": 5}) as resp:
            assert resp.status == 200
        got = await arrived(box, 2)
        scopes = sorted(json.loads(body)["scope"] for _, body in got)
        assert scopes == ["store/order/statusUpdated", "store/order/updated"], scopes
        for headers, body in got:
            payload = json.loads(body)
            assert headers["X-Linkmesh-Secret"] == "s3cret", "the hook's own headers come back"
            assert payload["data"]["id"] == 5003 and payload["producer"] == f"stores/{data.STORE_HASH}"
            assert payload["hash"] == hashlib.sha1(json.dumps(payload["data"], sort_keys=True).encode()).hexdigest()
        status = next(json.loads(b)["data"]["status"] for _, b in got if json.loads(b)["scope"].endswith("statusUpdated"))
        assert status == {"previous_status_id": 11, "new_status_id": 5}, "Awaiting Fulfillment (11) to Cancelled (5)"
        async with http.delete(f"{hooks}/{hook['id']}") as resp:
            assert resp.status == 200
        async with http.get(hooks) as resp:
            assert (await resp.json())["data"] == []
