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
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from pymongo.errors import PyMongoError

from linkmesh_profile.db.queue import Queue, QueuedLink
from linkmesh_profile.db.store import Store, now

if TYPE_CHECKING:
    from linkmesh_profile.linking.autolink import AutoLinker

log = structlog.get_logger("linkmesh.autolink_queue")
Handle = Callable[[QueuedLink], Any]


class AutoLinkQueue:
    def __init__(self, store: Store, *, lease_s: float = 60.0, max_attempts: int = 20, clock: Callable[[], datetime] = now) -> None:
        self.store = store
        self.entries = Queue(store)
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.clock = clock
        self._wake = asyncio.Event()

    async def defer(self, customer_id: str, app_id: str, delay_s: float, reason: str) -> None:
        """Queues (or re-times) the pair's auto-link for when the vendor takes requests again."""
        stamp = self.clock()
        await self.entries.put(customer_id, app_id, Queue.due_after(stamp, max(delay_s, 0.5)), reason, stamp)
        self._wake.set()

    async def claim(self) -> QueuedLink | None:
        """One due entry, leased to this process (atomically: no other replica gets it)."""
        return await self.entries.claim(self.clock(), self.lease_s)

    async def done(self, entry: QueuedLink) -> None:
        """Removes the entry unless it was deferred again meanwhile (a new not_before, its lease cleared)."""
        await self.entries.remove(entry)

    async def pending(self) -> int:
        return await self.entries.size()

    async def next_due_in(self, within_s: float = 5.0) -> float | None:
        """Seconds until the next entry comes due, if one does within ``within_s``."""
        stamp = self.clock()
        due = await self.entries.next_due(stamp, within_s)
        return None if due is None else max((due - stamp).total_seconds(), 0.0)

    async def run_due(self, handle: Handle) -> int:
        """Runs every due entry through ``handle``; answers how many ran."""
        ran = 0
        while (entry := await self.claim()) is not None:
            ran += 1
            if entry.attempts > self.max_attempts:
                log.warning("autolink_given_up", customer_id=entry.customer_id, app_id=entry.app_id, attempts=entry.attempts - 1)
                await self.done(entry)
                continue
            try:
                await handle(entry)
            except Exception:  # one entry's failure leaves it to its lease; the others go on
                log.exception("autolink_deferred_failed", customer_id=entry.customer_id, app_id=entry.app_id)
                continue
            await self.done(entry)
        return ran

    async def run_forever(self, handle: Handle, idle_s: float = 5.0) -> None:
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


async def run_deferred(store: Store, autolinker: AutoLinker, entry: QueuedLink) -> None:
    """Runs a queued auto-link again, if its app is still active and its customer still there
    (a refusal again re-queues it, through the auto-linker's ``defer``)."""
    app = await store.get_app(entry.app_id)
    if app is None or not app.active:
        return
    customer = await store.get_customer(entry.customer_id)
    if customer is None:
        return
    await autolinker.auto_link_app(customer, app)
