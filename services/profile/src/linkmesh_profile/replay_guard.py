"""A signed request to a served lookup adaptor is answered once: its signature is kept for
longer than the protocol's 5-minute clock window (a TTL index lets it go after), and the same
signature again is a replay, refused. One insert per request, on a unique key, so two replicas
that receive the same request at once answer it once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from linkmesh_profile.store import Store, now

COLLECTION = "adaptor_signatures"
# Gladly-Time may be 5 minutes off either way: a signature stays valid for 10 minutes at most.
KEEP = timedelta(minutes=11)


class ReplayGuard:
    def __init__(self, store: Store) -> None:
        self.collection = store.db[COLLECTION]
        self._indexed = False

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("at", ASCENDING)], name="ttl", expireAfterSeconds=int(KEEP.total_seconds()))
        self._indexed = True

    async def first_time(self, app_id: str, signature: str) -> bool:
        """Whether this app has not received this signed request before (and notes it)."""
        if not self._indexed:
            await self.ensure_indexes()
        key = hashlib.sha256(f"{app_id}\n{signature}".encode()).hexdigest()
        try:
            await self.collection.insert_one({"_id": key, "at": now()})
        except DuplicateKeyError:
            return False
        return True
