"""The BigCommerce sandbox answers as the published specs say."""

from __future__ import annotations

import aiohttp
import pytest

from linkmesh_sandboxes.bigcommerce import data
from tests.inprocess import bigcommerce_sandbox
from tests.specs import validate_vendor_response

AUTH = {"X-Auth-Token": data.ACCESS_TOKEN, "Accept": "application/json"}
CASES = [
    ("customers.v3.yml", "/customers", "/v3/customers", {"email:in": "jane.smith@example.com", "include": "addresses"}),
    ("customers.v3.yml", "/customers", "/v3/customers", {"phone:in": "415-555-0102"}),
    ("orders.v2.oas2.yml", "/orders", "/v2/orders", {"customer_id": "101", "sort": "date_created:desc", "limit": "10"}),
    ("orders.v2.oas2.yml", "/orders/5002", "/v2/orders/5002", {}),
    # The connector lists orders with their lines in their consignments (the object structure).
    (
        "orders.v2.oas2.yml",
        "/orders",
        "/v2/orders",
        {"customer_id": "101", "include": "consignments.line_items", "consignment_structure": "object"},
    ),
    ("orders.v2.oas2.yml", "/orders/5002", "/v2/orders/5002", {"include": "consignments", "consignment_structure": "object"}),
    ("orders.v2.oas2.yml", "/orders/5002/products", "/v2/orders/5002/products", {}),
    ("orders.v2.oas2.yml", "/orders/5002/shipments", "/v2/orders/5002/shipments", {}),
    ("products_catalog.v3.yml", "/catalog/products", "/v3/catalog/products", {"id:in": "111,112", "include_fields": "custom_url"}),
    ("store_information.v2.yml", "/store", "/v2/store", {}),
    ("customers.v2.yml", "/customer_groups/2", "/v2/customer_groups/2", {}),
]


@pytest.mark.parametrize(("spec", "spec_path", "path", "params"), CASES)
async def test_responses_match_the_published_spec(spec: str, spec_path: str, path: str, params: dict[str, str]) -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.url}/stores/{data.STORE_HASH}{path}", params=params, headers=AUTH) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
    assert body, "the demo data must make this answer non-empty"
    validate_vendor_response(f"bigcommerce/{spec}", spec_path, "get", 200, body)


async def test_empty_v2_list_is_204_with_an_empty_body() -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/orders", params={"customer_id": "104"}, headers=AUTH) as resp:
            assert resp.status == 204
            assert await resp.read() == b""
        async with http.get(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/orders/5003/shipments", headers=AUTH) as resp:
            assert resp.status == 204


async def test_auth_errors_use_the_v2_and_v3_error_shapes() -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        bad = {"X-Auth-Token": "wrong", "Accept": "application/json"}
        async with http.get(f"{sandbox.url}/stores/{data.STORE_HASH}/v3/customers", headers=bad) as resp:
            assert resp.status == 401
            body = await resp.json()
            assert set(body) == {"status", "title", "type", "errors"} and body["status"] == 401
        async with http.get(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/store", headers=bad) as resp:
            assert resp.status == 401
            body = await resp.json()
            assert isinstance(body, list) and body[0]["status"] == 401 and body[0]["message"]


async def test_rate_limit_headers_count_down_and_429_carries_retry_after() -> None:
    async with bigcommerce_sandbox(rate_limit_quota=3, rate_limit_window_ms=10_000) as sandbox, aiohttp.ClientSession() as http:
        lefts = []
        for _ in range(3):
            async with http.get(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/store", headers=AUTH) as resp:
                assert resp.status == 200
                assert resp.headers["X-Rate-Limit-Requests-Quota"] == "3"
                assert resp.headers["X-Rate-Limit-Time-Window-Ms"] == "10000"
                lefts.append(int(resp.headers["X-Rate-Limit-Requests-Left"]))
        assert lefts == [2, 1, 0]
        async with http.get(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/store", headers=AUTH) as resp:
            assert resp.status == 429
            assert int(resp.headers["X-Retry-After"]) >= 1
            assert 0 < int(resp.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 10_000


async def test_customer_filters_follow_bigcommerce_semantics() -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        base = f"{sandbox.url}/stores/{data.STORE_HASH}/v3/customers"
        async with http.get(base, params={"phone:in": "415-555-0102"}, headers=AUTH) as resp:
            ids = sorted(c["id"] for c in (await resp.json())["data"])
        assert ids == [102, 103], "two customers share this phone"
        async with http.get(base, params={"phone:in": "+14155550102"}, headers=AUTH) as resp:
            assert (await resp.json())["data"] == [], "phone:in compares the stored string exactly"
        async with http.get(base, params={"email:in": "JANE.SMITH@example.com"}, headers=AUTH) as resp:
            body = await resp.json()
            assert [c["id"] for c in body["data"]] == [101]
            assert "addresses" not in body["data"][0], "addresses only with include=addresses"
        async with http.get(base, params={"id:in": "x"}, headers=AUTH) as resp:
            assert resp.status == 422
            assert "id:in" in (await resp.json())["errors"]


async def test_orders_sort_by_date_and_page() -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        url = f"{sandbox.url}/stores/{data.STORE_HASH}/v2/orders"
        async with http.get(url, params={"customer_id": "1001", "sort": "date_created:desc", "limit": "10"}, headers=AUTH) as resp:
            orders = await resp.json()
        assert len(orders) == 10
        from email.utils import parsedate_to_datetime

        dates = [parsedate_to_datetime(o["date_created"]) for o in orders]
        assert dates == sorted(dates, reverse=True)
        async with http.get(url, params={"sort": "bogus:desc"}, headers=AUTH) as resp:
            assert resp.status == 400


async def test_knobs_inject_failures_latency_and_log_requests() -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        url = f"{sandbox.url}/stores/{data.STORE_HASH}/v2/store"
        async with http.post(f"{sandbox.url}/__sandbox/knobs", json={"fail": {"status": 503, "count": 1}}) as resp:
            assert resp.status == 200
        async with http.get(url, headers=AUTH) as resp:
            assert resp.status == 503
        async with http.get(url, headers=AUTH) as resp:
            assert resp.status == 200
        async with http.post(f"{sandbox.url}/__sandbox/knobs", json={"nonsense": 1}) as resp:
            assert resp.status == 422
        async with http.get(f"{sandbox.url}/__sandbox/requests") as resp:
            assert [r["path"] for r in await resp.json()] == [f"/stores/{data.STORE_HASH}/v2/store"] * 2


async def test_customers_can_be_created_and_updated_as_bigcommerce_does() -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        url = f"{sandbox.url}/stores/{data.STORE_HASH}/v3/customers"
        new = [
            {
                "email": "new.person@example.com",
                "first_name": "New",
                "last_name": "Person",
                "phone": "555-0000",
                "addresses": [{"address1": "1 Way", "city": "Reno", "country_code": "US", "first_name": "New", "last_name": "Person"}],
            }
        ]
        async with http.post(url, json=new, headers=AUTH) as resp:
            assert resp.status == 200, await resp.text()
            created = (await resp.json())["data"][0]
        validate_vendor_response("bigcommerce/customers.v3.yml", "/customers", "post", 200, {"data": [created], "meta": {}})
        async with http.post(url, json=new, headers=AUTH) as resp:
            assert resp.status == 422, "emails are unique per store"
        async with http.post(url, json=[{"email": "x@example.com"}], headers=AUTH) as resp:
            assert resp.status == 422 and set((await resp.json())["errors"]) == {"[0].first_name", "[0].last_name"}
        async with http.put(url, json=[{"id": created["id"], "first_name": "Renamed"}], headers=AUTH) as resp:
            assert resp.status == 200
        async with http.get(url, params={"id:in": str(created["id"]), "include": "addresses"}, headers=AUTH) as resp:
            body = (await resp.json())["data"][0]
        assert body["first_name"] == "Renamed" and body["addresses"][0]["city"] == "Reno"


async def test_action_endpoints_match_the_spec_and_never_refund_more_than_was_paid() -> None:
    async with bigcommerce_sandbox() as sandbox, aiohttp.ClientSession() as http:
        v3 = f"{sandbox.url}/stores/{data.STORE_HASH}/v3/orders/5001/payment_actions"
        items = [{"item_type": "PRODUCT", "item_id": 500102, "quantity": 2}]
        async with http.post(f"{v3}/refund_quotes", json={"items": items}, headers=AUTH) as resp:
            assert resp.status == 201
            quote = await resp.json()
        validate_vendor_response("bigcommerce/orders.v3.yml", "/orders/{order_id}/payment_actions/refund_quotes", "post", 201, quote)
        amount = quote["data"]["total_refund_amount"]
        assert amount == 29.0
        too_much = [{"provider_id": "checkout_stripe", "amount": 500.0, "offline": False}]
        async with http.post(f"{v3}/refunds", json={"items": items, "payments": too_much}, headers=AUTH) as resp:
            assert resp.status == 422 and "exceeds" in (await resp.json())["data"][0]["error"]
        payments = [{"provider_id": "checkout_stripe", "amount": amount, "offline": False}]
        async with http.post(f"{v3}/refunds", json={"items": items, "payments": payments}, headers=AUTH) as resp:
            assert resp.status == 201
            refund = await resp.json()
        validate_vendor_response("bigcommerce/orders.v3.yml", "/orders/{order_id}/payment_actions/refunds", "post", 201, refund)
        async with http.post(
            f"{v3}/refund_quotes", json={"items": [{"item_type": "PRODUCT", "item_id": 500102, "quantity": 2}]}, headers=AUTH
        ) as resp:
            assert resp.status == 422, "only one of three is left to refund"
        async with http.put(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/orders/5003", json={"status_id": 5}, headers=AUTH) as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "Cancelled"
        coupon = {
            "name": "t",
            "code": "SAVE10",
            "type": "percentage_discount",
            "amount": "10",
            "applies_to": {"entity": "categories", "ids": [0]},
        }
        async with http.post(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/coupons", json=coupon, headers=AUTH) as resp:
            assert resp.status == 201
            created = await resp.json()
        validate_vendor_response("bigcommerce/marketing.v2.yml", "/coupons", "post", 201, created)
        async with http.post(f"{sandbox.url}/stores/{data.STORE_HASH}/v2/coupons", json=coupon, headers=AUTH) as resp:
            assert resp.status == 409
