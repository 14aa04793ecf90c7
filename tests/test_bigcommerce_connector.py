"""The BigCommerce connector over real gRPC against the sandbox over real HTTP."""

from __future__ import annotations

import time

import grpc
import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_sandboxes.bigcommerce import data
from linkmesh_sandboxes.bigcommerce.http import STORES
from linkmesh_sandboxes.knobs import Failure
from tests.inprocess import bigcommerce_app, bigcommerce_connector, bigcommerce_sandbox

F = lookup_pb2.LookupField


async def rpc_error(call) -> ServiceError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return ServiceError.from_rpc_error(info.value)


async def test_describe_lists_settings_and_capabilities() -> None:
    async with bigcommerce_connector() as stub:
        d = await stub.Describe(lookup_pb2.DescribeRequest())
    assert d.vendor == "bigcommerce"
    assert set(d.capabilities.search_fields) == {F.LOOKUP_FIELD_EMAIL, F.LOOKUP_FIELD_PHONE, F.LOOKUP_FIELD_ORDER_NUMBER}
    specs = {s.name: s for s in d.settings}
    assert specs["store_hash"].required and not specs["store_hash"].secret
    assert specs["access_token"].required and specs["access_token"].secret
    assert specs["api_base_url"].default_value == "https://api.bigcommerce.com"


async def test_validate_app_names_each_bad_field_and_proves_credentials() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        ok = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=bigcommerce_app(sandbox.url)))
        assert ok.ok and not ok.errors
        assert sandbox.requests[-1]["path"] == f"/stores/{data.STORE_HASH}/v2/store"
        bad = lookup_pb2.AppContext(settings={"store_hash": "store-abc12", "api_base_url": "ftp://x"})
        answer = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=bad))
        assert {e.field for e in answer.errors} == {"store_hash", "access_token", "api_base_url"}
        assert "store-" in {e.field: e.message for e in answer.errors}["store_hash"]
        wrong = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=bigcommerce_app(sandbox.url, token="nope")))
        assert [(e.field, e.message) for e in wrong.errors] == [("access_token", "BigCommerce refused this token")]
        unknown = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=bigcommerce_app(sandbox.url, store_hash="zzzzz9")))
        assert [e.field for e in unknown.errors] == ["store_hash"]


async def test_search_by_email_and_by_phone_in_any_spelling() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        by_email = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=[" Jane.Smith@EXAMPLE.com "]), timeout=5)
        assert [(c.external_id, c.name, list(c.emails)) for c in by_email.candidates] == [("101", "Jane Smith", ["jane.smith@example.com"])]
        assert by_email.candidates[0].phones[0].number == "+14155550101"
        # Stored as "415-555-0102" for two customers; searched in E.164.
        shared = await stub.Search(lookup_pb2.SearchRequest(app=app, phones=["+14155550102"]), timeout=5)
        assert sorted(c.external_id for c in shared.candidates) == ["102", "103"]
        # Stored as "(212) 555-0199".
        other = await stub.Search(lookup_pb2.SearchRequest(app=app, phones=["212.555.0199"]), timeout=5)
        assert [c.external_id for c in other.candidates] == ["105"]
        none = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["nobody@example.com"]), timeout=5)
        assert list(none.candidates) == []
        err = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=app), timeout=5))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and err.fields
        err = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=app, phones=["12"]), timeout=5))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "phones" in err.fields


async def test_search_by_order_number_finds_the_buyer_and_a_guest_by_the_billing_email() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        for number in ("5004", "#5004"):
            found = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number=number), timeout=5)
            assert [(c.external_id, c.name) for c in found.candidates] == [("102", "John Doe")], number
        assert any(r["path"] == f"/stores/{data.STORE_HASH}/v2/orders/5004" for r in sandbox.requests)
        # Order 5007 was placed as a guest (customer_id 0): its buyer's account is found by the billing email.
        guest = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="5007"), timeout=5)
        assert [c.external_id for c in guest.candidates] == ["102"]
        none = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="4999"), timeout=5)
        assert list(none.candidates) == []
        err = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=app, order_number="A-100"), timeout=5))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "order_number" in err.fields


async def test_fetch_returns_the_detailed_profile() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=bigcommerce_app(sandbox.url), external_id="101"), timeout=10)
    c = answer.customer
    assert (c.external_id, c.name, list(c.emails)) == ("101", "Jane Smith", ["jane.smith@example.com"])
    assert c.admin_url == f"https://store-{data.STORE_HASH}.mybigcommerce.com/manage/customers/101/edit"
    assert c.address.line1 == "12 Market St" and c.address.country_code == "US"
    assert c.customer_since.seconds > 0
    assert [o.id for o in c.orders] == ["5003", "5002", "5001"], "most recent first"
    o = c.orders[1]
    assert o.admin_url == f"https://store-{data.STORE_HASH}.mybigcommerce.com/manage/orders/5002"
    assert (o.total.amount, o.total.currency) == ("317.50", "USD")
    assert o.status == "Shipped" and o.fulfilled
    assert [s.tracking_number for s in o.shipments] == ["9400110200881234567890", "776600112233", "1Z999AA10123456799"]
    assert o.shipments[1].tracking_url == "https://www.fedex.com/fedextrack/?trknbr=776600112233"
    assert o.shipments[0].method == "USPS Priority"
    line = o.lines[0]
    assert (line.name, line.sku, line.unit_price.amount, line.quantity) == ("Waterproof Shell Jacket", "SHELL-JKT-L", "179.00", 1)
    assert line.product_url == "https://summit-outfitters.example/waterproof-shell-jacket/"
    first = c.orders[2]
    assert first.discount.amount == "5.00" and first.total.amount == "128.45"
    assert not c.orders[0].fulfilled and list(c.orders[0].shipments) == []
    shipment_calls = sorted(r["path"] for r in sandbox.requests if r["path"].endswith("/shipments"))
    assert shipment_calls == [f"/stores/{data.STORE_HASH}/v2/orders/{o}/shipments" for o in (5001, 5002)], (
        "no call for the shipments of an order with nothing shipped"
    )


async def test_the_customer_group_reads_as_its_name_asked_once_and_as_its_number_where_the_store_has_none() -> None:
    """'Customer group: 2' was a raw id (issue 33): the name comes from GET /v2/customer_groups/{id},
    read once per store and group; a store that answers no group shows its number, never fails."""
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        for _ in range(2):
            answer = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101"), timeout=10)
            assert {a.label: a.value for a in answer.customer.custom_attributes}["Customer group"] == "Wholesale"
        asked = [r for r in sandbox.requests if r["path"].endswith("/v2/customer_groups/2")]
        assert len(asked) == 1, "a group's name is kept a while"
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        sandbox.app[STORES][data.STORE_HASH].groups.clear()  # a plan without customer groups
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=bigcommerce_app(sandbox.url), external_id="101"), timeout=10)
        assert {a.label: a.value for a in answer.customer.custom_attributes}["Customer group"] == "Group #2"


async def test_fetch_caps_orders_and_handles_a_customer_without_orders() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        many = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1001"), timeout=10)
        assert len(many.customer.orders) == 10
        times = [o.created_at.seconds for o in many.customer.orders]
        assert times == sorted(times, reverse=True)
        none = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="104"), timeout=10)
        assert list(none.customer.orders) == [] and none.customer.name == "Noah Nolan"
        missing = await rpc_error(stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="999"), timeout=10))
        assert missing.code == grpc.StatusCode.NOT_FOUND


async def test_refused_credentials_are_unauthenticated_without_the_token_in_the_message() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        err = await rpc_error(
            stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url, token="secret-xyz-123"), emails=["a@b.co"]), timeout=5)
        )
    assert err.code == grpc.StatusCode.UNAUTHENTICATED
    assert "secret-xyz-123" not in err.message and "invalid" in err.message


async def test_5xx_is_retried_then_answered_unavailable() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=3) as stub:
        sandbox.knobs.fail = Failure(status=500, count=2)
        ok = await stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url), emails=["jane.smith@example.com"]), timeout=10)
        assert [c.external_id for c in ok.candidates] == ["101"], "two failures then success within three attempts"
        sandbox.knobs.fail = Failure(status=503, count=-1)
        before = len(sandbox.requests)
        err = await rpc_error(
            stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url), emails=["jane.smith@example.com"]), timeout=10)
        )
        assert err.code == grpc.StatusCode.UNAVAILABLE
        assert len(sandbox.requests) - before == 3, "bounded retry: exactly three attempts"


async def test_network_errors_are_unavailable() -> None:
    async with bigcommerce_connector() as stub:
        from linkmesh_devstack.ports import free_port

        err = await rpc_error(
            stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(f"http://127.0.0.1:{free_port()}"), emails=["a@b.co"]), timeout=10)
        )
    assert err.code == grpc.StatusCode.UNAVAILABLE


async def test_vendor_call_never_outlives_the_rpc_deadline() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        sandbox.knobs.latency_ms = 3000
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url), emails=["jane.smith@example.com"]), timeout=0.5)
        elapsed = time.monotonic() - started
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # Functional bound, not a benchmark: far below the vendor's 3 s.
    assert elapsed < 2.0


async def test_rate_limit_waits_for_the_reset_when_the_deadline_allows() -> None:
    async with bigcommerce_sandbox(rate_limit_quota=2, rate_limit_window_ms=600) as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        for _ in range(3):
            answer = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["jane.smith@example.com"]), timeout=5)
            assert [c.external_id for c in answer.candidates] == ["101"]
        assert len(sandbox.requests) == 3, "no request was sent before the window reset, so none was refused"


async def test_rate_limit_longer_than_the_deadline_is_resource_exhausted_with_the_delay() -> None:
    async with bigcommerce_sandbox(rate_limit_quota=1, rate_limit_window_ms=20_000) as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["jane.smith@example.com"]), timeout=5)
        before = len(sandbox.requests)
        err = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=app, emails=["jane.smith@example.com"]), timeout=2))
        assert err.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert err.retry_after is not None and 10 < err.retry_after <= 20
        assert len(sandbox.requests) == before, "nothing is sent before the reset"


async def test_a_429_from_the_vendor_is_resource_exhausted_when_the_wait_exceeds_the_deadline() -> None:
    async with bigcommerce_sandbox(rate_limit_quota=100, rate_limit_window_ms=20_000) as sandbox, bigcommerce_connector() as stub:
        # Another app on the same store used up the quota: the connector learns it from the 429 itself.
        sandbox.knobs.rate_limit_quota = 0
        err = await rpc_error(
            stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url), emails=["jane.smith@example.com"]), timeout=2)
        )
        assert err.code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.retry_after and err.retry_after > 2
        assert "rate limit" in err.message
