"""Every collection the profile service keeps, what it holds, and its indexes: declared here
and made here, once, at start-up (``ensure_indexes``). Query shapes are in ``queries``.

Index rules: the unique partial indexes on ``customers`` keep the uniqueness rules (two
customers never share an email, a phone or an external record, even under concurrent writes);
the plain ``by_*`` indexes serve the lookups (a partial index serves only queries that carry
its filter expression); a TTL index lets a collection forget on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from linkmesh_profile.db import queries as q
from linkmesh_profile.db.queries import (
    ACTIONS,
    ALIASES,
    API_KEYS,
    APPS,
    AUDIT,
    AUDIT_FILTERS,
    CUSTOMERS,
    INBOX,
    META,
    QUEUE,
    REFRESH_LEASES,
    SIGNATURES,
    TRACES,
)

NON_EMPTY = {"$exists": True}
DEFAULT_TRACE_RETENTION_S = 7 * 24 * 3600.0
# Gladly-Time may be 5 minutes off either way: a served adaptor's signature is valid for 10 minutes at most.
SIGNATURES_KEPT = timedelta(minutes=11)
DROPPED = {TRACES: ("by_app",), ACTIONS: ("leases",)}
RETAINED = (
    AUDIT,
    ACTIONS,
)  # kept forever unless their retention setting makes a TTL index  # indexes an older release made, replaced since


@dataclass(frozen=True)
class Collection:
    name: str
    holds: str
    indexes: tuple[IndexModel, ...] = ()


def _unique(field: str, name: str) -> IndexModel:
    return IndexModel([(field, ASCENDING)], name=name, unique=True, partialFilterExpression={f"{field}.0": NON_EMPTY})


CUSTOMER_INDEXES = (
    _unique("emails", "unique_email"),
    _unique("phones", "unique_phone"),
    _unique("link_keys", "unique_link"),
    IndexModel([("emails", ASCENDING)], name="by_email"),
    IndexModel([("phones", ASCENDING)], name="by_phone"),
    IndexModel([("link_keys", ASCENDING)], name="by_link"),
    # The customer directory (linkmesh_profile.customers.directory).
    IndexModel([("recent_key", DESCENDING)], name="recent"),
    IndexModel([("name_keys", ASCENDING), ("_id", ASCENDING)], name="by_name"),
    IndexModel([("order_keys", ASCENDING)], name="by_order"),
)
ACTION_INDEXES = (
    IndexModel([("customer_id", ASCENDING), ("idempotency_key", ASCENDING)], name="idempotency", unique=True),
    IndexModel([("state", ASCENDING), ("lease.until", ASCENDING)], name="running_leases"),
    IndexModel([("state", ASCENDING), ("resolution.status", ASCENDING), ("resolution.next_check_at", ASCENDING)], name="resolutions"),
)
QUEUE_INDEXES = (
    IndexModel([("customer_id", ASCENDING), ("app_id", ASCENDING)], name="one_per_pair", unique=True),
    IndexModel([("not_before", ASCENDING)], name="due"),
)
INBOX_KEPT = timedelta(days=7)  # Shopify retries for 4 hours, BigCommerce for 48: a retry is still known
INBOX_INDEXES = (
    IndexModel([("app_id", ASCENDING), ("event_id", ASCENDING)], name="one_per_event", unique=True),
    IndexModel([("state", ASCENDING), ("due_at", ASCENDING)], name="due"),
    IndexModel([("received_at", ASCENDING)], name="ttl", expireAfterSeconds=int(INBOX_KEPT.total_seconds())),
    IndexModel([("app_id", ASCENDING), ("external_customer_id", ASCENDING)], name="by_record"),  # a person's, to erase
)
AUDIT_INDEXES = tuple(
    IndexModel([(field, ASCENDING), ("_id", DESCENDING)], name=f"by_{field.replace('.', '_')}") for field in AUDIT_FILTERS[:4]
)


def trace_indexes(retention_s: float) -> tuple[IndexModel, ...]:
    return (
        IndexModel([("at", ASCENDING)], name="ttl", expireAfterSeconds=int(retention_s)),
        IndexModel([("app_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="by_app_newest"),
        IndexModel([("app_id", ASCENDING), ("customer_id", ASCENDING), ("at", DESCENDING)], name="by_app_customer"),
        # The lookup log across every app, and one customer's across every app.
        IndexModel([("at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        IndexModel([("customer_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="by_customer"),
    )


def ttl(field: str, seconds: float) -> tuple[IndexModel, ...]:
    """A retention setting's TTL index (``ttl``) on ``field``; none when it keeps them forever (0)."""
    return (IndexModel([(field, ASCENDING)], name="ttl", expireAfterSeconds=int(seconds)),) if seconds > 0 else ()


def collections(trace_retention_s: float, audit_retention_s: float = 0.0, action_retention_s: float = 0.0) -> tuple[Collection, ...]:
    return (
        Collection(
            CUSTOMERS,
            "profiles, their links (links.<app_id> holds that app's DETAILED data), the apps they were unlinked "
            "from, the directory's search keys",
            CUSTOMER_INDEXES,
        ),
        Collection(
            ALIASES,
            "customers folded into another (a burst of contacts), pointing at the one kept",
            (IndexModel([("into", ASCENDING)], name="by_into"),),
        ),
        Collection(APPS, "integrations: settings, secrets encrypted at rest", (IndexModel([("type", ASCENDING)], name="by_type"),)),
        Collection(META, "counters and one-time marks: the apps' version, the directory backfill"),
        Collection(
            ACTIONS,
            "order actions, one per idempotency key, with their outcome and its resolution",
            (*ACTION_INDEXES, *ttl("started_at", action_retention_s)),
        ),
        Collection(QUEUE, "auto-links a vendor's rate limit deferred", QUEUE_INDEXES),
        Collection(
            REFRESH_LEASES,
            "which replica is refreshing which of a customer's apps (one small document per customer), gone once they ran out",
            (IndexModel([("expires_at", ASCENDING)], name="ttl", expireAfterSeconds=0),),
        ),
        Collection(INBOX, "the vendors' change events (webhooks), each kept once and applied once, forgotten after a week", INBOX_INDEXES),
        Collection(
            TRACES, "lookups for the debugger (request, answer, decision), forgotten after the retention", trace_indexes(trace_retention_s)
        ),
        Collection(AUDIT, "every write, who made it and how it ended (append-only)", (*AUDIT_INDEXES, *ttl("at", audit_retention_s))),
        Collection(API_KEYS, "integrations' API keys (a keyed hash of each secret, never the secret)"),
        Collection(
            SIGNATURES,
            "signatures of served adaptor requests already answered (replays are refused)",
            (IndexModel([("at", ASCENDING)], name="ttl", expireAfterSeconds=int(SIGNATURES_KEPT.total_seconds())),),
        ),
    )


def names() -> list[str]:
    return [c.name for c in collections(DEFAULT_TRACE_RETENTION_S)]


async def ensure_indexes(
    db: AsyncDatabase[dict[str, Any]],
    trace_retention_s: float = DEFAULT_TRACE_RETENTION_S,
    audit_retention_s: float = 0.0,
    action_retention_s: float = 0.0,
) -> None:
    """Every collection's indexes (idempotent: an index that exists as declared is left alone;
    a TTL index whose retention setting changed is changed in place, and dropped when the
    setting keeps them forever)."""
    for collection in collections(trace_retention_s, audit_retention_s, action_retention_s):
        existing = await db[collection.name].index_information() if collection.indexes else {}
        if "ttl" in existing and collection.name in RETAINED and not any(i.document["name"] == "ttl" for i in collection.indexes):
            await db[collection.name].drop_index("ttl")
        for index in collection.indexes:
            doc = index.document
            ttl, now_ttl = doc.get("expireAfterSeconds"), existing.get(doc["name"], {}).get("expireAfterSeconds")
            if ttl is not None and now_ttl is not None and now_ttl != ttl:
                await db.command("collMod", collection.name, index={"name": doc["name"], "expireAfterSeconds": ttl})
        if collection.indexes:
            await db[collection.name].create_indexes(list(collection.indexes))
        for old in DROPPED.get(collection.name, ()):
            if old in existing:
                await db[collection.name].drop_index(old)
    await _leases_of_an_earlier_release(db)


async def _leases_of_an_earlier_release(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Running actions an earlier release wrote kept their lease as ``lease_until``: the same
    lease, in the one shape every lease has now (``db.leases``), so the sweeper still finds them."""
    if await q.leases_version().find_one(db) is not None:
        return
    for doc in await q.running_actions_of_an_earlier_release().find(db).to_list(length=None):
        await db[ACTIONS].update_one(
            q.action_by_id(doc["_id"], "running").filter,
            {"$set": {"lease": {"until": doc["lease_until"], "by": "an earlier release"}}, "$unset": {"lease_until": ""}},
        )
    await db[META].update_one(q.leases_version().filter, {"$set": {"version": 1}}, upsert=True)
