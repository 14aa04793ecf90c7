"""The vendors' change events' storage (``inbox``): one entry per app and vendor event id (a
retry or a duplicate delivery is kept once), waiting until a replica claims it under its lease
(``leases.QUEUED``) and records how it ended. The consumer's policy is ``events.consumer``'s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from linkmesh_profile.db import leases, writes
from linkmesh_profile.db import queries as q

if TYPE_CHECKING:
    from linkmesh.lookup.v1 import lookup_pb2

    from linkmesh_profile.db.store import Store

WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class Event:
    """One change a vendor told of, as kept."""

    oid: ObjectId
    app_id: str
    event_id: str
    topic: str
    kind: str
    happened_at: datetime | None
    external_customer_id: str
    order_id: str
    received_at: datetime
    attempts: int = 0
    holder: str = ""
    #: The order was just placed: no data held names it yet.
    order_is_new: bool = False
    #: A privacy event's request (``Change.privacy_request``).
    privacy_request: str = ""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Event:
        return cls(
            oid=doc["_id"],
            app_id=str(doc.get("app_id") or ""),
            event_id=str(doc.get("event_id") or ""),
            topic=str(doc.get("topic") or ""),
            kind=str(doc.get("kind") or ""),
            happened_at=doc.get("happened_at"),
            external_customer_id=str(doc.get("external_customer_id") or ""),
            order_id=str(doc.get("order_id") or ""),
            received_at=doc["received_at"],
            attempts=int(doc.get("attempts") or 0),
            holder=leases.QUEUED.holder(dict(doc)),
            order_is_new=bool(doc.get("order_is_new")),
            privacy_request=str(doc.get("privacy_request") or ""),
        )


class Inbox:
    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.collection = store.db[q.INBOX]

    async def keep(self, app_id: str, change: lookup_pb2.Change, at: datetime) -> bool:
        """Keeps the event, waiting; False when the app's event of that id is kept already."""
        doc = {
            "app_id": app_id,
            "event_id": change.event_id,
            "topic": change.topic,
            "kind": change.kind,
            "happened_at": change.happened_at.ToDatetime(tzinfo=at.tzinfo) if change.HasField("happened_at") else None,
            "external_customer_id": change.external_customer_id,
            "order_id": change.order_id,
            "order_is_new": change.order_is_new,
            "privacy_request": change.privacy_request,
            "received_at": at,
            "due_at": at,
            "state": WAITING,
            "attempts": 0,
        }
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def claim(self, at: datetime, lease_s: float) -> Event | None:
        """One waiting event that is due, leased to this process (no other replica gets it)."""
        taken = await writes.claim_one(self.db, q.inbox_due(at), {"$set": leases.QUEUED.take(at, lease_s), "$inc": {"attempts": 1}})
        return Event.from_doc(taken) if taken is not None else None

    async def settle(self, event: Event, state: str, note: str, at: datetime) -> None:
        """How it ended (``applied``, ``already_fresh``, ``no_customer``, ``recorded``, ``failed``), its lease let go."""
        await self.collection.update_one(
            q.inbox_entry_leased(event.oid, event.holder).filter,
            {"$set": {"state": state, "note": note[:300], "settled_at": at}, "$unset": leases.QUEUED.release()},
        )

    async def later(self, event: Event, after_s: float, note: str, at: datetime) -> None:
        """Waiting again, due in ``after_s`` (the vendor or the database did not answer)."""
        await self.collection.update_one(
            q.inbox_entry_leased(event.oid, event.holder).filter,
            {"$set": {"due_at": at + timedelta(seconds=after_s), "note": note[:300]}, "$unset": leases.QUEUED.release()},
        )

    async def state_of(self, app_id: str, event_id: str) -> dict[str, Any] | None:
        """An event's entry as kept (for tests and the debugger)."""
        found: dict[str, Any] | None = await q.inbox_event(app_id, event_id).find_one(self.db)
        return found
