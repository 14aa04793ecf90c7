"""Refresh leases kept in the customer's document, over the real database: every due app's
lease in one write, none taken while one is held, followed until the holder writes, taken
over once the holder's time runs out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from pymongo import monitoring

from linkmesh_core.errors import ServiceError
from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.refresh_leases import RefreshLeases, release, seen
from linkmesh_profile.db.store import Store, now

A, B = "6b0000000000000000000002", "6b0000000000000000000004"


@pytest.fixture()
async def store(mongo: MongoServer) -> AsyncIterator[Store]:
    db = f"leases_{uuid.uuid4().hex[:8]}"
    store = Store(mongo.uri, db)
    try:
        yield store
    finally:
        await store.client.drop_database(db)
        await store.close()


async def customer(store: Store) -> str:
    stamp = now()
    links = {app: {"external_customer_id": "1", "refreshed_at": stamp, "stale": None} for app in (A, B)}
    doc = await store.insert_customer(
        {"name": "Lease Test", "emails": [], "phones": [], "links": links, "link_keys": [], "created_at": stamp, "updated_at": stamp}
    )
    return doc.id


async def test_leases_of_every_app_are_taken_together_or_not_at_all(store: Store) -> None:
    cid = await customer(store)
    one, other = RefreshLeases(store), RefreshLeases(store)
    under = await one.take(cid, [A, B], 10)
    assert under is not None and under.links[A].external_customer_id == "1", "it answers the profile"
    stored = await q.customer_by_id(under.oid).find_one(store.db)
    assert stored is not None and set(stored["refreshing"]) == {A, B}, "one write takes both"
    assert await other.take(cid, [B], 10) is None, "held"
    assert await other.take(cid, [A, B], 10) is None
    await store.update_customer(cid, {"$set": {f"links.{A}.refreshed_at": now()}, "$unset": release(A)})
    assert await other.take(cid, [A], 10) is not None, "the app's own write let its lease go"
    assert await other.take(cid, [A, B], 10) is None, "nothing is taken while one of them is held"
    await one.release(cid, [B])
    assert (await other.take(cid, [B], 10)) is not None


async def test_a_follower_serves_the_holders_write_or_takes_over_when_its_time_runs_out(store: Store) -> None:
    cid = await customer(store)
    leader, follower = RefreshLeases(store), RefreshLeases(store)
    under = await leader.take(cid, [A], 10)
    assert under is not None
    before = seen(under.links[A])

    async def write_later() -> None:
        await asyncio.sleep(0.2)
        await store.update_customer(cid, {"$set": {f"links.{A}.refreshed_at": now()}, "$unset": release(A)})

    writing = asyncio.ensure_future(write_later())
    after = await follower.follow(cid, A, before, time_left=5)
    await writing
    assert after is not None and seen(after.link) != before, "the follower serves what the leader wrote"

    assert await leader.take(cid, [B], 0.3) is not None  # a holder that dies: its lease runs out
    assert await follower.follow(cid, B, seen(under.links[B]), time_left=5) is None, "then it is free"
    assert await follower.take(cid, [B], 10) is not None, "and taken over"

    with pytest.raises(ServiceError) as failed:
        await leader.follow(cid, B, seen(under.links[B]), time_left=0.3)
    assert failed.value.code == grpc.StatusCode.DEADLINE_EXCEEDED, "a holder that does not finish in time fails the follower"


class Sent(monitoring.CommandListener):
    """The commands one store sent to the customers (the app cache's own look at the apps,
    started beside a customer read, is not the lease's)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command.get(event.command_name) == "customers":
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_leases_taken_on_the_profile_as_read_read_nothing_again(mongo: MongoServer) -> None:
    """The caller just read the profile: when the apps' links are as it read them, taking their
    leases is the one database command (no read under the leases), and the answer is that read."""
    db = f"leases_{uuid.uuid4().hex[:8]}"
    sent = Sent()
    store = Store(mongo.uri, db, listeners=(sent,))
    try:
        cid = await customer(store)
        as_read = await store.get_customer(cid)
        assert as_read is not None
        sent.names.clear()
        under = await RefreshLeases(store).take(cid, [A, B], 10, as_read=as_read)
        assert sent.names == ["update"], "one conditional write, nothing read again"
        assert under is as_read
        stored = await q.customer_by_id(as_read.oid).find_one(store.db)
        assert stored is not None and set(stored["refreshing"]) == {A, B}
        assert await RefreshLeases(store).take(cid, [A], 10, as_read=as_read) is None, "held: nothing is taken"
    finally:
        await store.client.drop_database(db)
        await store.close()


async def test_leases_taken_on_an_older_read_answer_the_profile_as_it_is_now(store: Store) -> None:
    """Another replica refreshed an app after the caller's read: the leases are taken all the
    same and the answer is the profile as it is under them (the caller sees the refresh was done)."""
    cid = await customer(store)
    as_read = await store.get_customer(cid)
    assert as_read is not None
    written = await store.update_customer(
        cid, {"$set": {f"links.{A}.refreshed_at": now(), f"links.{B}.stale": {"code": "UNAVAILABLE", "at": now()}}}
    )
    assert written is not None
    under = await RefreshLeases(store).take(cid, [A, B], 10, as_read=as_read)
    assert under is not None and under is not as_read
    assert seen(under.links[A]) == seen(written.links[A]) != seen(as_read.links[A]), "the profile as it is now"
    assert seen(under.links[B]) == seen(written.links[B])
    stored = await q.customer_by_id(as_read.oid).find_one(store.db)
    assert stored is not None and set(stored["refreshing"]) == {A, B}, "taken"
