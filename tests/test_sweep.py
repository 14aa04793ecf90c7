"""The reconciliation sweep on a real MongoDB with a real BigCommerce connector and sandbox (issue
34): a change no event told of (the store sent none) is read from the vendor's own "modified
since" list and applied to the linked profile, another customer's change costs no vendor read,
a sweep reads no more pages than its budget and the next one reads on from where it stopped, one
replica sweeps an app at a time, and a subscription the vendor dropped is registered again and said."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import aiohttp

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db.inbox import Inbox
from linkmesh_profile.db.store import now
from linkmesh_profile.db.sweeps import Cursor, SweepCursors
from linkmesh_profile.events.consumer import Consumer
from linkmesh_profile.events.subscriptions import Subscriptions
from linkmesh_profile.events.sweep import Sweeper
from linkmesh_sandboxes.bigcommerce import data
from tests.profile_kit import Kit, profile_kit
from tests.test_bigcommerce_hooks_sandbox import AUTH
from tests.test_shopify_webhooks_sandbox import receiver


async def vendor(kit: Kit, method: str, path: str, body: Any = None) -> Any:
    root = f"{kit.app.settings['api_base_url']}/stores/{data.STORE_HASH}"
    async with aiohttp.ClientSession(headers=AUTH) as http, http.request(method, f"{root}{path}", json=body) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json() if resp.status != 204 else None


def status_of(customer: Any, app_id: str, order: str) -> str:
    return str(next(o["status"] for o in customer.links[app_id].data["orders"] if str(o["id"]) == order))


async def test_a_change_no_event_told_of_reaches_the_linked_profile_within_the_budget(mongo: MongoServer) -> None:
    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        assert status_of(await kit.read(jane), kit.app.id, "5003") == "Awaiting Fulfillment"
        inbox = Inbox(kit.store)
        consumer = Consumer(kit.store, kit.refresher, inbox)
        subscriptions = Subscriptions(kit.store, kit.refresher.apps, "")
        sweeper = Sweeper(kit.store, kit.refresher.apps, inbox, subscriptions, consumer.wake, interval_s=900, max_pages=1, page=1)
        since = now() - timedelta(seconds=5)
        await vendor(kit, "PUT", "/v2/orders/5005", {"status_id": 5})  # Joan's: no one here links her
        await asyncio.sleep(1.1)  # the store keeps whole seconds: the two changes are told apart
        await vendor(kit, "PUT", "/v2/orders/5003", {"status_id": 5})  # Jane's, cancelled: no hook, no event

        first = await sweeper.sweep(kit.app, Cursor(since))
        assert (first.read, first.kept, first.pages, first.complete) == (1, 0, 1, False), first
        cursor = await SweepCursors(kit.store).last(kit.app.id) or {}
        assert cursor["page_token"] == "2" and cursor["last"]["complete"] is False, "the next sweep reads on from where this one stopped"
        second = await sweeper.sweep(kit.app, Cursor(cursor["since"], cursor["page_token"]))
        assert second.kept == 1 and second.read >= 1, second
        assert await consumer.drain() == 1
        assert status_of(await kit.read(jane), kit.app.id, "5003") == "Cancelled"

        assert await sweeper.sweep_due() == 0, "not due again for the interval"
        await kit.store.db["meta"].update_one({"_id": f"sweep:{kit.app.id}"}, {"$set": {"next_at": now()}})  # the interval passed
        racing = [Sweeper(kit.store, kit.refresher.apps, inbox, subscriptions, consumer.wake) for _ in range(3)]
        assert sum(await asyncio.gather(*(s.sweep_due() for s in racing))) == 1, "three replicas: one sweeps"


async def test_a_subscription_the_vendor_dropped_is_registered_again_and_said(mongo: MongoServer) -> None:
    async with profile_kit(mongo) as kit, receiver() as box:
        inbox = Inbox(kit.store)
        subscriptions = Subscriptions(kit.store, kit.refresher.apps, box.url.rsplit("/", 1)[0])
        made = await subscriptions.ensure(kit.app)
        assert made.active, made
        hooks = (await vendor(kit, "GET", "/v3/hooks"))["data"]
        await vendor(kit, "DELETE", f"/v3/hooks/{hooks[0]['id']}")  # BigCommerce dropped it
        app = await kit.store.get_app(kit.app.id)
        assert app is not None and app.kept_fresh_by_events
        sweeper = Sweeper(kit.store, kit.refresher.apps, inbox, subscriptions, lambda: None)
        report = await sweeper.sweep(app, Cursor(now()))
        assert report.restored == 1, report
        again = await kit.store.get_app(kit.app.id)
        assert again is not None and again.webhooks is not None
        assert "registered again 1 subscription" in again.webhooks.message, again.webhooks
        assert len((await vendor(kit, "GET", "/v3/hooks"))["data"]) == len(hooks)


async def test_a_sweep_that_finds_the_vendor_down_asks_it_nothing_more(mongo: MongoServer) -> None:
    """Its hooks are asked for only when the vendor answered the read (or offers no list of
    changes): a vendor down or out of budget is not called again in the same round, and an app
    whose circuit is open is not called at all."""
    async with profile_kit(mongo) as kit, receiver() as box:
        inbox = Inbox(kit.store)
        subscriptions = Subscriptions(kit.store, kit.refresher.apps, box.url.rsplit("/", 1)[0])
        assert (await subscriptions.ensure(kit.app)).active
        app = await kit.store.get_app(kit.app.id)
        assert app is not None and app.kept_fresh_by_events
        sweeper = Sweeper(kit.store, kit.refresher.apps, inbox, subscriptions, lambda: None)
        base = kit.app.settings["api_base_url"]
        async with aiohttp.ClientSession() as http:

            async def calls() -> list[str]:
                async with http.get(f"{base}/__sandbox/requests") as resp:
                    return [r["path"] for r in await resp.json() if f"/stores/{data.STORE_HASH}/" in r["path"]]

            await http.post(f"{base}/__sandbox/knobs", json={"down": True})
            await http.delete(f"{base}/__sandbox/requests")
            reports = [await sweeper.sweep(app, Cursor(now())) for _ in range(4)]  # the third failure opens the circuit
            assert all(r.error.startswith("UNAVAILABLE") and not r.complete for r in reports), reports
            assert "not called again" in reports[-1].error, reports[-1]
            made = await calls()
            assert made and not [p for p in made if "/v3/hooks" in p], f"a vendor that is down is not asked for its hooks: {made}"
            await http.delete(f"{base}/__sandbox/requests")
            await sweeper.sweep(app, Cursor(now()))
            assert await calls() == [], "an open circuit sends nothing"
            await http.post(f"{base}/__sandbox/knobs", json={"down": False})


async def test_a_new_app_is_first_swept_an_interval_after_it_was_made_from_then(mongo: MongoServer) -> None:
    """Nothing linked it before it was made and its links read the vendor when made: its first
    round asks the vendor nothing and sets its cursor to start where the app did."""
    async with profile_kit(mongo) as kit:
        app = await kit.store.get_app(kit.app.id)
        assert app is not None and app.created_at is not None
        sweeper = Sweeper(kit.store, kit.refresher.apps, Inbox(kit.store), Subscriptions(kit.store, kit.refresher.apps, ""), lambda: None)
        base = kit.app.settings["api_base_url"]
        async with aiohttp.ClientSession() as http:
            await http.delete(f"{base}/__sandbox/requests")
            assert await sweeper.sweep_due() == 0
            async with http.get(f"{base}/__sandbox/requests") as resp:
                assert await resp.json() == [], "a new app's first round asks its vendor nothing"
            cursor = await SweepCursors(kit.store).last(kit.app.id) or {}
            assert cursor["since"] == app.created_at - timedelta(minutes=1) and "last" not in cursor, cursor
            assert cursor["next_at"] == app.created_at + timedelta(seconds=900), cursor
            assert await sweeper.sweep_due() == 0, "not due before its interval"
            await kit.store.db["meta"].update_one({"_id": f"sweep:{kit.app.id}"}, {"$set": {"next_at": now()}})
            assert await sweeper.sweep_due() == 1, "due an interval after it was made"
            async with http.get(f"{base}/__sandbox/requests") as resp:
                asked = [parse_qs(r["query"]).get("min_date_modified") for r in await resp.json() if r["path"].endswith("/v2/orders")]
            assert asked == [[(app.created_at - timedelta(minutes=1)).isoformat(timespec="seconds")]], asked
