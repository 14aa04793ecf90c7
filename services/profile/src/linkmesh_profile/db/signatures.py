"""A signed request to a served lookup adaptor is answered once: its signature is kept for
longer than the protocol's 5-minute clock window (a TTL index lets it go after), and the same
signature again is a replay, refused. One insert per request, on a unique key, so two replicas
that receive the same request at once answer it once."""

from __future__ import annotations

import hashlib

from pymongo.errors import DuplicateKeyError

from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import Store, now


class Signatures:
    def __init__(self, store: Store) -> None:
        self.collection = store.db[q.SIGNATURES]  # forgotten after collections.SIGNATURES_KEPT (a TTL index)

    async def first_time(self, app_id: str, signature: str) -> bool:
        """Whether this app has not received this signed request before (and notes it)."""
        key = hashlib.sha256(f"{app_id}\n{signature}".encode()).hexdigest()
        try:
            await self.collection.insert_one({"_id": key, "at": now()})
        except DuplicateKeyError:
            return False
        return True
