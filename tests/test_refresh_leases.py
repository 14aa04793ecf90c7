"""Refresh leases, kept in a small document of their own per customer, over the real database:
every due app's lease in one write, none taken while one is held on the same state of the link,
free once the holder has written, followed until the holder writes, taken over once the
holder's time runs out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from bson import ObjectId
from pymongo import monitoring

from linkmesh_core.errors import ServiceError
from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.refresh_leases import RefreshLeases, seen, state_key
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.model.customer import Customer

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
    links = {app: {"external_customer_id": "jane.smith@example.com", "refreshed_at": stamp, "stale": None} for app in (A, B)}
    doc = await store.insert_customer(
        {"name": "Lease Test", "emails": [], "phones": [], "links": links, "link_keys": [], "created_at": stamp, "updated_at": stamp}
    )
    return doc.id


async def read(store: Store, cid: str) -> Customer:
    found = await store.get_customer(cid)
    assert found is not None
    return found


async def leases_of(store: Store, cid: str) -> dict[str, Any]:
    """The customer's refresh leases by app, as the lease document holds them."""
    held = await q.refresh_leases_of(ObjectId(cid)).find_one(store.db)
    return dict(held or {}).get("apps", {})


async def write_data(store: Store, cid: str, app: str) -> None:
    """The holder's own write of the app's data (no lease let go: its state changes)."""
    assert await store.change_customer(cid, {"$set": {f"links.{app}.refreshed_at": now()}})


async def test_leases_of_every_app_are_taken_together_or_not_at_all(store: Store) -> None:
    cid = await customer(store)
    one, other = RefreshLeases(store), RefreshLeases(store)
    as_read = await read(store, cid)
    under = await one.take(cid, [A, B], 10, as_read=as_read)
    assert under is as_read, "it answers the profile it was taken on"
    taken = await leases_of(store, cid)
    assert set(taken) == {A, B}, "one write takes both"
    assert set(taken[A]) == {state_key(seen(as_read.links[A]))}, "on the state of the link as read"
    assert await other.take(cid, [B], 10, as_read=as_read) is None, "held"
    assert await other.take(cid, [A, B], 10) is None, "held on the profile as it is too"
    await write_data(store, cid, A)
    after = await read(store, cid)
    assert await other.take(cid, [A], 10, as_read=after) is after, "the holder's write freed it: nothing was let go"
    assert await other.take(cid, [A, B], 10, as_read=after) is None, "nothing is taken while one of them is held"
    assert await other.take(cid, [A], 10, as_read=after) is None, "A is held again, on the new state"
    await one.release(cid, [B], as_read)
    assert await other.take(cid, [B], 10, as_read=after) is after, "let go"
    assert set((await leases_of(store, cid))[A]) == {state_key(seen(after.links[A]))}, "an older state's lease goes"


def test_a_state_key_names_one_state_of_a_link_whatever_the_reader() -> None:
    at = now()
    naive = at.replace(tzinfo=None)
    assert state_key(("jane.smith@example.com", at, None)) == state_key(("jane.smith@example.com", naive, None)), "UTC either way"
    keys = {state_key(s) for s in [("1", at, None), ("2", at, None), ("1", None, None), ("1", at, at), (None, None, None)]}
    assert len(keys) == 5, "each state its own"
    assert all(k.isalnum() for k in keys), "a field name: no dots, no dollars"


async def test_a_taker_that_read_before_the_holders_write_is_held_and_serves_the_write(store: Store) -> None:
    """Two replicas read the stale profile; one takes the lease, fetches and writes. The other's
    take comes after that write, on its older read: held, it follows and serves what was written
    (the vendor is asked once)."""
    cid = await customer(store)
    first, second = await read(store, cid), await read(store, cid)
    assert await RefreshLeases(store).take(cid, [A], 10, as_read=first) is first
    await write_data(store, cid, A)
    follower = RefreshLeases(store)
    assert await follower.take(cid, [A], 10, as_read=second) is None, "held: the same state of the link as read"
    after = await follower.follow(cid, A, seen(second.links[A]), time_left=2)
    assert after is not None and after.link is not None and seen(after.link) != seen(second.links[A]), "it serves the write"


async def test_a_follower_serves_the_holders_write_or_takes_over_when_its_time_runs_out(store: Store) -> None:
    cid = await customer(store)
    leader, follower = RefreshLeases(store), RefreshLeases(store)
    under = await leader.take(cid, [A], 10)
    assert under is not None
    before = seen(under.links[A])

    async def write_later() -> None:
        await asyncio.sleep(0.2)
        await write_data(store, cid, A)

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
    """The commands one store sent, with their collection (the app cache's own look at the apps,
    started beside a customer read, is not the lease's)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command.get(event.command_name) in ("customers", q.REFRESH_LEASES):
            self.sent.append((event.command_name, event.command[event.command_name]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_leases_taken_on_the_profile_as_read_are_one_small_write(mongo: MongoServer) -> None:
    """The caller just read the profile: taking its apps' leases is one write to the lease
    document (the customer's, which holds the apps' data, is neither written nor read again)."""
    db = f"leases_{uuid.uuid4().hex[:8]}"
    sent = Sent()
    store = Store(mongo.uri, db, listeners=(sent,))
    try:
        await store.ensure_indexes()
        cid = await customer(store)
        as_read = await read(store, cid)
        sent.sent.clear()
        under = await RefreshLeases(store).take(cid, [A, B], 10, as_read=as_read)
        assert sent.sent == [("update", q.REFRESH_LEASES)], sent.sent
        assert under is as_read
        assert set(await leases_of(store, cid)) == {A, B}
        held = await store.db[q.REFRESH_LEASES].find_one({})
        assert held is not None and held["expires_at"] == held["apps"][A][state_key(seen(as_read.links[A]))]["until"], (
            "gone with its leases"
        )
        indexes = await store.db[q.REFRESH_LEASES].index_information()
        assert indexes["ttl"]["expireAfterSeconds"] == 0 and indexes["ttl"]["key"] == [("expires_at", 1)]
        assert await RefreshLeases(store).take(cid, [A], 10, as_read=as_read) is None, "held: nothing is taken"
    finally:
        await store.client.drop_database(db)
        await store.close()
