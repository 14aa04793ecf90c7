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
from linkmesh_profile.model.app import Webhooks
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


async def test_a_new_order_that_names_only_its_id_reaches_its_buyers_profile(mongo: MongoServer) -> None:
    """BigCommerce's store/order/created names the order alone, and no data held names a new
    order: the app is asked whose it is (one search by its number), and the buyer's link is read."""
    import aiohttp

    from linkmesh_sandboxes.bigcommerce import data

    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        inbox = Inbox(kit.store)
        worker = Consumer(kit.store, kit.refresher, inbox)
        root = f"{kit.app.settings['api_base_url']}/stores/{data.STORE_HASH}"
        headers = {"X-Auth-Token": data.ACCESS_TOKEN, "Accept": "application/json"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.post(f"{root}/v2/orders", json={"customer_id": 101, "products": [{"product_id": 113, "quantity": 2}]}) as resp:
                placed = str((await resp.json())["id"])
            async with http.post(f"{root}/v2/orders", json={"customer_id": 103, "products": [{"product_id": 113, "quantity": 1}]}) as resp:
                someone_elses = str((await resp.json())["id"])
        new = lookup_pb2.Change(
            event_id="e-placed",
            topic="store/order/created",
            happened_at=stamp(timedelta(seconds=1)),
            order_id=placed,
            kind="change",
            order_is_new=True,
        )
        await inbox.keep(kit.app.id, new, now())
        await inbox.keep(
            kit.app.id,
            lookup_pb2.Change(event_id="e-other", order_id=someone_elses, kind="change", order_is_new=True),
            now(),
        )
        assert await worker.drain() == 2
        assert (await inbox.state_of(kit.app.id, "e-placed") or {})["state"] == "applied"
        assert (await inbox.state_of(kit.app.id, "e-other") or {})["state"] == "no_customer", "a buyer no one links"
        orders = (await kit.read(jane)).links[kit.app.id].data["orders"]
        assert placed in [str(o["id"]) for o in orders], "the new order is on the profile"


async def test_data_its_change_events_keep_fresh_is_not_read_again_on_open(mongo: MongoServer) -> None:
    """The goal of issue 34: an app subscribed to its vendor's events is read on open only after
    the events' window (a day by default), not the freshness window; one not subscribed as before."""
    import aiohttp

    from linkmesh_profile.linking.refresh import Refresher
    from linkmesh_sandboxes.bigcommerce import data

    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        apps, lookups = kit.refresher.apps, kit.refresher.lookups
        opens = Refresher(kit.store, apps, lookups, kit.links, freshness_s=0.0, events_freshness_s=3600.0)
        log = f"{kit.app.settings['api_base_url']}/__sandbox/requests"

        async def vendor_calls_of_an_open() -> int:
            async with aiohttp.ClientSession() as http:
                await http.delete(log)
                await opens.refresh(await kit.read(jane))
                async with http.get(log) as resp:
                    return len([r for r in await resp.json() if f"/stores/{data.STORE_HASH}/" in r["path"]])

        assert await vendor_calls_of_an_open() > 0, "not subscribed: read on every open past the freshness window"
        await kit.store.set_app_webhooks(kit.app.id, Webhooks("active", topics=("store/order/updated",)))
        await asyncio.sleep(1.1)  # this replica's copy of the apps
        assert await vendor_calls_of_an_open() == 0, "kept fresh by its events: no vendor is asked"
