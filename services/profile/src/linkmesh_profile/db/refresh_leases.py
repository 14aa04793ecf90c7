"""Refresh leases: one replica refreshes a customer's app at a time, the others wait for it.

Within one process concurrent refreshes of one customer and app share one call
(``SingleFlight``). Across replicas that is not enough: a profile opened in two
tabs, or by two agents, on two replicas would ask the vendor twice. So before a
replica asks the vendor it takes a lease, kept in the customer's own document:
``refreshing.<app_id>`` = ``{until, by}``. The leases of every app a refresh is
due for are taken in ONE conditional ``findOneAndUpdate`` (each app's lease free
or expired), which also answers the profile as it is under the leases, so
nothing is read again. Each app's own write (its data, or its stale mark)
removes its lease in the same update. Cost per refresh that calls the vendors:
one command, whatever the number of apps.

When another replica holds one of the leases, each app is taken on its own; an
app held elsewhere is followed: the follower reads the customer until that app's
data or stale mark changes (then it serves that), or the lease is gone or its
holder's time ran out (then it takes the lease over).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkmesh_core.errors import deadline_exceeded
from linkmesh_profile.db import leases
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import Store, now, object_id
from linkmesh_profile.model.customer import Customer, Link

FIRST_POLL_S, MAX_POLL_S = 0.025, 0.2


def release(app_id: str) -> dict[str, str]:
    """The ``$unset`` that lets an app's lease go, for the app's own write to carry."""
    return leases.refresh(app_id).release()


Seen = tuple[str | None, datetime | None, datetime | None]


def seen(link: Link | None) -> Seen:
    """What tells one refresh of a link from the next (``Link.seen``); no link: all None."""
    return link.seen if link is not None else (None, None, None)


def links_as_read(customer: Customer, app_ids: list[str]) -> dict[str, Any]:
    """The condition that each app's link is as ``customer`` holds it (``seen``): its external
    customer, when its data was written, when a failure was marked (null: never)."""
    condition: dict[str, Any] = {}
    for app_id in app_ids:
        external_id, refreshed_at, stale_at = seen(customer.links.get(app_id))
        path = f"links.{app_id}"
        condition.update({f"{path}.external_customer_id": external_id, f"{path}.refreshed_at": refreshed_at, f"{path}.stale.at": stale_at})
    return condition


@dataclass(frozen=True, slots=True)
class Changed:
    """The app's link as another replica left it (None: unlinked, or the customer is gone)."""

    link: Link | None


class RefreshLeases:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def take(self, customer_id: str, app_ids: list[str], seconds: float, as_read: Customer | None = None) -> Customer | None:
        """The leases of every app in ``app_ids``, taken together if every one is free (or
        its holder's time ran out): the customer as it is under them; else None (nothing taken).
        ``as_read``: the customer as the caller read it, answered as it is when none of the
        apps' links changed since (the write checks it: no read follows)."""
        stamp = now()
        taken = leases.refresh(app_ids[0]).take(stamp, seconds)[leases.refresh(app_ids[0]).path]  # one taking for them all
        update = {"$set": {leases.refresh(a).path: taken for a in app_ids}}
        free = q.free_refresh_leases(app_ids, stamp)
        if as_read is not None and await self.store.change_customer(customer_id, update, {**free, **links_as_read(as_read, app_ids)}):
            return as_read
        return await self.store.update_customer(customer_id, update, free)

    async def release(self, customer_id: str, app_ids: list[str]) -> None:
        """Lets leases go without writing the apps' data (the data was written meanwhile, or
        the refresh stopped before it could write)."""
        if app_ids:
            await self.store.change_customer(customer_id, {"$unset": {k: v for a in app_ids for k, v in release(a).items()}})

    async def follow(self, customer_id: str, app_id: str, before: Seen, time_left: float) -> Changed | None:
        """Waits while another replica holds the app's lease: the app's link once it differs
        from ``before`` (written, marked stale or unlinked), None once the lease
        is free (its holder let go, or its time ran out: take it). Raises DEADLINE_EXCEEDED
        when neither happens within ``time_left``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + time_left
        pause = FIRST_POLL_S
        oid = object_id(customer_id)
        while True:
            doc = await q.customer_by_id(oid).find_one(self.store.db) if oid is not None else None
            link = Customer.from_doc(doc).links.get(app_id) if doc is not None else None
            if doc is None or seen(link) != before:
                return Changed(link)
            if not leases.refresh(app_id).held_at(doc, now()):
                return None
            if loop.time() + pause >= until:
                raise deadline_exceeded("another replica is refreshing this app and did not finish in time")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, MAX_POLL_S)
