"""Less database work per request: apps come from a cache that follows changes across
replicas, and a request's lookup traces are written in one insert."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

import pytest
from bson import ObjectId
from pymongo import monitoring

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import queries
from linkmesh_profile.db.store import Store
from linkmesh_profile.db.traces import TraceStore, summary
from linkmesh_profile.linking.search import Search

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.connectors.lookups import Lookups


class Commands(monitoring.CommandListener):
    """The commands one client sent, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.sent: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("hello", "ismaster", "isMaster", "ping", "endSessions"):
            self.names.append(event.command_name)
            self.sent.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture()
async def replicas(mongo: MongoServer) -> AsyncIterator[tuple[Store, Store, Commands]]:
    """Two profile replicas' stores on one database; the second one's commands are counted."""
    db = f"cache_{uuid.uuid4().hex[:8]}"
    commands = Commands()
    a = Store(mongo.uri, db, app_check_s=0.3)
    b = Store(mongo.uri, db, app_check_s=0.3, listeners=(commands,))
    try:
        yield a, b, commands
    finally:
        await a.client.drop_database(db)
        await a.close()
        await b.close()


def app_doc(name: str) -> dict[str, Any]:
    return {"_id": ObjectId(), "type": "bigcommerce", "name": name, "active": True, "settings": {}}


async def test_apps_are_read_from_memory_and_follow_another_replicas_change(replicas: tuple[Store, Store, Commands]) -> None:
    a, b, commands = replicas
    doc = await a.insert_app(app_doc("before"))
    app_id = doc.id
    assert getattr(await b.get_app(app_id), "name", None) == "before"
    commands.names.clear()
    for _ in range(50):
        assert getattr(await b.get_app(app_id), "name", None) == "before"
        assert [x.name for x in await b.list_apps(active_only=True)] == ["before"]
    assert commands.names == [], "within the check interval no request reads an app from the database"

    await a.replace_app({**doc.to_doc(), "name": "after", "active": False})
    assert getattr(await a.get_app(app_id), "name", None) == "after", "the replica that wrote sees its change at once"
    await asyncio.sleep(0.35)
    assert getattr(await b.get_app(app_id), "name", None) == "after", "another replica sees it within the check interval"
    assert await b.list_apps(active_only=True) == []
    assert commands.names == ["find", "find"], "one look at the counter, one reload"

    await a.delete_app(app_id)
    await asyncio.sleep(0.35)
    assert await b.get_app(app_id) is None and await b.list_apps() == []


async def test_concurrent_requests_share_one_look_at_the_counter(replicas: tuple[Store, Store, Commands]) -> None:
    a, b, commands = replicas
    await a.insert_app(app_doc("one"))
    await asyncio.gather(*(b.list_apps() for _ in range(30)))
    assert commands.names == ["find", "find"]


class Timeline(monitoring.CommandListener):
    """When each command (by collection) started and ended, in the order the driver saw it."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._names: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self._names[event.request_id] = str(event.command["find"])
            self.events.append(f"start {event.command['find']}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id in self._names:
            self.events.append(f"end {self._names.pop(event.request_id)}")

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._names.pop(event.request_id, None)


async def test_the_apps_check_goes_beside_the_customer_read_not_after_it(mongo: MongoServer) -> None:
    """A request reads its customer, then the apps: a look at the apps' counter that is due
    starts with the customer read, so a request after a quiet second waits one database round
    trip, not two (and the apps it then reads are as checked during the request)."""
    db = f"cache_{uuid.uuid4().hex[:8]}"
    timeline = Timeline()
    store = Store(mongo.uri, db, app_check_s=0.2, listeners=(timeline,))
    try:
        app = await store.insert_app(app_doc("one"))
        customer = await store.insert_customer({"name": "Jane", "emails": [], "phones": [], "links": {}})
        await store.list_apps()
        await asyncio.gather(*(store.db.command("ping") for _ in range(4)))  # connections open, as on a busy replica
        await asyncio.sleep(0.25)  # the check is due
        timeline.events.clear()
        assert await store.get_customer(customer.id) is not None
        assert getattr(await store.get_app(app.id), "name", None) == "one"
        assert timeline.events.index("start meta") < timeline.events.index("end customers"), timeline.events
    finally:
        await store.client.drop_database(db)
        await store.close()


async def test_a_search_reads_the_customer_without_the_data_its_links_pulled(replicas: tuple[Store, Store, Commands]) -> None:
    """A search needs the customer's linked apps and contact points; a customer with a lot of
    data (500 orders here) is read as listed, not whole, before every search."""
    a, b, commands = replicas
    linked, other = app_doc("Linked"), app_doc("Other")
    await a.db.apps.insert_many([linked, other])
    oid = ObjectId()
    orders = [{"id": str(n), "number": str(n), "lines": [{"name": "x" * 100}]} for n in range(500)]
    await a.db.customers.insert_one(
        {
            "_id": oid,
            "name": "Jane",
            "emails": ["jane@example.com"],
            "phones": [],
            "links": {str(linked["_id"]): {"external_customer_id": "7", "data": {"orders": orders}}},
            "link_keys": [f"{linked['_id']}:7"],
        }
    )
    search = Search(b, cast("AppService", None), cast("Lookups", None), "US")
    targets, skipped = await search.search_targets(str(oid))
    assert [t.id for t in targets] == [str(other["_id"])] and skipped == []
    finds = [c for c in commands.sent if "find" in c and c["find"] == "customers"]
    assert finds and all(f.get("projection") == queries.LISTING for f in finds), finds


async def test_traces_are_queued_and_written_together(mongo: MongoServer) -> None:
    db = f"batch_{uuid.uuid4().hex[:8]}"
    commands = Commands()
    store = Store(mongo.uri, db, listeners=(commands,))
    traces = TraceStore(store, retention_s=3600, max_per_app=100, flush_s=0.2)
    try:

        async def record(i: int) -> None:
            await traces.record(
                app_id="app", customer_id="c", kind="search", request={"i": i}, response=None, code="OK", message="", latency_ms=1.0
            )

        await asyncio.gather(*(record(i) for i in range(3)))  # three requests at one moment
        assert commands.names == [], "recording never waits for the database"
        await asyncio.sleep(0.3)
        assert commands.names == ["insert"], "one write for all of them, within the flush interval"
        commands.names.clear()
        await record(3)
        listed = [t["request"]["i"] for t in await traces.recent("app")]
        assert listed[0] == 3 and sorted(listed) == [0, 1, 2, 3], "the debugger sees a trace at once"
        assert commands.names == ["insert", "find"]
    finally:
        await store.client.drop_database(db)
        await store.close()


async def test_the_trace_queue_is_bounded_while_the_database_is_away(mongo: MongoServer) -> None:
    store = Store("mongodb://127.0.0.1:1/?directConnection=true", "nowhere", timeout_s=0.2)
    traces = TraceStore(store, retention_s=3600, max_per_app=100, flush_s=60, max_queued=5)
    try:
        for i in range(8):
            await traces.record(
                app_id="app", customer_id="c", kind="search", request={"i": i}, response=None, code="OK", message="", latency_ms=1.0
            )
        assert [d["request"]["i"] for d in traces._queued] == [3, 4, 5, 6, 7], "the oldest go first"
        await traces.settle()  # the write fails: logged and dropped, nothing raised
        assert traces._queued == []
    finally:
        await store.close()


def test_a_detailed_answer_is_kept_in_a_trace_as_a_summary() -> None:
    customer = {
        "external_id": "7",
        "name": "Jane",
        "emails": ["j@example.com"],
        "orders": [
            {
                "id": "100",
                "number": "#100",
                "status": "shipped",
                "lines": [{"name": "Mug", "sku": "M1"}] * 50,
                "total": {"amount": "9.00", "currency": "USD"},
            }
        ],
        "returns": [{"id": "r1", "code": "RMA1", "status": "open", "items": [{"name": "Mug"}]}],
    }
    kept = summary(customer)
    assert kept == {
        "external_id": "7",
        "name": "Jane",
        "emails": ["j@example.com"],
        "orders": [{"id": "100", "number": "#100", "status": "shipped"}],
        "returns": [{"id": "r1", "code": "RMA1", "status": "open"}],
    }
