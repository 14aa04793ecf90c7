"""Applying the vendors' change events, once across replicas: each waiting event is claimed
under a lease (``db.inbox``), its customer found by the link it names (the customer's id at the
vendor, else an order's), and that one link read again from the vendor (``Refresher``), unless
the data held is already younger than the event (an event older than the data never
overwrites it). An event for a record no customer links is recorded and dropped; a vendor or
database that does not answer leaves it waiting, due again later, up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter
from pymongo.errors import PyMongoError

from linkmesh_core.errors import ServiceError
from linkmesh_profile.db import listings
from linkmesh_profile.db.search_keys import ORDER_SEPARATOR, order_number
from linkmesh_profile.db.store import now

if TYPE_CHECKING:
    from linkmesh_profile.db.inbox import Event, Inbox
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.linking.refresh import Refresher
    from linkmesh_profile.model.customer import Customer
    from linkmesh_profile.privacy.vendor_requests import VendorRequests

log = structlog.get_logger("linkmesh.events")
APPLIED = Counter("linkmesh_events_applied_total", "Vendor change events settled, by how", ["state"])
MAX_ATTEMPTS = 6
LEASE_S = 30.0


class Consumer:
    def __init__(
        self, store: Store, refresher: Refresher, inbox: Inbox, idle_s: float = 60.0, privacy: VendorRequests | None = None
    ) -> None:
        self.store = store
        self.privacy = privacy  # a vendor's privacy requests (Shopify's), carried out
        self.refresher = refresher
        self.inbox = inbox
        self.idle_s = idle_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """An event was kept in this process: apply it now. An event put off is woken for when it
        is due; the rounds (every ``idle_s``) only find those a replica that stopped had kept."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except PyMongoError as exc:  # the database is away: the next round tries again
                log.warning("events_paused", error_type=type(exc).__name__)
            except Exception:
                log.exception("events_failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_s)
            except TimeoutError:
                pass

    async def drain(self) -> int:
        """Applies every event due; answers how many."""
        done = 0
        while (event := await self.inbox.claim(now(), LEASE_S)) is not None:
            await self.apply(event)
            done += 1
        return done

    async def _whose(self, event: Event) -> Customer | None:
        """The whole profile (its links' data too) of the customer linking the record the event names."""
        found_id = ""
        if event.external_customer_id:
            holder = await self.store.customer_with_link(event.app_id, event.external_customer_id)
            found_id = holder.id if holder is not None else ""
        elif event.order_id:
            key = f"{order_number(event.order_id)}{ORDER_SEPARATOR}{event.app_id}"
            listed = await listings.with_order(self.store, [key], limit=1)
            found_id = listed[0].id if listed else await self._buyer_of_new_order(event)
        return await self.store.get_customer(found_id) if found_id else None

    async def _buyer_of_new_order(self, event: Event) -> str:
        """A new order no data held names yet (a vendor whose payloads carry only its id): the app
        is asked whose it is (a search by its number, one vendor call), and a linked buyer's
        profile answered. An order of someone no one links costs that one call, nothing more."""
        app = await self.store.get_app(event.app_id) if event.order_is_new else None
        if app is None:
            return ""
        answer, _ = await self.refresher.lookups.search(app, "", emails=[], phones=[], order_number=event.order_id, kind="event_search")
        for candidate in answer.candidates:
            holder = await self.store.customer_with_link(app.id, candidate.external_id)
            if holder is not None:
                return holder.id
        return ""

    async def _settle(self, event: Event, state: str, note: str = "") -> None:
        APPLIED.labels(state).inc()
        log.info("event_settled", app_id=event.app_id, topic=event.topic, event_id=event.event_id, state=state)
        await self.inbox.settle(event, state, note, now())

    async def apply(self, event: Event) -> None:
        if event.kind == "privacy" and self.privacy is not None:
            return await self._settle(event, "applied", await self.privacy.carry_out(event))
        if event.kind != "change":
            return await self._settle(event, "recorded", f"a {event.kind or 'bare'} event: nothing to refresh")
        app = await self.store.get_app(event.app_id)
        if app is None or not app.active:
            return await self._settle(event, "app_inactive")
        try:
            customer = await self._whose(event)
            link = customer.links.get(app.id) if customer is not None else None
            if customer is None or link is None:
                return await self._settle(event, "no_customer", "no customer links the record it names")
            if (
                link.stale is None
                and link.refreshed_at is not None
                and event.happened_at is not None
                and event.happened_at <= link.refreshed_at
            ):
                return await self._settle(event, "already_fresh", "the data held is younger than the event")
            await self.refresher.refresh_app(customer.id, app, force=True, customer=customer)
        except ServiceError as err:  # the vendor did not answer: due again later, up to MAX_ATTEMPTS
            if event.attempts >= MAX_ATTEMPTS:
                return await self._settle(event, "failed", f"{err.code.name}: {err.message}")
            APPLIED.labels("later").inc()
            after = min(2.0**event.attempts, 300.0)
            asyncio.get_running_loop().call_later(after, self.wake)
            return await self.inbox.later(event, after, f"{err.code.name}: {err.message}", now())
        return await self._settle(event, "applied")
