"""A refresh's hint of the orders it holds (``FetchRequest.known``): the connector reads the
shipments of orders it already knows alongside the order list, one round of vendor calls
sooner, and answers exactly what it answers without the hint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.connectors.lookups import known_data
from linkmesh_profile.db.documents import message_to_doc
from linkmesh_sandboxes.bigcommerce import data
from linkmesh_sandboxes.bigcommerce.http import STORES
from linkmesh_sandboxes.knobs import STATE
from linkmesh_sandboxes.magento import data as magento_data
from linkmesh_sandboxes.magento.app import SHOP
from tests.inprocess import bigcommerce_app, bigcommerce_connector, bigcommerce_sandbox, magento_app, magento_connector, magento_sandbox
from tests.profile_kit import profile_kit

LATENCY_MS = 300.0


def calls(requests: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    return [r for r in requests if r["path"].endswith(suffix)]


def orders_list(requests: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in requests if r["path"] == f"/stores/{data.STORE_HASH}/v2/orders")


def known(answer: lookup_pb2.FetchResponse) -> lookup_pb2.KnownData:
    hint = known_data(message_to_doc(answer.customer))
    assert hint is not None
    return hint


def test_the_hint_is_the_orders_a_link_holds_and_which_were_shipped() -> None:
    doc = {"orders": [{"id": "5003"}, {"id": "5002", "shipments": [{"tracking_number": "1"}]}, {"number": "no id"}]}
    assert known_data(doc) == lookup_pb2.KnownData(
        orders=[lookup_pb2.KnownOrder(id="5003"), lookup_pb2.KnownOrder(id="5002", shipped=True)]
    )
    assert known_data({}) is None and known_data({"orders": []}) is None


async def test_a_hinted_fetch_reads_known_shipments_with_the_order_list_and_answers_the_same() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        plain = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101"), timeout=10)
        sandbox.knobs.latency_ms = LATENCY_MS
        sandbox.app[STATE].requests.clear()
        without = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101"), timeout=10)
        listed = orders_list(sandbox.requests)["at"]
        assert all(r["at"] - listed > LATENCY_MS / 2000 for r in calls(sandbox.requests, "/shipments")), "without a hint: after the list"
        sandbox.app[STATE].requests.clear()
        hinted = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101", known=known(plain)), timeout=10)
        listed = orders_list(sandbox.requests)["at"]
        shipments = calls(sandbox.requests, "/shipments")
        assert sorted(r["path"] for r in shipments) == [f"/stores/{data.STORE_HASH}/v2/orders/{o}/shipments" for o in (5001, 5002)]
        assert all(abs(r["at"] - listed) < LATENCY_MS / 2000 for r in shipments), "with the hint: in the list's round"
    assert hinted == without == plain


async def test_an_order_gone_from_the_list_costs_one_read_and_a_bad_id_none() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        plain = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101"), timeout=10)
        hint = known(plain)
        hint.orders.add(id="5004", shipped=True)  # John's, not Jane's: read, never shown
        hint.orders.add(id="not-a-number", shipped=True)
        sandbox.app[STATE].requests.clear()
        hinted = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101", known=hint), timeout=10)
        assert hinted == plain
        assert sorted(r["path"].split("/")[-2] for r in calls(sandbox.requests, "/shipments")) == ["5001", "5002", "5004"]


async def test_an_order_shipped_again_since_the_early_read_is_read_after_the_list() -> None:
    """Early shipments serve an order only when they account for every item it says is shipped."""
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url)
        plain = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101"), timeout=10)
        store = sandbox.app[STORES][data.STORE_HASH]
        store.orders[5001]["items_shipped"] = int(store.orders[5001]["items_shipped"]) + 1
        sandbox.app[STATE].requests.clear()
        await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="101", known=known(plain)), timeout=10)
        asked = sorted(r["path"].split("/")[-2] for r in calls(sandbox.requests, "/shipments"))
        assert asked == ["5001", "5001", "5002"], "5001 early, then again after the list; 5002 once"


async def test_a_refresh_sends_the_orders_its_link_holds(mongo: MongoServer) -> None:
    """The profile's side: a refresh's Fetch carries the link's orders (its trace shows the
    request as sent); linking, which holds nothing yet, sends none."""
    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        held = [str(o["id"]) for o in (await kit.read(jane)).links[kit.app.id].data["orders"]]
        await kit.refresher.refresh(await kit.read(jane))
        traces = kit.refresher.lookups.traces
        await traces.settle()
        sent = {t["kind"]: t["request"] for t in await traces.recent(kit.app.id, jane.id)}
    assert "known" not in sent["fetch"]
    assert [o["id"] for o in sent["refresh"]["known"]["orders"]] == held == ["5003", "5002", "5001"]
    assert [o.get("shipped", False) for o in sent["refresh"]["known"]["orders"]] == [False, True, True]


def magento_path(requests: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    return [r for r in requests if r["path"] == f"/rest/default/V1{path}"]


async def test_magento_reads_known_orders_shipments_with_the_order_list_and_a_new_order_after_it() -> None:
    async with magento_sandbox() as sandbox, magento_connector() as stub:
        app = magento_app(sandbox.url)
        plain = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1"), timeout=10)
        sandbox.knobs.latency_ms = LATENCY_MS
        sandbox.app[STATE].requests.clear()
        hinted = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1", known=known(plain)), timeout=10)
        assert hinted == plain
        requests = sandbox.requests
        listed = magento_path(requests, "/orders")[0]["at"]
        shipments = magento_path(requests, "/shipments")
        assert len(shipments) == 1 and abs(shipments[0]["at"] - listed) < LATENCY_MS / 2000, "one read, in the list's round"
        assert magento_path(requests, "/products") == [], "the products' links were read by the first fetch, a while ago"

        shop = sandbox.app[SHOP]
        magento_data.add_order(
            shop,
            shop.customers[1],
            datetime.now(UTC),
            [("MH-LAMP", 1)],
            state="complete",
            status="complete",
            shipped=True,
            tracks=[[("1Z999AA1M0000077", "United Parcel Service", "ups")]],
        )
        sandbox.app[STATE].requests.clear()
        fresh = await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1", known=known(plain)), timeout=10)
        shipments = magento_path(sandbox.requests, "/shipments")
        assert len(shipments) == 2, "the known orders' early, then every listed order's after the list"
        assert len(fresh.customer.orders) == 3 and fresh.customer.orders[0].fulfilled and fresh.customer.orders[0].shipments
        assert fresh.customer.orders[1:] == plain.customer.orders
