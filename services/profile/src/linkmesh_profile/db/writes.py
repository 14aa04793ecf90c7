"""Writes that return a document, in shapes every server executes from an index.

``findAndModify`` (``find_one_and_update``/``_delete``) is one round trip on MongoDB, but the
embedded server (SecantusDB) executes its write as a collection scan whatever the filter and
hint: an auto-linking contact took 67 to 108 times longer at 100k customers than on an empty
database. So a write of one document by its ``_id`` is an indexed ``update_one`` (or
``delete_one``) with the query's conditions, then a read by ``_id``; taking one of many (a due
queue entry, a due check) reads the first candidate from its index, then takes it by ``_id`` on
the same conditions (another replica that took it first makes this one try the next). What a
write answers is the document as read just after it: at least as new as the write.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from linkmesh_profile.db import queries as q

CLAIM_TRIES = 5


async def update_only(db: AsyncDatabase[dict[str, Any]], query: q.Query, update: dict[str, Any]) -> bool:
    """Updates the one document ``query`` names by ``_id`` (and its conditions), for a caller that
    needs no document back: whether it matched."""
    result = await db[query.collection].update_one(query.filter, update, hint=query.hint)
    return bool(result.matched_count)


async def update_by_id(db: AsyncDatabase[dict[str, Any]], query: q.Query, update: dict[str, Any]) -> dict[str, Any] | None:
    """Updates the one document ``query`` names by ``_id`` (and its conditions); the document
    after the write, or None when nothing matched."""
    result = await db[query.collection].update_one(query.filter, update, hint=query.hint)
    if not result.matched_count:
        return None
    return await q.document_by_id(query.collection, query.filter["_id"]).find_one(db)


async def delete_by_id(db: AsyncDatabase[dict[str, Any]], query: q.Query) -> dict[str, Any] | None:
    """Deletes the one document ``query`` names by ``_id`` if it still meets its conditions;
    answers it as it was, or None."""
    found = await query.find_one(db)
    if found is None:
        return None
    result = await db[query.collection].delete_one(q.document_by_id(query.collection, found["_id"], query.filter).filter)
    return found if result.deleted_count else None


async def claim_one(db: AsyncDatabase[dict[str, Any]], query: q.Query, update: dict[str, Any]) -> dict[str, Any] | None:
    """The first document ``query`` finds (in its order), updated on the condition that it still
    matches; None when there is none, or when other takers won every try."""
    for _ in range(CLAIM_TRIES):
        found = await query.find_one(db)
        if found is None:
            return None
        taken = await update_by_id(db, q.document_by_id(query.collection, found["_id"], query.filter), update)
        if taken is not None:
            return taken
    return None


def duplicate_of(err: DuplicateKeyError) -> set[str]:
    """The fields of the unique index a write would have broken (``emails``, ``link_keys``...)."""
    return set((err.details or {}).get("keyPattern", {}))
