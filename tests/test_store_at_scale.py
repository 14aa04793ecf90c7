"""Every query and write the profile service's store sends executes from an index, timed, not
only planned: the same call on a database of 20,000 customers (and actions, traces, queue
entries) against one of 200. A collection scan costs a hundred times more at that size; an
index walk about the same. The explain test could not see it: the embedded server explained an
index for ``findAndModify`` and then scanned (an auto-linking contact took 67 to 108 times longer
at 100k customers), which is why writes now go through ``linkmesh_profile.db.writes``."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2

from linkmesh_devstack.mongo import MongoServer, start_mongo
from linkmesh_profile.customers.directory import Directory
from linkmesh_profile.db import queries as q
from linkmesh_profile.db import writes
from linkmesh_profile.db.refresh_leases import RefreshLeases
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.linking.autolink_queue import AutoLinkQueue
from tests.test_query_plans import seed

SMALL, LARGE = 200, 20_000
# A scan of LARGE documents costs about LARGE/SMALL = 100 times one of SMALL; an index walk about 1.
MAX_RATIO = 10.0
# Shapes that read every document by design, with where they run.
WHOLE_COLLECTION = {"every_customer": "the directory keys' one-time backfill (Store.backfill_directory)"}


async def first_page(query: q.Query, store: Store) -> list[dict[str, Any]]:
    return await query.find(store.db, limit=20).to_list(length=20)


async def fastest(call: Callable[[], Awaitable[Any]], runs: int = 7) -> float:
    """The fastest of ``runs`` calls, in seconds: what the work costs without the machine's noise."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        best = min(best, time.perf_counter() - started)
    return best


async def seeded(mongo: MongoServer, n: int) -> Store:
    store = Store(mongo.uri, f"scale_{n}_{uuid.uuid4().hex[:6]}", timeout_s=120)  # seeding takes a while
    await seed(store, n)
    return store


def writes_of(store: Store) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every kind of write the store sends, each on a document of its own."""
    state: dict[str, Any] = {}

    async def customer() -> ObjectId:
        if "oid" not in state:
            doc = await store.insert_customer(
                {
                    "name": "",
                    "emails": [f"s{uuid.uuid4().hex}@example.com"],
                    "phones": [],
                    "links": {},
                    "link_keys": [],
                    "unlinked_apps": [],
                    "created_at": now(),
                    "updated_at": now(),
                }
            )
            state["oid"] = doc.oid
        return state["oid"]

    async def conditional_update() -> Any:
        return await store.update_customer(str(await customer()), {"$inc": {"links_version": 1}}, {"links.app.external_customer_id": None})

    async def contact_point() -> Any:
        return await store.add_contact_point(await customer(), "phones", f"+1212555{uuid.uuid4().int % 10000:04d}", 10_000)

    async def fold_away() -> Any:
        stamp = now()
        young = await store.insert_customer(
            {
                "name": "",
                "emails": [],
                "phones": [],
                "links": {},
                "link_keys": [],
                "unlinked_apps": [],
                "created_at": stamp,
                "provisional_until": stamp + timedelta(seconds=60),
            }
        )
        return await store.fold_away(young.oid, await customer(), stamp)

    async def action_outcome() -> Any:
        record = await store.db[q.ACTIONS].insert_one({"customer_id": "c", "idempotency_key": uuid.uuid4().hex, "state": "running"})
        return await writes.update_by_id(store.db, q.action_by_id(record.inserted_id, "running"), {"$set": {"state": "unknown"}})

    async def queue_claim() -> Any:
        return await AutoLinkQueue(store).claim()

    async def refresh_lease() -> Any:  # a lease of a millisecond: the next run takes it again
        if "read" not in state:
            state["read"] = await store.get_customer(str(await customer()))
        return await RefreshLeases(store).take(state["read"].id, ["app"], 0.001, as_read=state["read"])

    return {
        "customer update on a condition": conditional_update,
        "contact point added": contact_point,
        "name filled": lambda: store.fill_name(state.get("oid") or ObjectId(), "Name"),
        "app link dropped": lambda: store.drop_app_link(state.get("oid") or ObjectId(), "app", {}, {}),
        "provisional profile folded away": fold_away,
        "action outcome recorded": action_outcome,
        "queue entry claimed": queue_claim,
        "refresh leases taken": refresh_lease,
    }


@pytest.fixture()
def own_mongo(tmp_path: Path) -> Iterator[MongoServer]:
    """A server of its own where the suite's is one it started (embedded, ``mongod``, a container):
    20,000 customers are dropped by stopping it. Dropping them from the shared embedded server took
    it over two minutes on a CI machine, and every test after timed out waiting for it."""
    server = start_mongo(tmp_path / "data", log_dir=tmp_path)
    yield server
    server.stop()


async def test_every_write_and_query_costs_the_same_at_twenty_thousand_customers(own_mongo: MongoServer) -> None:
    stores = {n: await seeded(own_mongo, n) for n in (SMALL, LARGE)}
    try:
        small, large = writes_of(stores[SMALL]), writes_of(stores[LARGE])
        ratios = {f"write: {name}": await fastest(large[name]) / await fastest(small[name]) for name in small}
        for name, request in (
            ("recent customers", profile_pb2.ListCustomersRequest()),
            ("customers by name", profile_pb2.ListCustomersRequest(query="c0 c")),
        ):
            times = [await fastest(functools.partial(Directory(store, "US").page, request)) for store in stores.values()]
            ratios[f"directory: {name}"] = times[1] / times[0]
        for name, example in sorted(q.SHAPES.items()):
            if name in WHOLE_COLLECTION:
                continue
            query = example()
            times = [await fastest(functools.partial(first_page, query, store)) for store in stores.values()]
            ratios[f"query: {name}"] = times[1] / times[0]
    finally:
        for store in stores.values():
            if own_mongo.kind == "MONGODB_URI":  # a server the suite did not start: leave it clean
                await store.client.drop_database(store.db.name)
            await store.close()
    slow = {name: round(r, 1) for name, r in ratios.items() if r > MAX_RATIO}
    assert slow == {}, f"what scans (time at {LARGE} customers / at {SMALL}): {slow}"
