"""BigCommerce lists are read to their end: V3 by ``meta.pagination``, V2 (which says
nothing of what follows) until a short page or ``204``. What cannot be read in time
is marked on the order, and an action that needs every line reads them all or fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import grpc
import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce import mapping
from linkmesh_core import paging
from linkmesh_sandboxes.bigcommerce import data, order_routes
from linkmesh_sandboxes.bigcommerce.app import STORES
from linkmesh_sandboxes.knobs import Failure
from tests.inprocess import bigcommerce_app, bigcommerce_connector, bigcommerce_sandbox

LINES = 260  # more than the 250 a V2 or V3 page holds at most
ORDER_ID = 9001


def big_order(sandbox: Any, lines: int = LINES) -> dict[str, Any]:
    """An order of Jane's with ``lines`` distinct products, each shipped in its own parcel."""
    store = sandbox.app[STORES][data.STORE_HASH]
    for n in range(lines):
        store.products[1000 + n] = {
            "id": 1000 + n,
            "name": f"Trail Mix {n}",
            "sku": f"MIX-{n:03d}",
            "price": "2.0000",
            "url": f"/trail-mix-{n}/",
        }
    shipments = [
        {"tracking_number": f"1ZBIG{n:05d}", "method": "UPS Ground", "provider": "ups", "carrier": "ups", "lines": [(1000 + n, 1)]}
        for n in range(lines)
    ]
    data.add_order(
        store, ORDER_ID, store.customers[101], data.BASE + timedelta(days=90), [(1000 + n, 1) for n in range(lines)], 2, shipments=shipments
    )
    return store.orders[ORDER_ID]


@pytest.fixture
def lines_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that answers the order list without the lines ``include`` asks for (as one that
    predates it might): the connector reads them from ``/orders/{id}/products``, page by page."""
    monkeypatch.setattr(order_routes, "with_includes", lambda request, order: order)


def queries(sandbox: Any, suffix: str) -> list[dict[str, list[str]]]:
    return [parse_qs(r["query"]) for r in sandbox.requests if r["path"].endswith(suffix)]


@pytest.mark.usefixtures("lines_left_out")
async def test_every_line_shipment_and_product_link_of_a_large_order_is_read() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        big_order(sandbox)
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=bigcommerce_app(sandbox.url), external_id="101"), timeout=10)
        products = queries(sandbox, f"/v2/orders/{ORDER_ID}/products")
        shipments = queries(sandbox, f"/v2/orders/{ORDER_ID}/shipments")
        catalog = queries(sandbox, "/v3/catalog/products")
    order = next(o for o in answer.customer.orders if o.id == str(ORDER_ID))
    assert len(order.lines) == LINES and len({line.id for line in order.lines}) == LINES
    assert sorted(s.tracking_number for s in order.shipments) == [f"1ZBIG{n:05d}" for n in range(LINES)]
    assert all(line.product_url for line in order.lines) and list(order.partial) == [] and list(answer.customer.partial) == []
    # Pages asked for explicitly; V2 until the short page, V3 until the last page meta.pagination names.
    assert [(q["page"], q["limit"]) for q in products] == [(["1"], ["250"]), (["2"], ["250"])]
    assert [q["page"] for q in shipments] == [["1"], ["2"]]
    assert [q["page"] for q in catalog] == [["1"], ["2"]]


async def test_the_lines_of_a_large_order_come_with_the_order_list() -> None:
    """Orders are listed with ``include=consignments.line_items``: their lines come with them,
    and no ``/products`` call is spent per order; the lines are those ``/products`` answers."""
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        big_order(sandbox)
        request = lookup_pb2.FetchRequest(app=bigcommerce_app(sandbox.url), external_id="101")
        answer = await stub.Fetch(request, timeout=10)
        assert [r for r in sandbox.requests if r["path"].endswith("/products") and "/orders/" in r["path"]] == []
        listed = queries(sandbox, "/v2/orders")
        assert listed and all(q["include"] == ["consignments.line_items"] and q["consignment_structure"] == ["object"] for q in listed)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(order_routes, "with_includes", lambda request, order: order)
            from_products = await stub.Fetch(request, timeout=10)
    assert answer.customer == from_products.customer
    order = next(o for o in answer.customer.orders if o.id == str(ORDER_ID))
    assert len(order.lines) == LINES and list(order.partial) == []


async def test_product_links_seen_lately_are_not_asked_of_the_catalog_again() -> None:
    """A second open of the customer reads orders in two rounds of calls, not three: the catalog
    is asked only for a product it has not seen within the window."""
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        big_order(sandbox, lines=3)
        request = lookup_pb2.FetchRequest(app=bigcommerce_app(sandbox.url), external_id="101")
        first = await stub.Fetch(request, timeout=10)
        asked = len(queries(sandbox, "/v3/catalog/products"))
        again = await stub.Fetch(request, timeout=10)
        assert len(queries(sandbox, "/v3/catalog/products")) == asked, "every product was seen a moment ago"
        store = sandbox.app[STORES][data.STORE_HASH]
        store.products[2000] = {"id": 2000, "name": "Trail Mix new", "sku": "MIX-NEW", "price": "2.0000", "url": "/trail-mix-new/"}
        data.add_order(store, ORDER_ID + 1, store.customers[101], data.BASE + timedelta(days=91), [(2000, 1), (1000, 1)], 2)
        third = await stub.Fetch(request, timeout=10)
        newest = queries(sandbox, "/v3/catalog/products")[asked:]
    assert [q["id:in"] for q in newest] == [["2000"]], "only the product not seen before"

    def links(answer: lookup_pb2.FetchResponse) -> dict[str, str]:
        return {line.sku: line.product_url for order in answer.customer.orders for line in order.lines}

    assert links(first) == links(again) and all(links(again).values())
    assert links(third)["MIX-NEW"].endswith("/trail-mix-new/") and links(third)["MIX-000"] == links(first)["MIX-000"]


@pytest.mark.usefixtures("lines_left_out")
async def test_a_list_of_exactly_one_full_page_ends_on_the_empty_page_after_it() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        big_order(sandbox, lines=250)
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=bigcommerce_app(sandbox.url), external_id="101"), timeout=10)
        products = queries(sandbox, f"/v2/orders/{ORDER_ID}/products")
    order = next(o for o in answer.customer.orders if o.id == str(ORDER_ID))
    assert len(order.lines) == 250 and list(order.partial) == []
    assert [q["page"] for q in products] == [["1"], ["2"]]  # page 2 answers 204 No Content


@pytest.mark.parametrize(
    ("failure", "partial"),
    [
        (Failure(status=503, path=f"/v2/orders/{ORDER_ID}/shipments", skip=1, message="maintenance"), ["shipments"]),
        # A page that hangs spends the deadline: the product links asked for after it are not all read either.
        (Failure(status=0, path=f"/v2/orders/{ORDER_ID}/shipments", skip=1, hang_s=5.0), ["shipments", "product_links"]),
    ],
)
async def test_shipments_that_cannot_be_read_in_time_are_marked_on_the_order_not_dropped(
    failure: Failure, partial: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The margin kept to answer in is for a hop between pods (250 ms); here the sandbox, the
    # connector and its caller share one event loop, which a loaded test machine can stall for
    # longer: the mechanism is the same with a wider margin.
    monkeypatch.setattr(paging, "ANSWER_MARGIN_S", 1.0)
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=1) as stub:
        big_order(sandbox)
        sandbox.knobs.fail = failure
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=bigcommerce_app(sandbox.url), external_id="101"), timeout=2.5)
    order = next(o for o in answer.customer.orders if o.id == str(ORDER_ID))
    assert list(order.partial) == partial and len(order.shipments) == 250 and len(order.lines) == LINES
    assert all(list(o.partial) == [] for o in answer.customer.orders if o.id != str(ORDER_ID))


async def test_a_refund_reads_every_line_of_the_order_or_refunds_nothing() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=1) as stub:
        big_order(sandbox)
        app = bigcommerce_app(sandbox.url)
        last_line = f"{ORDER_ID * 100 + LINES}"  # on page 2 of the order's products
        request = lookup_pb2.RunActionRequest(
            app=app,
            action="refund",
            external_customer_id="101",
            order_id=str(ORDER_ID),
            params={"lines": f"{last_line}:1"},
            idempotency_key="k-big-1",
        )
        sandbox.knobs.fail = Failure(status=503, path=f"/v2/orders/{ORDER_ID}/products", skip=1, message="maintenance")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.RunAction(request, timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert not [r for r in sandbox.requests if "payment_actions" in r["path"]]
        sandbox.knobs.fail = None
        done = await stub.RunAction(
            lookup_pb2.RunActionRequest(
                app=app,
                action="refund",
                external_customer_id="101",
                order_id=str(ORDER_ID),
                params={"lines": f"{last_line}:1"},
                idempotency_key="k-big-2",
            ),
            timeout=5,
        )
    assert "2.00" in done.message


async def test_a_customer_search_is_read_to_its_last_page() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        store = sandbox.app[STORES][data.STORE_HASH]
        for n in range(60):  # more customers sharing one phone than the 50 a page holds by default
            cid = 7000 + n
            store.customers[cid] = data.new_customer(
                cid, f"Shared{n}", "Line", f"shared{n}@example.com", "+1 212-555-0144", data.BASE, None
            )
        answer = await stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url), phones=["+12125550144"]), timeout=10)
    assert len(answer.candidates) == 60


def test_lines_a_store_embeds_are_taken_only_when_they_are_all_of_the_order() -> None:
    line = {"id": 11, "product_id": 5, "quantity": 2}
    shipping = {"shipping": [{"id": 1, "line_items": [line, {"id": 12, "product_id": 6, "quantity": 1}]}], "pickups": [], "downloads": []}
    assert [x["id"] for x in mapping.lines_of({"items_total": 3, "consignments": shipping}) or []] == [11, 12]
    split = {"shipping": [{"line_items": [line]}], "pickups": [{"line_items": [{"id": 12, "product_id": 6, "quantity": 1}]}]}
    assert [x["id"] for x in mapping.lines_of({"items_total": 3, "consignments": split}) or []] == [11, 12], "every consignment kind"
    assert mapping.lines_of({"items_total": 4, "consignments": shipping}) is None, "a line not carried: read /products"
    links = {"shipping": [{"line_items": [{"url": "https://api.bigcommerce.com/x", "resource": "/orders/1/products/11"}]}]}
    assert mapping.lines_of({"items_total": 2, "consignments": links}) is None, "links, not lines"
    assert mapping.lines_of({"items_total": 2, "consignments": {"url": "u", "resource": "/orders/1/consignments"}}) is None
    assert mapping.lines_of({"items_total": 2}) is None, "a store that ignores include"
