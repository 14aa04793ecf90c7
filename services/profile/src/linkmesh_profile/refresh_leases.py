"""Refresh leases: one replica refreshes a customer's app at a time, the others wait for it.

Within one process concurrent refreshes of one customer and app share one call
(``SingleFlight``). Across replicas that is not enough: a profile opened in two
tabs, or by two agents, on two replicas would ask the vendor twice. So before a
replica asks the vendor it takes a lease in ``refresh_leases`` (``_id``
``<customer>:<app>``, its owner, an expiry): an ``insert_one`` that either
creates the lease or fails on the unique ``_id``. The holder (the leader)
fetches, writes and deletes the lease. Another replica (a follower) reads the
lease until it is gone, then serves what the leader wrote; a lease whose
holder died is taken over when it expires, and a TTL index removes leftovers.
Cost per refresh that calls the vendor: one insert and one delete; per
follower, one small read every 25-200 ms while it waits.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from linkmesh_core.errors import deadline_exceeded
from linkmesh_profile import queries as q
from linkmesh_profile.store import Store, now

FIRST_POLL_S, MAX_POLL_S = 0.025, 0.2


@dataclass
class Lease:
    key: str
    owner: str
    held: bool


class RefreshLeases:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.collection = store.db[q.LEASES]
        self._replica = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def take(self, customer_id: str, app_id: str, seconds: float) -> Lease:
        """The lease, held if this call took it (it was free, or its holder's time ran out)."""
        key = f"{customer_id}:{app_id}"
        owner = f"{self._replica}:{uuid.uuid4().hex[:8]}"
        expires_at = now() + timedelta(seconds=seconds)
        try:
            await self.collection.insert_one({"_id": key, "owner": owner, "expires_at": expires_at})
            return Lease(key, owner, True)
        except DuplicateKeyError:
            pass
        taken = await self.collection.update_one(q.expired_refresh_lease(key, now()).filter,
                                                 {"$set": {"owner": owner, "expires_at": expires_at}})
        if taken.modified_count == 1:
            return Lease(key, owner, True)
        current = await q.refresh_lease(key).find_one(self.store.db)
        return Lease(key, str((current or {}).get("owner", "")), False)

    async def release(self, lease: Lease) -> None:
        if lease.held:
            await self.collection.delete_one(q.refresh_lease(lease.key, lease.owner).filter)

    async def wait(self, lease: Lease, time_left: float) -> bool:
        """Waits while another replica holds ``lease``: True once it is gone (the leader wrote,
        or gave up), False when its holder's time ran out (take it over). Raises
        DEADLINE_EXCEEDED when the leader is not done within ``time_left``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + time_left
        pause = FIRST_POLL_S
        while True:
            current: dict[str, Any] | None = await q.refresh_lease(lease.key).find_one(self.store.db)
            if current is None or current.get("owner") != lease.owner:
                return True
            if current["expires_at"] <= now():
                return False
            if loop.time() + pause >= until:
                raise deadline_exceeded("another replica is refreshing this app and did not finish in time")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, MAX_POLL_S)
