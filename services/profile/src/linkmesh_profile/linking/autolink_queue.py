"""Deferred auto-link: work a rate limit refused is kept, not dropped.

When a vendor's rate limit (or a known pause: an open circuit, a maintenance
window) refuses an auto-link's search or DETAILED fetch, the (customer, app)
pair is queued in MongoDB with the time the vendor will take requests again.
The contact's answer lists the app as ``pending``. A worker in every profile
replica claims due entries with an atomic update that sets a lease (so two
replicas never run one entry at once, and an entry whose replica died is taken
again when its lease expires) and runs the auto-link again; an entry is removed
once it has an outcome other than "deferred again", or after ``max_attempts``.
One entry per (customer, app): a burst of contacts queues each pair once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from pymongo.errors import PyMongoError

from linkmesh_profile.db import leases, writes
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import Store, now

log = structlog.get_logger("linkmesh.autolink_queue")


class AutoLinkQueue:
    def __init__(self, store: Store, *, lease_s: float = 60.0, max_attempts: int = 20, clock: Callable[[], datetime] = now) -> None:
        self.store = store
        self.collection = store.db[q.QUEUE]
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.clock = clock
        self._wake = asyncio.Event()

    async def defer(self, customer_id: str, app_id: str, delay_s: float, reason: str) -> None:
        """Queues (or re-times) the pair's auto-link for when the vendor takes requests again."""
        stamp = self.clock()
        await self.collection.update_one(
            q.queued_pair(customer_id, app_id).filter,
            {
                "$set": {"not_before": stamp + timedelta(seconds=max(delay_s, 0.5)), "reason": reason, "updated_at": stamp},
                "$unset": leases.QUEUED.release(),
                "$setOnInsert": {"created_at": stamp, "attempts": 0},
            },
            upsert=True,
        )
        self._wake.set()

    async def claim(self) -> dict[str, Any] | None:
        """One due entry, leased to this process (atomically: no other replica gets it)."""
        stamp = self.clock()
        due = q.queue_due(stamp)
        return await writes.claim_one(
            self.collection.database, due, {"$set": leases.QUEUED.take(stamp, self.lease_s), "$inc": {"attempts": 1}}
        )

    async def done(self, entry: dict[str, Any]) -> None:
        """Removes the entry unless it was deferred again meanwhile (a new not_before, its lease cleared)."""
        await self.collection.delete_one(q.queue_entry_leased(entry["_id"], leases.QUEUED.holder(entry)).filter)

    async def pending(self) -> int:
        return await self.collection.estimated_document_count()

    async def next_due_in(self, within_s: float = 5.0) -> float | None:
        """Seconds until the next entry comes due, if one does within ``within_s``."""
        first = await q.queue_next(self.clock(), within_s).find_one(self.store.db)
        if first is None:
            return None
        return max((first["not_before"] - self.clock()).total_seconds(), 0.0)

    async def run_due(self, handle: Callable[[dict[str, Any]], Any]) -> int:
        """Runs every due entry through ``handle`` (customer_id, app_id); answers how many ran."""
        ran = 0
        while (entry := await self.claim()) is not None:
            ran += 1
            if entry["attempts"] > self.max_attempts:
                log.warning("autolink_given_up", customer_id=entry["customer_id"], app_id=entry["app_id"], attempts=entry["attempts"] - 1)
                await self.done(entry)
                continue
            try:
                await handle(entry)
            except Exception:  # one entry's failure leaves it to its lease; the others go on
                log.exception("autolink_deferred_failed", customer_id=entry["customer_id"], app_id=entry["app_id"])
                continue
            await self.done(entry)
        return ran

    async def run_forever(self, handle: Callable[[dict[str, Any]], Any], idle_s: float = 5.0) -> None:
        """Sleeps until the next entry is due (at most ``idle_s``, or until one is deferred), then runs what is due."""
        while True:
            try:
                await self.run_due(handle)
                wait = await self.next_due_in(idle_s)
            except PyMongoError:  # the database is away: try again later
                wait = idle_s
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=min(idle_s, wait if wait is not None else idle_s) + 0.05)
            except TimeoutError:
                pass


async def run_deferred(store: Store, autolinker: Any, entry: dict[str, Any]) -> None:
    """Runs a queued auto-link again, if its app is still active and its customer still there
    (a refusal again re-queues it, through the auto-linker's ``defer``)."""
    app = await store.get_app(entry["app_id"])
    if app is None or not app.active:
        return
    customer = await store.get_customer(entry["customer_id"])
    if customer is None:
        return
    await autolinker.auto_link_app(customer, app)
