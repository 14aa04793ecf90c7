"""API keys' storage (``api_keys``): records in and out as ``model.api_key.ApiKeyRecord``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from linkmesh_profile.db import queries as q
from linkmesh_profile.model.api_key import ApiKeyRecord, actor_doc

if TYPE_CHECKING:
    from linkmesh_core.actor import Actor
    from linkmesh_profile.db.store import Store


class ApiKeyStore:
    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.collection = store.db[q.API_KEYS]

    async def insert(self, key: ApiKeyRecord) -> ApiKeyRecord:
        doc: dict[str, Any] = {
            "_id": key.oid,
            "name": key.name,
            "role": key.role,
            "prefix": key.prefix,
            "hash": key.hash,
            "created_at": key.created_at,
            "created_by": actor_doc(key.created_by) if key.created_by else None,
            "expires_at": key.expires_at,
            "acts_for_others": key.acts_for_others,
            "rate_limit_per_minute": key.rate_limit_per_minute,
            "last_used_at": None,
            "revoked_at": None,
        }
        await self.collection.insert_one(doc)
        return ApiKeyRecord.from_doc(doc)

    async def get(self, oid: ObjectId) -> ApiKeyRecord | None:
        doc = await q.api_key_by_id(oid).find_one(self.db)
        return ApiKeyRecord.from_doc(doc) if doc is not None else None

    async def list(self, include_revoked: bool) -> list[ApiKeyRecord]:
        return [ApiKeyRecord.from_doc(d) for d in await q.api_keys(include_revoked).find(self.db).to_list(length=1000)]

    async def revoke(self, oid: ObjectId, at: datetime, by: Actor) -> ApiKeyRecord | None:
        """Revokes the key unless it was already (then it stays as it was); the key as it now is."""
        await self.collection.update_one(
            q.api_key_by_id(oid, unrevoked=True).filter, {"$set": {"revoked_at": at, "revoked_by": actor_doc(by)}}
        )
        return await self.get(oid)

    async def used(self, oid: ObjectId, at: datetime) -> None:
        await self.collection.update_one(q.api_key_by_id(oid).filter, {"$set": {"last_used_at": at}})
