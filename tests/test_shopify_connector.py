"""The Shopify connector over real gRPC against its sandbox over real HTTP; the sandbox
validates every query against Shopify's 2025-01 schema, charges its cost and throttles."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import grpc
import pytest
from graphql import parse, validate
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc

from linkmesh_core.errors import ServiceError
from linkmesh_core.sdk import LookupAdapter
from linkmesh_core.vendor_http import RetryAfter, VendorHTTP
from linkmesh_sandboxes import graphql_kit
from linkmesh_sandboxes.knobs import STATE
from linkmesh_sandboxes.shopify import cost, data
from linkmesh_sandboxes.shopify.app import BUCKET, SHOP, create_app, schema_path
from linkmesh_shopify import queries
from linkmesh_shopify.client import ShopifyClient, ShopifyErrors
from linkmesh_shopify.connector import Shopify, check_shop
from tests.inprocess import RunningSandbox, running, serving

F = lookup_pb2.LookupField
ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = {
    name: getattr(queries, name)
    for name in dir(queries)
    if name.isupper() and isinstance(getattr(queries, name), str) and getattr(queries, name).lstrip().startswith(("query", "mutation"))
}


@asynccontextmanager
async def shopify_sandbox(**kwargs: object) -> AsyncIterator[RunningSandbox]:
    async with running(create_app(**kwargs)) as sandbox:  # type: ignore[arg-type]
        yield sandbox


@asynccontextmanager
async def shopify_connector() -> AsyncIterator[lookup_pb2_grpc.LookupServiceStub]:
    http = VendorHTTP("Shopify", rate_limit=RetryAfter(), errors=ShopifyErrors(), allow_private_hosts=True)
    async with serving(http, LookupAdapter(Shopify(ShopifyClient(http)), 10.0)) as stub:
        yield stub


def shopify_app(url: str, token: str = data.ACCESS_TOKEN, shop: str = data.SHOP) -> lookup_pb2.AppContext:
    return lookup_pb2.AppContext(app_id="test-app", settings={"shop": shop, "api_base_url": url}, secrets={"access_token": token})


async def rpc_error(call) -> ServiceError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return ServiceError.from_rpc_error(info.value)


def test_the_sandbox_ships_shopifys_own_schema_and_every_connector_query_is_valid_against_it() -> None:
    published = next(
        f for f in json.loads((ROOT / "vendor-specs" / "sources.json").read_text())["files"] if f["path"].startswith("shopify/")
    )
    assert hashlib.sha256(schema_path().read_bytes()).hexdigest() == published["sha256"], "the sandbox's schema is the published one"
    schema = graphql_kit.load_schema(schema_path())
    assert DOCUMENTS and len(DOCUMENTS) >= 9
    for name, document in DOCUMENTS.items():
        assert validate(schema, parse(document)) == [], name
    # The estimates the connector starts from are what the sandbox charges (Shopify's published method).
    for name, (document, variables) in {
        "RECENT_ORDERS": (queries.RECENT_ORDERS, {"first": 10, "query": "x"}),
        "SEARCH_CUSTOMERS": (queries.SEARCH_CUSTOMERS, {"first": 10, "query": "x"}),
        "ORDERS_BY_NUMBER": (queries.ORDERS_BY_NUMBER, {"query": "x"}),
        "ORDERS_CHANGED": (queries.ORDERS_CHANGED, {"query": "x"}),
    }.items():
        doc = parse(document)
        requested, _ = cost.costs(schema, doc, doc.definitions[0], variables)  # type: ignore[arg-type]
        assert abs(requested - getattr(queries, f"{name}_COST")) <= requested * 0.1, (name, requested)


@pytest.mark.parametrize(
    "raw, shop, problem",
    [
        ("summit-outfitters.myshopify.com", "summit-outfitters.myshopify.com", None),
        (" Summit-Outfitters.MyShopify.com ", "summit-outfitters.myshopify.com", None),
        ("summit-outfitters", "", "enter the full myshopify.com name: summit-outfitters.myshopify.com"),
        (
            "https://summit-outfitters.myshopify.com/admin",
            "",
            "enter the shop's myshopify.com name (summit-outfitters.myshopify.com), not a URL",
        ),
        ("https://shop.example.com", "", "enter the shop's myshopify.com name, not a URL"),
        ("shop.example.com", "", "must be the shop's name ending in .myshopify.com, e.g. summit-outfitters.myshopify.com"),
        ("", "", "is required"),
    ],
)
def test_the_shop_setting_is_the_myshopify_name_and_a_url_or_a_missing_suffix_is_refused_naming_the_fix(
    raw: str, shop: str, problem: str | None
) -> None:
    assert check_shop(raw) == (shop, problem)


async def test_describe_and_validate_name_each_bad_field_and_prove_the_token() -> None:
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        d = await stub.Describe(lookup_pb2.DescribeRequest())
        assert d.vendor == "shopify" and set(d.capabilities.search_fields) == {
            F.LOOKUP_FIELD_EMAIL,
            F.LOOKUP_FIELD_PHONE,
            F.LOOKUP_FIELD_ORDER_NUMBER,
        }
        assert {s.name for s in d.settings if s.secret} == {"access_token", "client_secret"}
        assert (await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=shopify_app(sandbox.url)))).ok
        wrong = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=shopify_app(sandbox.url, token="shpat_nope")))
        assert [(e.field, e.message) for e in wrong.errors] == [("access_token", "Shopify refused this access token")]
        bad = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=lookup_pb2.AppContext(settings={"shop": "summit"})))
        assert {e.field for e in bad.errors} == {"shop", "access_token"}


async def test_search_by_email_phone_and_order_number_and_a_guest_order_by_its_email() -> None:
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        app = shopify_app(sandbox.url)
        by_email = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=[" Jane.Smith@EXAMPLE.com "]), timeout=5)
        assert [(c.external_id, c.name, list(c.emails), c.phones[0].number) for c in by_email.candidates] == [
            ("7001", "Jane Smith", ["jane.smith@example.com"], "+14155550101")
        ]
        by_phone = await stub.Search(lookup_pb2.SearchRequest(app=app, phones=["(212) 555-0199"]), timeout=5)
        assert [c.external_id for c in by_phone.candidates] == ["7003"]
        for number in ("#1003", "1003"):
            by_order = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number=number), timeout=5)
            assert [c.external_id for c in by_order.candidates] == ["7002"], number
        guest = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="1006"), timeout=5)
        assert [c.external_id for c in guest.candidates] == ["7001"], "a guest order's buyer found by its email"
        no_account = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="#1005"), timeout=5)
        assert list(no_account.candidates) == [], "a guest without a customer record has nothing to link"
        auto = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["jane.smith@example.com"], auto_link=True), timeout=5)
        assert len(auto.candidates) == 1
        err = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=app, order_number="10 01"), timeout=5))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "order_number" in err.fields


async def test_fetch_maps_the_customer_orders_lines_tracking_returns_refunds_and_admin_links() -> None:
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        c = (await stub.Fetch(lookup_pb2.FetchRequest(app=shopify_app(sandbox.url), external_id="7001"), timeout=5)).customer
        assert (c.name, c.first_name, list(c.emails), c.phones[0].number) == (
            "Jane Smith",
            "Jane",
            ["jane.smith@example.com"],
            "+14155550101",
        )
        assert (c.address.line1, c.address.region, c.address.country_code) == ("12 Market St", "CA", "US")
        assert {a.key: a.value for a in c.custom_attributes}["tags"] == "vip, newsletter"
        assert {a.key: a.value for a in c.custom_attributes}["note"] == "Prefers email."
        assert c.admin_url == "https://admin.shopify.com/store/summit-outfitters/customers/7001"
        assert [o.number for o in c.orders] == ["#1002", "#1001"], "newest first; the guest order #1006 is not on the account"
        first = c.orders[1]
        assert first.admin_url == "https://admin.shopify.com/store/summit-outfitters/orders/5101"
        assert (first.status, first.fulfilled, first.total.amount, first.total.currency) == ("partially refunded", True, "138.45", "USD")
        assert [(l.name, l.sku, l.quantity, l.unit_price.amount) for l in first.lines] == [
            ("Trail Runner Shoe", "TR-SHOE-42", 1, "89.95"),
            ("Merino Hiking Sock", "MER-SOCK-M", 3, "14.50"),
        ]
        assert [(s.carrier, s.tracking_number) for s in first.shipments] == [("UPS", "1Z999AA10123456784")]
        # Where the parcel is, from the fulfillment's displayStatus: delivered, and when.
        assert first.shipments[0].delivery == "delivered" and first.shipments[0].HasField("delivered_at")
        assert [(r.code, r.status, r.order_id) for r in c.returns] == [("#1001-R1", "closed", "#1001")]
        john = (await stub.Fetch(lookup_pb2.FetchRequest(app=shopify_app(sandbox.url), external_id="7002"), timeout=5)).customer
        moving = next(o for o in john.orders if o.number == "#1003").shipments[0]
        assert (moving.delivery, moving.HasField("delivered_at")) == ("in_transit", False)
        err = await rpc_error(stub.Fetch(lookup_pb2.FetchRequest(app=shopify_app(sandbox.url), external_id="9999"), timeout=5))
        assert err.code == grpc.StatusCode.NOT_FOUND


async def test_refund_uses_the_suggested_amount_and_a_refusal_comes_back_in_shopifys_words() -> None:
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        app = shopify_app(sandbox.url)
        done = await stub.RunAction(
            lookup_pb2.RunActionRequest(
                app=app, action="refund", external_customer_id="7001", order_id="5101", params={"lines": "51012:2", "reason": "Holes"}
            ),
            timeout=5,
        )
        assert done.result["amount"] == "29.00" and "Refunded 29.00 USD on order #1001" == done.message
        line = next(l for l in sandbox.app[SHOP].orders[5101].lines if l.id == 51012)
        assert line.refunded == 2 and sandbox.app[SHOP].orders[5101].refunds[-1]["note"] == "Holes"
        err = await rpc_error(
            stub.RunAction(
                lookup_pb2.RunActionRequest(
                    app=app, action="refund", external_customer_id="7001", order_id="5101", params={"lines": "51012:2"}
                ),
                timeout=5,
            )
        )
        assert err.code == grpc.StatusCode.FAILED_PRECONDITION and "1 left to refund" in err.message
        other = await rpc_error(
            stub.RunAction(lookup_pb2.RunActionRequest(app=app, action="refund", external_customer_id="7002", order_id="5101"), timeout=5)
        )
        assert other.code == grpc.StatusCode.NOT_FOUND, "an order of another customer"


async def test_an_order_paid_in_another_currency_is_refunded_in_that_currency() -> None:
    """#1007 was paid in EUR on this USD shop. Shopify requires RefundInput.currency (the
    presentment currency) for it, with the transactions' amounts in it, and refuses otherwise."""
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        app = shopify_app(sandbox.url)
        [paid] = (await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="7005"), timeout=5)).customer.orders
        assert (paid.total.amount, paid.total.currency, paid.lines[0].unit_price.currency) == ("201.00", "EUR", "EUR"), (
            "as the customer paid"
        )
        done = await stub.RunAction(
            lookup_pb2.RunActionRequest(
                app=app, action="refund", external_customer_id="7005", order_id="5107", params={"lines": "51072:1"}
            ),
            timeout=5,
        )
        assert done.message == "Refunded 13.50 EUR (14.65 USD in the shop's currency) on order #1007"
        assert {k: done.result[k] for k in ("amount", "currency", "shop_amount", "shop_currency")} == {
            "amount": "13.50",
            "currency": "EUR",
            "shop_amount": "14.65",
            "shop_currency": "USD",
        }
        assert sandbox.app[SHOP].orders[5107].refunds[-1]["amount"] == "13.50"
        async with aiohttp.ClientSession() as http:  # as Shopify answers a refund of it without the currency
            body = {
                "query": queries.REFUND_CREATE,
                "variables": {
                    "input": {
                        "orderId": "gid://shopify/Order/5107",
                        "refundLineItems": [{"lineItemId": "gid://shopify/LineItem/51071", "quantity": 1}],
                    }
                },
            }
            async with http.post(
                f"{sandbox.url}/admin/api/2025-01/graphql.json", json=body, headers={"X-Shopify-Access-Token": data.ACCESS_TOKEN}
            ) as answer:
                refused = (await answer.json())["data"]["refundCreate"]
        assert refused["refund"] is None and refused["userErrors"][0]["field"] == ["currency"]
        usd = await stub.RunAction(
            lookup_pb2.RunActionRequest(
                app=app, action="refund", external_customer_id="7001", order_id="5101", params={"lines": "51012:1"}
            ),
            timeout=5,
        )
        assert usd.message == "Refunded 14.50 USD on order #1001" and "shop_amount" not in usd.result, "one currency: said once"


async def test_cancel_is_accepted_then_done_in_the_background_and_a_second_cancel_is_refused() -> None:
    async with shopify_sandbox(cancel_delay_s=0.2) as sandbox, shopify_connector() as stub:
        app = shopify_app(sandbox.url)
        accepted = await stub.RunAction(
            lookup_pb2.RunActionRequest(
                app=app, action="cancel", external_customer_id="7001", order_id="5102", params={"reason": "CUSTOMER", "refund": "true"}
            ),
            timeout=5,
        )
        assert accepted.result["status"] == "accepted" and "background" in accepted.message
        assert sandbox.app[SHOP].orders[5102].cancelled_at is None, "Shopify's job has not run yet"
        await asyncio.sleep(0.4)
        c = (await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="7001"), timeout=5)).customer
        assert next(o for o in c.orders if o.number == "#1002").status == "cancelled"
        again = await rpc_error(
            stub.RunAction(
                lookup_pb2.RunActionRequest(
                    app=app, action="cancel", external_customer_id="7001", order_id="5102", params={"reason": "CUSTOMER"}
                ),
                timeout=5,
            )
        )
        assert again.code == grpc.StatusCode.FAILED_PRECONDITION and "already cancelled" in again.message
        shipped = await rpc_error(
            stub.RunAction(
                lookup_pb2.RunActionRequest(
                    app=app, action="cancel", external_customer_id="7001", order_id="5101", params={"reason": "CUSTOMER"}
                ),
                timeout=5,
            )
        )
        assert shipped.code == grpc.StatusCode.FAILED_PRECONDITION and "fulfilled items" in shipped.message


async def test_a_discount_code_is_created_once_and_a_taken_code_is_refused() -> None:
    async with shopify_sandbox() as sandbox, shopify_connector() as stub:
        app = shopify_app(sandbox.url)
        made = await stub.RunAction(
            lookup_pb2.RunActionRequest(
                app=app,
                action="create_discount_code",
                external_customer_id="7001",
                params={"type": "percentage", "amount": "15", "code": "SORRY15"},
            ),
            timeout=5,
        )
        assert made.result["code"] == "SORRY15" and "15% off" in made.message
        taken = await rpc_error(
            stub.RunAction(
                lookup_pb2.RunActionRequest(
                    app=app,
                    action="create_discount_code",
                    external_customer_id="7001",
                    params={"type": "fixed_amount", "amount": "5", "code": "sorry15"},
                ),
                timeout=5,
            )
        )
        assert taken.code == grpc.StatusCode.FAILED_PRECONDITION and "already exists" in taken.message


async def test_the_cost_bucket_is_read_from_every_answer_waited_for_within_the_deadline_and_refused_beyond_it() -> None:
    # A small plan: 100 points refilled in 2 s (50 a second); a fetch asks about 822 points: too costly for it...
    async with shopify_sandbox(bucket=100, refill_ms=2000) as sandbox, shopify_connector() as stub:
        app = shopify_app(sandbox.url)
        err = await rpc_error(stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="7001"), timeout=5))
        assert err.code == grpc.StatusCode.INTERNAL and "too costly" in err.message
    # ...and with 1000 points refilled at 500 a second, two fetches in a row wait for the bucket instead of being throttled.
    async with shopify_sandbox(bucket=1000, refill_ms=2000) as sandbox, shopify_connector() as stub:
        app = shopify_app(sandbox.url)
        await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="7001"), timeout=5)
        sandbox.app[BUCKET]["available"] = 0.0  # another app on the shop spent it
        sandbox.app[BUCKET]["at"] = time.monotonic()
        started = time.monotonic()
        await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="7001"), timeout=5)
        assert time.monotonic() - started >= 1.0, "throttled once, then waited for the refill (822 points at 500/s)"
        # The shop moves to a plan refilling 5 points a second: the next answer says so, and the wait it
        # implies (minutes) is refused at once with the delay, not slept into the deadline. The deadline is
        # seconds past what the refusal takes (0.3-0.4 s), so a stalled test machine still sees the refusal.
        sandbox.app[STATE].knobs.rate_limit_window_ms = 200_000
        sandbox.app[BUCKET]["available"] = 0.0
        sandbox.app[BUCKET]["at"] = time.monotonic()
        short = await rpc_error(stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="7001"), timeout=4))
        assert short.code == grpc.StatusCode.RESOURCE_EXHAUSTED and short.retry_after and short.retry_after > 60
        statuses = [r["status"] for r in sandbox.requests]
        assert statuses and all(s == 200 for s in statuses), "Shopify answers THROTTLED inside a 200"


async def test_the_sandbox_refuses_what_shopify_refuses() -> None:
    async with shopify_sandbox() as sandbox:
        import aiohttp

        url = f"{sandbox.url}/admin/api/2025-01/graphql.json"
        headers = {"X-Shopify-Access-Token": data.ACCESS_TOKEN}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json={"query": "{ shop { name } }"}, headers={"X-Shopify-Access-Token": "x"}) as resp:
                assert resp.status == 401 and "Invalid API key" in (await resp.json())["errors"]
            async with http.post(url, json={"query": "{ customers(first: 1) { nodes { emailAddress } } }"}, headers=headers) as resp:
                assert "Cannot query field 'emailAddress'" in (await resp.json())["errors"][0]["message"]
            async with http.post(
                url, json={"query": "query($n: Int!) { orders(first: $n) { nodes { id } } }", "variables": {"n": "ten"}}, headers=headers
            ) as resp:
                assert "Int cannot represent" in (await resp.json())["errors"][0]["message"]
            async with http.post(url, json={"query": "{ orders { nodes { id } } }"}, headers=headers) as resp:
                assert "first or last" in (await resp.json())["errors"][0]["message"]
            async with http.post(url, json={"query": "{ shop { name } }"}, headers=headers) as resp:
                body = await resp.json()
                assert body["data"]["shop"]["name"] and body["extensions"]["cost"]["requestedQueryCost"] == 1
                assert set(body["extensions"]["cost"]["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
