"""Retention: how long linkmesh keeps what it holds (docs/privacy.md, "Retention").

Lookup traces, audit entries and action records go by their collections' TTL indexes (the
settings change them in place, ``db.collections``). Two kinds need work a TTL cannot do, which
one replica at a time (a lease on ``meta``'s ``sweep:retention``) does every ``every_s``:
- the data a deactivated app pulled, once the app has been off ``inactive_app_days``: its links
  are removed as an unlink removes them (an app deleted removes them at once);
- profiles no one contacted for ``idle_profile_months``: erased as an admin's erase is.
At most ``batch`` of each a round, so a round stays short; the next goes on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter
from pymongo.errors import PyMongoError

from linkmesh_profile.db import listings, person
from linkmesh_profile.db.search_keys import RECENT_FORMAT
from linkmesh_profile.db.store import now
from linkmesh_profile.db.sweeps import Cursor, SweepCursors
from linkmesh_profile.linking.unlink import unlink

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.privacy.people import People

log = structlog.get_logger("linkmesh.retention")
REMOVED = Counter("linkmesh_retention_removed_total", "What the retention sweeper removed, by kind", ["kind"])
ROUNDS = Counter("linkmesh_retention_rounds_total", "Retention rounds this replica ran")
CURSOR = "retention"


@dataclass(frozen=True)
class Policy:
    inactive_app_days: float = 90.0  # 0: a deactivated app's data is kept
    idle_profile_months: float = 0.0  # 0: profiles are kept however long since their last contact
    every_s: float = 3600.0
    batch: int = 100


class Retention:
    def __init__(self, store: Store, people: People, policy: Policy = Policy()) -> None:
        self.store = store
        self.people = people
        self.policy = policy
        self.cursors = SweepCursors(store)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.policy.every_s)
            try:
                if (cursor := await self.cursors.take(CURSOR, now())) is not None:
                    await self.round(cursor)
            except PyMongoError as exc:
                log.warning("retention_paused", error_type=type(exc).__name__)
            except Exception:
                log.exception("retention_failed")

    async def round(self, cursor: Cursor | None = None) -> dict[str, int]:
        """One round of both kinds; answers how many of each it removed."""
        started = now()
        done = {"inactive_app_links": await self._inactive_app_data(), "idle_profiles": await self._idle_profiles()}
        for kind, count in done.items():
            REMOVED.labels(kind).inc(count)
        ROUNDS.inc()
        await self.cursors.settle(CURSOR, cursor or Cursor(None), {"at": started, **done}, started, self.policy.every_s)
        log.info("retention_round", **done)
        return done

    async def _inactive_app_data(self) -> int:
        if self.policy.inactive_app_days <= 0:
            return 0
        cutoff = now() - timedelta(days=self.policy.inactive_app_days)
        removed = 0
        for app in await self.store.list_apps():
            if app.active or app.updated_at is None or app.updated_at > cutoff:
                continue
            for customer_id in (await person.customers_linked_to(self.store, app.id))[: self.policy.batch - removed]:
                await unlink(self.store, customer_id, app.id)
                await self.people.traces.forget(person.traces_of_app(app.id, customer_id))
                removed += 1
        return removed

    async def _idle_profiles(self) -> int:
        if self.policy.idle_profile_months <= 0:
            return 0
        cutoff = now() - timedelta(days=30.44 * self.policy.idle_profile_months)
        idle = await listings.recent(self.store, cutoff.strftime(RECENT_FORMAT), None, self.policy.batch)
        for customer in idle:
            await self.people.erase(customer.id)
        return len(idle)
