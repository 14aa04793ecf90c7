"""The Magento connector over real gRPC against the Magento sandbox over real HTTP."""

from __future__ import annotations

import time

import grpc
import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_devstack.ports import free_port
from linkmesh_magento.client import fill
from linkmesh_sandboxes.knobs import Failure
from tests.inprocess import magento_app, magento_connector, magento_sandbox

F = lookup_pb2.LookupField


async def rpc_error(call) -> ServiceError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return ServiceError.from_rpc_error(info.value)


def test_error_placeholders_are_filled_positionally_and_by_name() -> None:
    assert fill("Invalid attribute name: %1", ["telephone"]) == "Invalid attribute name: telephone"
    assert (
        fill("No such entity with %fieldName = %fieldValue", {"fieldName": "customerId", "fieldValue": 7})
        == "No such entity with customerId = 7"
    )
    assert fill("%fieldName is wrong", [{"fieldName": "email"}]) == "email is wrong"
    assert fill("%1 and %2", ["a"]) == "a and %2"


async def test_describe_says_email_only() -> None:
    async with magento_connector() as stub:
        d = await stub.Describe(lookup_pb2.DescribeRequest())
    assert d.vendor == "magento"
    assert list(d.capabilities.search_fields) == [F.LOOKUP_FIELD_EMAIL, F.LOOKUP_FIELD_ORDER_NUMBER]
    assert list(d.capabilities.auto_link_fields) == [F.LOOKUP_FIELD_EMAIL]
    specs = {s.name: s for s in d.settings}
    assert specs["api_base_url"].required and specs["access_token"].secret and specs["store_code"].default_value == "default"


async def test_validate_app_proves_the_token_and_names_bad_fields() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        ok = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=magento_app(sandbox.url)))
        assert ok.ok and sandbox.requests[-1]["path"] == "/rest/default/V1/store/storeConfigs"
        wrong = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=magento_app(sandbox.url, token="bad")))
        assert [(e.field, e.message) for e in wrong.errors] == [("access_token", "Magento refused this token")]
        store = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=magento_app(sandbox.url, store_code="nowhere")))
        assert [e.field for e in store.errors] == ["store_code"]
        bad = await stub.ValidateApp(
            lookup_pb2.ValidateAppRequest(
                app=lookup_pb2.AppContext(
                    settings={
                        "api_base_url": f"{sandbox.url}/rest/default",
                        "store_code": "Bad Code",
                        "max_orders": "0",
                        "admin_base_url": "x",
                    }
                )
            )
        )
        assert {e.field for e in bad.errors} == {"api_base_url", "store_code", "max_orders", "admin_base_url", "access_token"}


async def test_search_by_email_and_by_order_number() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        app = magento_app(sandbox.url)
        by_email = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["Jane.Smith@example.com"]), timeout=5)
        assert [(c.external_id, c.name) for c in by_email.candidates] == [("1", "Jane Smith")]
        assert by_email.candidates[0].phones[0].number == "+14155550101"
        query = sandbox.requests[-1]["query"]
        assert (
            "filter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=email" in query
            or "[filter_groups][0][filters][0][field]=email" in query
        )
        by_order = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="000000104"), timeout=5)
        assert [c.external_id for c in by_order.candidates] == ["4"]
        # 000000346 was placed as a guest (no customer_id): its buyer's account is found by the order's email.
        guest = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="000000346"), timeout=5)
        assert [(c.external_id, c.name) for c in guest.candidates] == [("3", "Priya Patel")]
        none = await stub.Search(lookup_pb2.SearchRequest(app=app, order_number="999"), timeout=5)
        assert list(none.candidates) == []
        err = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=app, phones=["+14155550101"]), timeout=5))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "phones" in err.fields


async def test_fetch_fills_every_field_the_profile_shows() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=magento_app(sandbox.url), external_id="1"), timeout=10)
    c = answer.customer
    assert (c.external_id, c.name, list(c.emails)) == ("1", "Jane Smith", ["jane.smith@example.com"])
    assert c.admin_url == f"{sandbox.url}/admin/customer/index/edit/id/1"
    assert (c.address.line1, c.address.city, c.address.region, c.address.country_code) == (
        "12 Market St",
        "San Francisco",
        "California",
        "US",
    )
    assert c.customer_since.seconds > 0
    assert [o.number for o in c.orders] == ["000000102", "000000101"], "most recent first"
    recent, shipped = c.orders
    assert recent.status == "processing" and not recent.fulfilled and list(recent.shipments) == []
    assert [(l.name, l.sku, l.unit_price.amount, l.quantity) for l in recent.lines] == [("Down Jacket", "MH-JACKET", "189.00", 1)], (
        "the configurable's child line is folded into its parent"
    )
    assert shipped.admin_url == f"{sandbox.url}/admin/sales/order/view/order_id/101"
    assert (shipped.total.amount, shipped.total.currency, shipped.discount.amount) == ("323.00", "USD", "10.00")
    assert shipped.fulfilled and shipped.status == "complete"
    assert [(s.carrier, s.tracking_number, s.method) for s in shipped.shipments] == [
        ("United Parcel Service", "1Z999AA1M0000001", "UPS - Ground"),
        ("United States Postal Service", "9400100000000000000001", "UPS - Ground"),
    ]
    assert shipped.shipments[0].tracking_url == "https://www.ups.com/track?tracknum=1Z999AA1M0000001"
    assert shipped.lines[0].product_url == f"{sandbox.url}/ridge-tent-2p.html"


async def test_fetch_honours_the_order_count_and_a_customer_without_orders() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        many = await stub.Fetch(lookup_pb2.FetchRequest(app=magento_app(sandbox.url), external_id="101"), timeout=10)
        assert len(many.customer.orders) == 10
        three = await stub.Fetch(lookup_pb2.FetchRequest(app=magento_app(sandbox.url, max_orders="3"), external_id="101"), timeout=10)
        times = [o.created_at.seconds for o in three.customer.orders]
        assert len(times) == 3 and times == sorted(times, reverse=True)
        empty = await stub.Fetch(lookup_pb2.FetchRequest(app=magento_app(sandbox.url), external_id="5"), timeout=10)
        assert list(empty.customer.orders) == [] and not empty.customer.HasField("address")
        missing = await rpc_error(stub.Fetch(lookup_pb2.FetchRequest(app=magento_app(sandbox.url), external_id="999"), timeout=10))
        assert missing.code == grpc.StatusCode.NOT_FOUND


async def test_vendor_errors_are_mapped_with_the_message_filled_in() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        unauth = await rpc_error(
            stub.Search(lookup_pb2.SearchRequest(app=magento_app(sandbox.url, token="nope"), emails=["a@b.co"]), timeout=5)
        )
        assert unauth.code == grpc.StatusCode.UNAUTHENTICATED
        assert "Magento_Customer::customer" in unauth.message and "%resources" not in unauth.message
        sandbox.knobs.fail = Failure(status=503, count=-1)
        down = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=magento_app(sandbox.url), emails=["a@b.co"]), timeout=5))
        assert down.code == grpc.StatusCode.UNAVAILABLE
        sandbox.knobs.fail = None
        sandbox.knobs.latency_ms = 3000
        started = time.monotonic()
        slow = await rpc_error(stub.Search(lookup_pb2.SearchRequest(app=magento_app(sandbox.url), emails=["a@b.co"]), timeout=0.5))
        assert slow.code == grpc.StatusCode.DEADLINE_EXCEEDED and time.monotonic() - started < 2
    async with magento_connector() as stub:
        gone = await rpc_error(
            stub.Search(lookup_pb2.SearchRequest(app=magento_app(f"http://127.0.0.1:{free_port()}"), emails=["a@b.co"]), timeout=5)
        )
        assert gone.code == grpc.StatusCode.UNAVAILABLE
