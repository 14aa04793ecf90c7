"""Magento lists are paged as a store with Web API input limits answers them: the
sandbox enforces the limits (20 items without a page size, a maximum page size
with Magento's own refusal, the last page again past the end), and the connector
reads every list page after page by ``total_count``, marking on the order what it
could not read in time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import paging
from linkmesh_sandboxes.knobs import Failure
from linkmesh_sandboxes.magento import data
from linkmesh_sandboxes.magento.app import SHOP
from tests.inprocess import magento_app, magento_connector, magento_sandbox
from tests.test_magento_sandbox import crit, get

SPLIT = 30  # shipments of one order: more than the 20 a search without a page size answers


def split_order(sandbox: Any, skus: list[str] | None = None, shipments: int = SPLIT) -> dict[str, Any]:
    """An order of Jane's shipped in ``shipments`` parcels, one tracking number each."""
    shop = sandbox.app[SHOP]
    tracks = [[(f"1ZSPLIT{n:04d}", "United Parcel Service", "ups")] for n in range(shipments)]
    lines = [(sku, 1) for sku in skus or ["MH-LAMP"]]
    return data.add_order(
        shop, shop.customers[1], data.BASE + timedelta(days=40), lines, state="complete", status="complete", shipped=True, tracks=tracks
    )


def queries(sandbox: Any, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(r["query"]) for r in sandbox.requests if r["path"].endswith(path)]


async def test_a_search_without_page_size_answers_the_default_page_and_a_page_size_over_the_maximum_is_refused() -> None:
    status, body = await get("/rest/default/V1/customers/search", crit([("email", "%@example.com", "like")]))
    assert status == 200 and body["total_count"] > 20
    assert len(body["items"]) == 20 and body["search_criteria"]["page_size"] == 20
    status, body = await get("/rest/default/V1/customers/search", crit([("email", "%@example.com", "like")], pageSize="301"))
    assert status == 400
    assert body == {"message": "Maximum SearchCriteria pageSize is %max", "parameters": {"max": 300}}
    status, body = await get("/rest/default/V1/customers/search", crit([("email", "%@example.com", "like")], pageSize="300"))
    assert status == 200 and len(body["items"]) == body["total_count"]


async def test_a_page_past_the_end_answers_the_last_page_again() -> None:
    first = await get("/rest/default/V1/customers/search", crit([("email", "%@example.com", "like")], pageSize="10", currentPage="3"))
    past = await get("/rest/default/V1/customers/search", crit([("email", "%@example.com", "like")], pageSize="10", currentPage="99"))
    assert first[1]["total_count"] == past[1]["total_count"] and 20 < first[1]["total_count"] <= 30
    assert past[1]["items"] == first[1]["items"] != []


async def test_every_tracking_number_of_a_split_shipment_is_shown() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        order = split_order(sandbox)
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=magento_app(sandbox.url), external_id="1"), timeout=10)
        shipments_queries = queries(sandbox, "/V1/shipments")
    shown = next(o for o in answer.customer.orders if o.id == str(order["entity_id"]))
    assert sorted(s.tracking_number for s in shown.shipments) == [f"1ZSPLIT{n:04d}" for n in range(SPLIT)]
    assert list(shown.partial) == [] and list(answer.customer.partial) == []
    for q in shipments_queries:  # every list call says how much it wants and which page
        assert q["searchCriteria[pageSize]"] and q["searchCriteria[currentPage]"]


async def test_a_store_with_a_lower_maximum_page_size_is_read_in_pages_of_that_size() -> None:
    async with magento_sandbox(max_page_size=7) as sandbox, magento_connector() as stub:
        order = split_order(sandbox)
        app = magento_app(sandbox.url)
        answers = [await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1"), timeout=10) for _ in range(2)]
        orders = [q["searchCriteria[pageSize]"][0] for q in queries(sandbox, "/V1/orders")]
        shipments = [q["searchCriteria[pageSize]"][0] for q in queries(sandbox, "/V1/shipments")]
    for answer in answers:
        shown = next(o for o in answer.customer.orders if o.id == str(order["entity_id"]))
        assert len(shown.shipments) == SPLIT and list(shown.partial) == []
    # Refused once at the page size the connector wanted (10 orders), then pages of the
    # store's maximum, learned from the refusal and kept for the store.
    assert orders == ["10", "7", "7"]  # Jane has 3 orders: one page each time
    assert set(shipments) == {"7"} and len(shipments) == 2 * -(-(SPLIT + 2) // 7)


async def test_every_product_link_of_a_large_order_is_resolved() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        shop = sandbox.app[SHOP]
        skus = []
        for n in range(25):
            sku = f"MH-SOCK-{n:02d}"
            shop.products[sku] = {"id": 3000 + n, "sku": sku, "name": f"Wool Sock {n}", "price": 9.0, "url_key": f"wool-sock-{n}"}
            skus.append(sku)
        order = split_order(sandbox, skus=skus, shipments=1)
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=magento_app(sandbox.url), external_id="1"), timeout=10)
    shown = next(o for o in answer.customer.orders if o.id == str(order["entity_id"]))
    assert {line.sku: line.product_url for line in shown.lines} == {
        f"MH-SOCK-{n:02d}": f"{sandbox.url}/wool-sock-{n}.html" for n in range(25)
    }


@pytest.mark.parametrize(
    "failure",
    [
        Failure(status=503, path="/V1/shipments", skip=1, message="maintenance"),
        Failure(status=0, path="/V1/shipments", skip=1, hang_s=5.0),
    ],
)
async def test_shipments_that_cannot_be_read_in_time_are_marked_on_the_order_not_dropped(
    failure: Failure, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wider margin to answer in than between pods: here everything shares one event loop (tests/test_bigcommerce_paging.py).
    monkeypatch.setattr(paging, "ANSWER_MARGIN_S", 1.0)
    async with magento_sandbox(max_page_size=10) as sandbox, magento_connector(max_attempts=1) as stub:
        split = split_order(sandbox)
        app = magento_app(sandbox.url)
        await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1"), timeout=5)  # learns the store's maximum page size
        sandbox.knobs.fail = failure  # page 1 of the shipments answers, page 2 does not
        answer = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1"), timeout=2.5)
    by_id = {o.id: o for o in answer.customer.orders}
    # Jane's older orders come before the split order by id: their shipments were read whole.
    assert [(o.id, list(o.partial)) for o in answer.customer.orders if o.id != str(split["entity_id"])] == [
        (o.id, []) for o in answer.customer.orders if o.id != str(split["entity_id"])
    ]
    shown = by_id[str(split["entity_id"])]
    assert list(shown.partial) == ["shipments"] and 0 < len(shown.shipments) < SPLIT


async def test_a_customer_search_that_cannot_be_read_to_its_end_fails_rather_than_match_on_part() -> None:
    async with magento_sandbox(max_page_size=2) as sandbox, magento_connector(max_attempts=1) as stub:
        sandbox.knobs.fail = Failure(status=503, path="/V1/customers/search", skip=2)
        emails = ["jane.smith@example.com", "john.doe@example.com", "priya.patel@example.com"]
        with pytest.raises(Exception) as info:
            await stub.Search(lookup_pb2.SearchRequest(app=magento_app(sandbox.url), emails=emails), timeout=5)
    assert "UNAVAILABLE" in str(info.value)
