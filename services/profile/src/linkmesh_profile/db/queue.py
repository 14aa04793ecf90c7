"""The deferred auto-links' storage (``autolink_queue``): one entry per (customer, app), due
at ``not_before``, run by one replica at a time under its lease (``leases.QUEUED``). The
worker's policy (when to run, when to give up) is ``linking.autolink_queue``'s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from linkmesh_profile.db import leases, writes
from linkmesh_profile.db import queries as q

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store


@dataclass(frozen=True, slots=True)
class QueuedLink:
    """An auto-link a vendor refused for now, to run again once it is due."""

    oid: ObjectId
    customer_id: str
    app_id: str
    #: How many times it was claimed to run (this claim included).
    attempts: int
    not_before: datetime | None = None
    reason: str = ""
    #: The lease of the replica that claimed it (``leases.QUEUED``'s ``by``).
    holder: str = ""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> QueuedLink:
        return cls(
            oid=doc["_id"],
            customer_id=str(doc.get("customer_id") or ""),
            app_id=str(doc.get("app_id") or ""),
            attempts=int(doc.get("attempts") or 0),
            not_before=doc.get("not_before"),
            reason=str(doc.get("reason") or ""),
            holder=leases.QUEUED.holder(dict(doc)),
        )


class Queue:
    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.collection = store.db[q.QUEUE]

    async def put(self, customer_id: str, app_id: str, due: datetime, reason: str, at: datetime) -> None:
        """Queues the pair, or re-times it (its lease let go, so it runs at the new time)."""
        await self.collection.update_one(
            q.queued_pair(customer_id, app_id).filter,
            {
                "$set": {"not_before": due, "reason": reason, "updated_at": at},
                "$unset": leases.QUEUED.release(),
                "$setOnInsert": {"created_at": at, "attempts": 0},
            },
            upsert=True,
        )

    async def claim(self, at: datetime, lease_s: float) -> QueuedLink | None:
        """One entry due at ``at``, leased to this process (atomically: no other replica gets it)."""
        taken = await writes.claim_one(self.db, q.queue_due(at), {"$set": leases.QUEUED.take(at, lease_s), "$inc": {"attempts": 1}})
        return QueuedLink.from_doc(taken) if taken is not None else None

    async def remove(self, entry: QueuedLink) -> None:
        """Removes the entry unless it was queued again meanwhile (a new not_before, its lease let go)."""
        await self.collection.delete_one(q.queue_entry_leased(entry.oid, entry.holder).filter)

    async def size(self) -> int:
        return await self.collection.estimated_document_count()

    async def next_due(self, at: datetime, within_s: float) -> datetime | None:
        """When the next entry comes due, if one does within ``within_s`` of ``at``."""
        first = await q.queue_next(at, within_s).find_one(self.db)
        return first["not_before"] if first is not None else None

    @staticmethod
    def due_after(at: datetime, delay_s: float) -> datetime:
        return at + timedelta(seconds=delay_s)
