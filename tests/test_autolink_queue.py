"""The deferred auto-link queue on a real MongoDB: one entry per pair, claimed by one
worker at a time under a lease, taken again when a lease expires, kept when deferred again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db.store import Store
from linkmesh_profile.linking.autolink_queue import AutoLinkQueue


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_claims_leases_and_re_deferrals(mongo: MongoServer) -> None:
    store = Store(mongo.uri, f"queue_{uuid.uuid4().hex[:8]}")
    clock = Clock()
    queue = AutoLinkQueue(store, lease_s=30, clock=clock)
    other_replica = AutoLinkQueue(store, lease_s=30, clock=clock)
    try:
        await store.ensure_indexes()
        await queue.defer("c1", "a1", 10, "rate limited")
        await queue.defer("c1", "a1", 12, "rate limited again")  # a burst queues the pair once
        assert await queue.pending() == 1
        assert await queue.claim() is None, "not due before the window resets"
        clock.now += timedelta(seconds=12)
        entry = await queue.claim()
        assert entry is not None and entry.attempts == 1
        assert await other_replica.claim() is None, "leased: no other replica runs it"
        clock.now += timedelta(seconds=31)
        taken_again = await other_replica.claim()
        assert taken_again is not None and taken_again.attempts == 2, "a dead replica's lease expires"
        await queue.defer("c1", "a1", 5, "refused again")  # the run was refused again: re-timed, lease cleared
        await other_replica.done(taken_again)
        assert await queue.pending() == 1, "an entry deferred again stays"
        clock.now += timedelta(seconds=5)
        ran = await queue.run_due(lambda entry: _noop())
        assert ran == 1 and await queue.pending() == 0, "run and removed"
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()


async def _noop() -> None:
    return None
