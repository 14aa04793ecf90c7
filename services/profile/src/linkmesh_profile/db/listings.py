"""The customer directory's reads: customers as listed (``model.customer.Listing``), without
the data their links pulled (``queries.LISTING``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bson import ObjectId

from linkmesh_profile.db import queries as q
from linkmesh_profile.model.customer import Listing

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store


async def recent(store: Store, before: str | None, since: str | None, limit: int) -> list[Listing]:
    """The most recently contacted below ``before`` and above ``since`` (directory keys), newest first."""
    docs = await q.recent_customers(before, since).find(store.db, limit=limit).to_list(length=limit)
    return [Listing.from_doc(d) for d in docs]


async def named(store: Store, word: str, after: ObjectId | None) -> AsyncIterator[Listing]:
    """Customers whose name has ``word`` among its keys, by id after ``after``."""
    async for doc in q.customers_named(word, after).find(store.db):
        yield Listing.from_doc(doc)


async def with_order(store: Store, keys: list[str], limit: int = 50) -> list[Listing]:
    """Customers whose links pulled an order with one of these keys (``<number>|<app id>``)."""
    docs = await q.customers_with_order(keys).find(store.db, limit=limit).to_list(length=limit)
    return [Listing.from_doc(d) for d in docs]


async def by_ids(store: Store, ids: list[str]) -> dict[str, Listing]:
    """These customers as listed, by id; ids that are not a customer's are left out."""
    oids = list(dict.fromkeys(ObjectId(i) for i in ids if ObjectId.is_valid(i)))
    if not oids:
        return {}  # nothing to name: no read
    docs = await q.customers_by_ids(oids).find(store.db, limit=len(oids)).to_list(length=len(oids))
    return {str(d["_id"]): Listing.from_doc(d) for d in docs}


async def holders_of_links(store: Store, keys: list[str]) -> dict[str, Listing]:
    """Who holds each of these link keys (``<app id>:<external id>``), by key."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}  # nothing found: no read
    docs = await q.holders_of_links(keys).find(store.db, limit=len(keys)).to_list(length=len(keys))
    wanted = set(keys)
    return {key: Listing.from_doc(d) for d in docs for key in d.get("link_keys") or () if key in wanted}
