"""Open profiles watched for changes, so a console shows what a change event (or anything else)
wrote while an agent looks at it. Every write of a profile stamps its ``updated_at``; one loop
per replica reads the stamps of every profile watched here in one indexed read (``_id $in``)
each ``poll_s`` while anyone watches, whichever replica wrote. Each watcher hears the stamp
once when it starts (to compare with what it shows) and then each new one; a profile that is
gone is said once and the watch ends. A watcher too slow to read keeps only the newest stamp.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Gauge
from pymongo.errors import PyMongoError

from linkmesh_core.errors import not_found, resource_exhausted
from linkmesh_profile.db import listings

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store

log = structlog.get_logger("linkmesh.watch")
WATCHING = Gauge("linkmesh_profile_watchers", "Open profiles watched for changes on this replica")


@dataclass(frozen=True)
class Revision:
    customer_id: str
    updated_at: datetime | None
    gone: bool = False


class Watcher:
    """One open profile's changes, newest only when its reader falls behind."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self._queue: asyncio.Queue[Revision] = asyncio.Queue(maxsize=1)

    def tell(self, revision: Revision) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # what it had not read yet is older than this
        self._queue.put_nowait(revision)

    async def next(self) -> Revision:
        return await self._queue.get()


class Watch:
    def __init__(self, store: Store, poll_s: float = 0.5, limit: int = 10_000) -> None:
        self.store = store
        self.poll_s = poll_s
        self.limit = limit
        self._watchers: dict[str, set[Watcher]] = {}
        self._seen: dict[str, Revision] = {}
        self._loop: asyncio.Task[None] | None = None
        self._poked = asyncio.Event()

    def wrote(self, customer_id: str) -> None:
        """This replica wrote the profile (a refresh, a change event applied): its watchers here
        hear of it at once, not at the next round (other replicas' writes wait for the round)."""
        if customer_id in self._watchers:
            self._poked.set()

    @contextlib.asynccontextmanager
    async def watching(self, customer_id: str) -> AsyncIterator[Watcher]:
        """A watcher of this profile while the block runs; its first revision is the profile as it is now."""
        if sum(len(w) for w in self._watchers.values()) >= self.limit:
            raise resource_exhausted(f"this replica watches {self.limit} open profiles already; try again later", 5.0)
        listed = await listings.by_ids(self.store, [customer_id])
        if customer_id not in listed:
            raise not_found(f"no customer {customer_id}")
        watcher = Watcher(customer_id)
        first = self._seen.get(customer_id) or Revision(customer_id, listed[customer_id].updated_at)
        self._seen.setdefault(customer_id, first)
        self._watchers.setdefault(customer_id, set()).add(watcher)
        WATCHING.inc()
        if self._loop is None or self._loop.done():  # runs while anyone watches here
            self._loop = asyncio.create_task(self._poll_while_watched())
        watcher.tell(first)
        try:
            yield watcher
        finally:
            WATCHING.dec()
            held = self._watchers.get(customer_id, set())
            held.discard(watcher)
            if not held:
                self._watchers.pop(customer_id, None)
                self._seen.pop(customer_id, None)

    async def _poll_while_watched(self) -> None:
        while self._watchers:
            try:
                await asyncio.wait_for(self._poked.wait(), self.poll_s)
            except TimeoutError:
                pass
            self._poked.clear()
            try:
                await self.poll()
            except PyMongoError as exc:  # the database is away: watchers keep what they have
                log.warning("watch_paused", error_type=type(exc).__name__)
            except Exception:
                log.exception("watch_failed")

    async def poll(self) -> None:
        """Reads every watched profile's stamp at once and tells the watchers of each that changed."""
        ids = list(self._watchers)
        if not ids:
            return
        listed = await listings.by_ids(self.store, ids)
        for customer_id in ids:
            found = listed.get(customer_id)
            revision = Revision(customer_id, found.updated_at) if found is not None else Revision(customer_id, None, gone=True)
            if revision == self._seen.get(customer_id):
                continue
            self._seen[customer_id] = revision
            for watcher in list(self._watchers.get(customer_id, ())):
                watcher.tell(revision)
