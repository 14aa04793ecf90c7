"""Refresh leases: one replica refreshes a customer's app at a time, the others wait for it.

Within one process concurrent refreshes of one customer and app share one call
(``SingleFlight``). Across replicas that is not enough: a profile opened in two
tabs, or by two agents, on two replicas would ask the vendor twice. So before a
replica asks the vendor it takes a lease, kept in a small document of its own
(``refresh_leases``, one per customer, its ``_id`` the customer's):
``apps.<app_id>.<state>`` = ``{until, by}``, where ``<state>`` names the app's link as
the taker read it (``seen``: its external customer, when its data was written, when a
failure was marked). A lease holds against takers that read the same state of the link.
The holder's own write (the data, or a stale mark) changes that state: a replica that
reads the profile after it finds the app free, with nothing let go; one that read it
before is held and follows, and serves what was written.

The leases of every app a refresh is due for are taken in ONE conditional upsert (each
app's lease on the state as read free, or its time run out); a duplicate key on it says
one of them is held, and nothing is taken. Taken on the profile as the caller read it,
that read is the answer: nothing is read again. The customer's document, which holds
the apps' data, is not written to take a lease: on the embedded server that conditional
update of a customer with three links took 5 to 10 ms, the lease document's 0.5 ms; on
MongoDB it keeps a large document out of the lease's write path.

When another replica holds one of the leases, each app is taken on its own; an app held
elsewhere is followed: the follower reads the customer until that app's data or stale
mark changes (then it serves that), or the lease is gone or its holder's time ran out
(then it takes the lease over). A taker whose read is older than the holder's write by
more than the lease's whole time would take it again and ask the vendor once more:
a read is milliseconds old when its lease is taken. A TTL index removes lease documents
once every lease in them ran out; an erasure removes the customer's.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from linkmesh_core.errors import deadline_exceeded
from linkmesh_profile.db import leases
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import Store, now, object_id
from linkmesh_profile.model.customer import Customer, Link

FIRST_POLL_S, MAX_POLL_S = 0.025, 0.2

Seen = tuple[str | None, datetime | None, datetime | None]


def seen(link: Link | None) -> Seen:
    """What tells one refresh of a link from the next (``Link.seen``); no link: all None."""
    return link.seen if link is not None else (None, None, None)


def _ms(at: datetime | None) -> str:
    """Milliseconds since the epoch, as MongoDB keeps a time (a time without a zone is UTC)."""
    return "" if at is None else str(round((at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp() * 1000))


def state_key(state: Seen) -> str:
    """A field name for one state of a link (external ids hold dots and dollars)."""
    external_id, refreshed_at, stale_at = state
    text = "|".join((external_id or "", _ms(refreshed_at), _ms(stale_at)))
    return "s" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def lease_of(app_id: str, state: Seen) -> leases.Lease:
    """The app's refresh lease taken on ``state`` of its link."""
    return leases.refresh(app_id, state_key(state))


@dataclass(frozen=True, slots=True)
class Changed:
    """The app's link as another replica left it (None: unlinked, or the customer is gone)."""

    link: Link | None


class RefreshLeases:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def take(self, customer_id: str, app_ids: list[str], seconds: float, as_read: Customer | None = None) -> Customer | None:
        """The leases of every app in ``app_ids``, taken together if every one is free on the
        links as read (or its holder's time ran out): the customer they were taken on; else
        None (nothing taken). ``as_read``: the customer as the caller read it (else it is read
        here), answered as it is."""
        customer = as_read if as_read is not None else await self.store.get_customer(customer_id)
        if customer is None:
            return None
        stamp = now()
        taking = leases.Lease("taken").take(stamp, seconds)["taken"]  # one taking for them all
        states = {app_id: state_key(seen(customer.links.get(app_id))) for app_id in app_ids}
        free = {k: v for a, state in states.items() for k, v in leases.refresh(a, state).free(stamp).items()}
        update = {
            "$set": {leases.refresh_app(a): {state: taking} for a, state in states.items()},  # older states' leases go
            "$max": {"expires_at": taking["until"]},
        }
        try:
            await self.store.db[q.REFRESH_LEASES].update_one(q.refresh_leases_of(customer.oid, free).filter, update, upsert=True)
        except DuplicateKeyError:  # the document exists and one of the leases is held
            return None
        return customer

    async def release(self, customer_id: str, app_ids: list[str], on: Customer) -> None:
        """Lets the leases taken on ``on`` go without writing the apps' data (the data was
        written meanwhile, or the refresh stopped before it could write)."""
        oid = object_id(customer_id)
        if app_ids and oid is not None:
            let_go = {lease_of(a, seen(on.links.get(a))).path: "" for a in app_ids}
            await self.store.db[q.REFRESH_LEASES].update_one(q.refresh_leases_of(oid).filter, {"$unset": let_go})

    async def follow(self, customer_id: str, app_id: str, before: Seen, time_left: float) -> Changed | None:
        """Waits while another replica holds the app's lease: the app's link once it differs
        from ``before`` (written, marked stale or unlinked), None once the lease
        is free (its holder let go, or its time ran out: take it). Raises DEADLINE_EXCEEDED
        when neither happens within ``time_left``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + time_left
        pause = FIRST_POLL_S
        oid = object_id(customer_id)
        lease = lease_of(app_id, before)
        while True:
            doc = await q.customer_by_id(oid).find_one(self.store.db) if oid is not None else None
            link = Customer.from_doc(doc).links.get(app_id) if doc is not None else None
            if doc is None or seen(link) != before:
                return Changed(link)
            held: dict[str, Any] | None = await q.refresh_leases_of(doc["_id"]).find_one(self.store.db)
            if not lease.held_at(held, now()):
                return None
            if loop.time() + pause >= until:
                raise deadline_exceeded("another replica is refreshing this app and did not finish in time")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, MAX_POLL_S)
