"""The reconciliation sweep on a real MongoDB with a real BigCommerce connector and sandbox (issue
34): a change no event told of (the store sent none) is read from the vendor's own "modified
since" list and applied to the linked profile, another customer's change costs no vendor read,
a sweep reads no more pages than its budget and the next one reads on from where it stopped, one
replica sweeps an app at a time, and a subscription the vendor dropped is registered again and said."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

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
