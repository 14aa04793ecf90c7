"""Lookup traces stay bounded; single flight shares one call among concurrent callers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from bson import ObjectId

from linkmesh_core.singleflight import SingleFlight
from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.db.traces import TraceStore


async def test_traces_are_pruned_by_age_and_by_count_per_app(mongo: MongoServer) -> None:
    store = Store(mongo.uri, "traces_test")
    try:
        await store.db.drop_collection("lookup_traces")
        traces = TraceStore(store, retention_s=3600, max_per_app=5)
        a, b = ObjectId(), ObjectId()  # the apps whose traces are kept by count
        await store.apps.insert_many([{"_id": a, "name": "a"}, {"_id": b, "name": "b"}])
        await store.ensure_indexes(trace_retention_s=3600)
        for i in range(8):
            await traces.record(
                app_id=str(a),
                customer_id="c",
                kind="search",
                request={"app": {"secrets": {"access_token": "s3cr3t"}}, "i": i},
                response={"ok": True},
                code="OK",
                message="",
                latency_ms=1.0,
            )
        await traces.record(
            app_id=str(b), customer_id="c", kind="fetch", request={}, response=None, code="UNAVAILABLE", message="down", latency_ms=2.0
        )
        await traces.collection.insert_one({"app_id": str(b), "customer_id": "c", "kind": "old", "at": now() - timedelta(hours=2)})
        removed = await traces.prune()
        assert removed == 4
        kept_a = await traces.recent(str(a), limit=100)
        assert [t["request"]["i"] for t in kept_a] == [7, 6, 5, 4, 3], "the newest five of app a"
        assert all(t["request"]["app"]["secrets"] == "[redacted]" for t in kept_a)
        assert [t["kind"] for t in await traces.recent(str(b))] == ["fetch"], "the trace past retention is gone"
        indexes = await traces.collection.index_information()
        assert indexes["ttl"]["expireAfterSeconds"] == 3600
    finally:
        await store.client.drop_database("traces_test")
        await store.close()


async def test_single_flight_runs_once_for_concurrent_callers_and_again_afterwards() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    results = await asyncio.gather(*(flight.run("k", work) for _ in range(10)))
    assert [value for value, _ in results] == [1] * 10
    assert sum(leader for _, leader in results) == 1
    assert await flight.run("k", work) == (2, True) and len(flight) == 0


async def test_single_flight_shares_failures_and_survives_a_cancelled_caller() -> None:
    flight: SingleFlight[int] = SingleFlight()

    async def boom() -> int:
        await asyncio.sleep(0.05)
        raise ValueError("vendor down")

    first = asyncio.create_task(flight.run("k", boom))
    second = asyncio.create_task(flight.run("k", boom))
    await asyncio.sleep(0.01)
    first.cancel()
    with pytest.raises(ValueError):
        await second
