"""Order action records' storage (``actions``): one per customer and idempotency key, moved
from state to state by writes conditional on the state read (``actions.runner`` runs an
action, ``actions.resolution`` resolves an unknown outcome), read as ``ActionRecord``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from linkmesh_profile.db import leases, writes
from linkmesh_profile.db import queries as q
from linkmesh_profile.model.action import ActionRecord

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store


def error_doc(code: str, message: str, fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": dict(fields or {})}


class ActionRecords:
    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.collection = store.db[q.ACTIONS]

    async def begin(self, doc: dict[str, Any]) -> ActionRecord | None:
        """Writes a running record; None when the customer already used its idempotency key."""
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return None
        return ActionRecord.from_doc(doc)

    async def by_key(self, customer_id: str, key: str) -> ActionRecord | None:
        doc = await q.action_by_key(customer_id, key).find_one(self.db)
        return ActionRecord.from_doc(doc) if doc is not None else None

    async def get(self, oid: ObjectId) -> ActionRecord | None:
        doc = await q.action_by_id(oid).find_one(self.db)
        return ActionRecord.from_doc(doc) if doc is not None else None

    async def succeeded(self, oid: ObjectId, message: str, result: dict[str, str], at: datetime) -> None:
        await self.collection.update_one(
            q.action_by_id(oid).filter, {"$set": {"state": "succeeded", "message": message, "result": result, "finished_at": at}}
        )

    async def settled(self, oid: ObjectId, state: str, error: dict[str, Any], at: datetime, checking: dict[str, Any] | None) -> None:
        """A failure kept: refused (``failed``), or ``unknown`` with its first check planned (``checking``)."""
        await self.collection.update_one(
            q.action_by_id(oid).filter,
            {"$set": {"state": state, "error": error, "finished_at": at, **({"resolution": checking} if checking else {})}},
        )

    async def release(self, oid: ObjectId) -> None:
        """Nothing happened: the record goes, and its key may be used again."""
        await self.collection.delete_one(q.action_by_id(oid).filter)

    async def lost(self, oid: ObjectId, error: dict[str, Any], at: datetime, checking: dict[str, Any]) -> ActionRecord | None:
        """A record still running becomes unknown (its process can no longer finish it): it as
        changed, or None when it was not running any more."""
        doc = await writes.update_by_id(
            self.db,
            q.action_by_id(oid, "running"),
            {"$set": {"state": "unknown", "finished_at": at, "resolution": checking, "error": error}},
        )
        return ActionRecord.from_doc(doc) if doc is not None else None

    async def expired(self, at: datetime, limit: int = 1000) -> list[ObjectId]:
        """Running records whose lease ran out before ``at`` (their process died)."""
        docs = await q.expired_action_leases(at).find(self.db, limit=limit).to_list(length=limit)
        return [d["_id"] for d in docs]

    async def claim_check(self, at: datetime, seconds: float) -> ActionRecord | None:
        """An unknown outcome due for a check, leased to this process for ``seconds``."""
        doc = await writes.claim_one(self.db, q.due_resolutions(at), {"$set": leases.CHECKING.take(at, seconds)})
        return ActionRecord.from_doc(doc) if doc is not None else None

    async def resolve(self, oid: ObjectId, change: dict[str, Any]) -> bool:
        """Sets ``change`` on a record still unknown and lets its check's lease go: whether it was."""
        return await writes.update_only(self.db, q.action_by_id(oid, "unknown"), {"$set": change, "$unset": leases.CHECKING.release()})
