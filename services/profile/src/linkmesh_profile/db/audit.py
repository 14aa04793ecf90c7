"""The audit log's storage (``audit``): append-only, entries out as ``profile_pb2.AuditEntry``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2

from linkmesh_profile.db import queries as q
from linkmesh_profile.db.documents import ts
from linkmesh_profile.model.api_key import ACTOR_FIELDS

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store

TARGETS = ("customer_id", "app_id", "order_id", "api_key_id")


def entry_to_proto(doc: Mapping[str, Any]) -> profile_pb2.AuditEntry:
    who = doc.get("actor")
    return profile_pb2.AuditEntry(
        id=str(doc["_id"]),
        at=ts(doc.get("at")),
        action=str(doc.get("action") or ""),
        request_id=str(doc.get("request_id") or ""),
        outcome=str(doc.get("outcome") or ""),
        message=str(doc.get("message") or ""),
        details=doc.get("details") or {},
        actor=profile_pb2.Actor(**{k: str(who.get(k) or "") for k in ACTOR_FIELDS}) if who else None,
        **{k: str(doc.get(k) or "") for k in TARGETS},
    )


class AuditEntries:
    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.collection = store.db[q.AUDIT]

    async def append(self, entry: dict[str, Any]) -> None:
        """Inserts one entry (``admin.audit`` says what it holds); the only write this collection gets."""
        await self.collection.insert_one(entry)

    async def page(self, where: dict[str, str], before: ObjectId | None, limit: int) -> tuple[list[profile_pb2.AuditEntry], str]:
        """Newest first, filtered by ``where`` (stored field → value), below ``before``: the
        entries and the next page's token."""
        docs = await q.audit_page(where, before).find(self.db, limit=limit + 1).to_list(length=limit + 1)
        more = len(docs) > limit
        docs = docs[:limit]
        return [entry_to_proto(d) for d in docs], str(docs[-1]["_id"]) if more else ""
