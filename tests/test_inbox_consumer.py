"""The change events' inbox and consumer on a real MongoDB with a real BigCommerce connector and
sandbox (issue 34): an event is kept once (a duplicate is recognised by its id), applied once
however many replicas drain together, never over data younger than it (an event that arrives
late, out of order, changes nothing), found by the order it names when it names no customer,
and recorded and dropped when no customer links its record."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db.inbox import Inbox
from linkmesh_profile.db.store import now
from linkmesh_profile.events.consumer import Consumer
from tests.profile_kit import profile_kit


def change(event_id: str, at: Timestamp, customer: str = "", order: str = "", kind: str = "change") -> lookup_pb2.Change:
    return lookup_pb2.Change(
        event_id=event_id, topic="store/order/updated", happened_at=at, external_customer_id=customer, order_id=order, kind=kind
    )


def stamp(delta: timedelta = timedelta()) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(now() + delta)
    return out


async def test_an_event_is_applied_once_never_over_younger_data_and_dropped_when_no_one_links(mongo: MongoServer) -> None:
    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        app = kit.app.id
        inbox = Inbox(kit.store)
        replicas = [Consumer(kit.store, kit.refresher, inbox) for _ in range(3)]
        held = (await kit.read(jane)).links[app].refreshed_at
        assert held is not None

        late = change("e-late", stamp(-timedelta(hours=1)), customer="101")  # happened before the data was read
        assert await inbox.keep(app, late, now()) and not await inbox.keep(app, late, now()), "a duplicate is kept once"
        done = await asyncio.gather(*(r.drain() for r in replicas))
        assert sum(done) == 1, "three replicas drained together: applied once"
        assert (await inbox.state_of(app, "e-late") or {})["state"] == "already_fresh"
        assert (await kit.read(jane)).links[app].refreshed_at == held, "an event older than the data changes nothing"

        await inbox.keep(app, change("e-new", stamp(timedelta(seconds=1)), customer="101"), now())
        await inbox.keep(app, change("e-order", stamp(timedelta(seconds=2)), order="5002"), now())  # names only its order
        await inbox.keep(app, change("e-nobody", stamp(), customer="999999"), now())
        await inbox.keep(app, change("e-privacy", stamp(), customer="101", kind="privacy"), now())
        assert sum(await asyncio.gather(*(r.drain() for r in replicas))) == 4
        states = {e: (await inbox.state_of(app, e) or {}).get("state") for e in ("e-new", "e-order", "e-nobody", "e-privacy")}
        assert states == {"e-new": "applied", "e-order": "applied", "e-nobody": "no_customer", "e-privacy": "recorded"}, states
        refreshed = (await kit.read(jane)).links[app].refreshed_at
        assert refreshed is not None and refreshed > held, "a newer event read the link again"


async def test_an_event_whose_vendor_does_not_answer_waits_and_is_given_up_after_its_attempts(mongo: MongoServer) -> None:
    from linkmesh_profile.events import consumer as module

    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        inbox = Inbox(kit.store)
        worker = Consumer(kit.store, kit.refresher, inbox)
        gone = {f"links.{kit.app.id}.external_customer_id": "424242", "link_keys": [f"{kit.app.id}:424242"]}
        await kit.store.change_customer(jane.id, {"$set": gone})  # a record the vendor no longer has
        await inbox.keep(kit.app.id, change("e-gone", stamp(timedelta(seconds=1)), customer="424242"), now())
        await worker.drain()
        entry = await inbox.state_of(kit.app.id, "e-gone") or {}
        assert entry["state"] == "waiting" and entry["due_at"] > now() and entry["attempts"] == 1, entry
        await kit.store.db["inbox"].update_one({"_id": entry["_id"]}, {"$set": {"due_at": now(), "attempts": module.MAX_ATTEMPTS}})
        await worker.drain()
        assert (await inbox.state_of(kit.app.id, "e-gone") or {})["state"] == "failed"
