"""Every query shape the profile service sends to MongoDB, in one place.

Each builder answers a ``Query`` (collection, filter, sort, hint, projection) and is
registered with example arguments, so ``tests/test_query_plans.py`` can run
``explain`` on each shape against a seeded database and fail on a collection scan.
A second test reads the service's source and fails when a collection is queried
with a filter that did not come from a ``Query`` here, so no query can skip the
first test.

Rules the shapes follow, because both MongoDB's planner and the embedded server's
need them:
- A partial index serves only queries that contain its filter expression. The
  unique partial indexes (``unique_email``, ``unique_phone``, ``unique_link``)
  keep the uniqueness rule; lookups use the plain multikey indexes ``by_email``,
  ``by_phone`` and ``by_link``.
- One query per field instead of ``$or`` across fields; no ``_id: {$ne}`` (the
  caller drops its own document from the answer).
- A prefix is a range (``$gte``/``$lt``), not a regular expression.
- A query by ``_id`` with more conditions, or by two ranges, names its index
  (``hint``): the embedded server's planner does not pick it by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING

CUSTOMERS, APPS, ACTIONS, TRACES, QUEUE, META = "customers", "apps", "actions", "lookup_traces", "autolink_queue", "meta"
API_KEYS, AUDIT, ALIASES = "api_keys", "audit", "customer_aliases"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EXAMPLE_ID = ObjectId("6b0000000000000000000001")
_EXAMPLE_TIME = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Query:
    collection: str
    filter: dict[str, Any]
    sort: tuple[tuple[str, int], ...] = ()
    hint: str | None = None
    projection: dict[str, int] | None = field(default=None)

    def find(self, db: Any, limit: int = 0) -> Any:
        """The query as a cursor of ``db``."""
        cursor = db[self.collection].find(self.filter, self.projection)
        if self.sort:
            cursor = cursor.sort(list(self.sort))
        if self.hint:
            cursor = cursor.hint(self.hint)
        if limit:
            cursor = cursor.limit(limit)
        return cursor

    async def find_one(self, db: Any) -> dict[str, Any] | None:
        found = await self.find(db, limit=1).to_list(length=1)
        return found[0] if found else None


SHAPES: dict[str, Callable[[], Query]] = {}


def shape(*example: Any) -> Callable[[Callable[..., Query]], Callable[..., Query]]:
    """Registers a builder with example arguments for the explain test."""

    def register(build: Callable[..., Query]) -> Callable[..., Query]:
        SHAPES[build.__name__] = lambda: build(*example)
        return build

    return register


# customers

@shape(_EXAMPLE_ID, {"links.6b0000000000000000000002.external_customer_id": "101"})
def customer_by_id(oid: ObjectId, where: dict[str, Any] | None = None) -> Query:
    """One customer; ``where`` adds conditions a conditional update needs."""
    return Query(CUSTOMERS, {"_id": oid, **(where or {})}, hint="_id_" if where else None)


@shape(_EXAMPLE_ID, _EXAMPLE_TIME)
def provisional_customer(oid: ObjectId, at: datetime) -> Query:
    """A customer still provisional at ``at`` (linkmesh_profile.folding): nothing but contacts."""
    return customer_by_id(oid, {"provisional_until": {"$gt": at}, "link_keys.0": {"$exists": False},
                                "unlinked_apps.0": {"$exists": False}})


@shape(_EXAMPLE_ID)
def customer_alias(oid: ObjectId, where: dict[str, Any] | None = None) -> Query:
    """The alias a folded customer's id left: ``into`` names the customer it was folded into."""
    return Query(ALIASES, {"_id": oid, **(where or {})})


@shape(_EXAMPLE_ID)
def customer_without_name(oid: ObjectId) -> Query:
    return customer_by_id(oid, {"name": {"$in": ["", None]}})


@shape("a@example.com")
def customers_by_email(email: str) -> Query:
    return Query(CUSTOMERS, {"emails": email}, sort=(("_id", ASCENDING),))


@shape("+14155550101")
def customers_by_phone(phone: str) -> Query:
    return Query(CUSTOMERS, {"phones": phone}, sort=(("_id", ASCENDING),))


@shape(["a@example.com", "b@example.com"])
def owners_of_emails(emails: list[str]) -> Query:
    return Query(CUSTOMERS, {"emails": {"$in": emails}}, projection={"emails": 1, "phones": 1})


@shape(["+14155550101"])
def owners_of_phones(phones: list[str]) -> Query:
    return Query(CUSTOMERS, {"phones": {"$in": phones}}, projection={"emails": 1, "phones": 1})


@shape("app:101")
def customer_with_link(key: str) -> Query:
    return Query(CUSTOMERS, {"link_keys": key}, projection={"_id": 1})


@shape("6b0000000000000000000002")
def customers_linked_to(app_id: str) -> Query:
    """Link keys are ``<app_id>:<external id>``: the app's keys are one range of the index."""
    return Query(CUSTOMERS, {"link_keys": {"$gte": f"{app_id}:", "$lt": f"{app_id};"}},
                 projection={"field_sources": 1, "attribute_sources": 1})


# the customer directory (linkmesh_profile.directory): exact keys, one index each

LISTING = {"name": 1, "emails": 1, "phones": 1, "link_keys": 1, "last_contact_at": 1, "recent_key": 1}


@shape()
def every_customer() -> Query:
    """In id order (the directory's one-off backfill)."""
    return Query(CUSTOMERS, {}, sort=(("_id", ASCENDING),), hint="_id_",
                 projection={"name": 1, "links": 1, "created_at": 1, "last_contact_at": 1, "recent_key": 1})


@shape("2026-11-23T12:00:00.000000|6b0000000000000000000001")
def recent_customers(before: str | None = None) -> Query:
    """Most recently contacted first; a page starts below the last key of the one before."""
    return Query(CUSTOMERS, {"recent_key": {"$lt": before or "\uffff"}}, sort=(("recent_key", DESCENDING),), hint="recent",
                 projection=LISTING)


@shape(["jan", "smi"], _EXAMPLE_ID)
def customers_named(words: list[str], after: ObjectId | None = None) -> Query:
    """Every word starts a word of the name; in id order, a page after the last id of the one before."""
    where: dict[str, Any] = {"name_keys": words[0] if len(words) == 1 else {"$all": words}}
    if after is not None:
        where["_id"] = {"$gt": after}
    return Query(CUSTOMERS, where, sort=(("_id", ASCENDING),), hint="by_name", projection=LISTING)


@shape(["1001\x1f6b0000000000000000000002"])
def customers_with_order(keys: list[str]) -> Query:
    return Query(CUSTOMERS, {"order_keys": {"$in": keys}}, sort=(("_id", ASCENDING),), hint="by_order", projection=LISTING)


# apps

@shape(_EXAMPLE_ID)
def app_by_id(oid: ObjectId) -> Query:
    return Query(APPS, {"_id": oid})


@shape()
def all_apps() -> Query:
    return Query(APPS, {}, sort=(("_id", ASCENDING),), hint="_id_")


@shape()
def apps_version() -> Query:
    """The counter every app write increases: replicas compare it to reload their app cache."""
    return Query(META, {"_id": "apps"})


@shape()
def directory_version() -> Query:
    """Set once every customer has the directory's keys (``Store.backfill_directory``)."""
    return Query(META, {"_id": "directory"})


# actions

@shape("6b0000000000000000000003", "key-1")
def action_by_key(customer_id: str, key: str) -> Query:
    return Query(ACTIONS, {"customer_id": customer_id, "idempotency_key": key})


@shape(_EXAMPLE_ID, "running")
def action_by_id(oid: Any, state: str | None = None) -> Query:
    return Query(ACTIONS, {"_id": oid, **({"state": state} if state else {})}, hint="_id_" if state else None)


@shape(_EXAMPLE_TIME)
def expired_action_leases(at: datetime) -> Query:
    return Query(ACTIONS, {"state": "running", "lease_until": {"$lt": at}}, projection={"_id": 1})


@shape(_EXAMPLE_TIME)
def due_resolutions(at: datetime) -> Query:
    """Unknown actions whose next check with the vendor is due (its time is also the lease:
    the replica that takes one moves it past the check)."""
    return Query(ACTIONS, {"state": "unknown", "resolution.status": "checking", "resolution.next_check_at": {"$lte": at}},
                 sort=(("resolution.next_check_at", 1),), hint="resolutions")


# API keys (a handful of documents: listed by _id)

@shape(_EXAMPLE_ID, True)
def api_key_by_id(oid: ObjectId, unrevoked: bool = False) -> Query:
    return Query(API_KEYS, {"_id": oid, **({"revoked_at": None} if unrevoked else {})}, hint="_id_" if unrevoked else None)


@shape(False)
def api_keys(include_revoked: bool) -> Query:
    return Query(API_KEYS, {} if include_revoked else {"revoked_at": None}, sort=(("_id", DESCENDING),), hint="_id_",
                 projection={"hash": 0})


# audit log: newest first by _id; each filter has an index of (field, _id)

AUDIT_FILTERS = ("actor.id", "customer_id", "app_id", "action", "outcome")


@shape({"customer_id": "6b0000000000000000000003", "outcome": "OK"}, _EXAMPLE_ID)
def audit_page(where: dict[str, str], before: ObjectId | None = None) -> Query:
    """``where``: exact values of AUDIT_FILTERS; the first indexed one given serves the page."""
    indexed = next((f for f in AUDIT_FILTERS[:4] if where.get(f)), None)
    return Query(AUDIT, {**where, **({"_id": {"$lt": before}} if before is not None else {})}, sort=(("_id", DESCENDING),),
                 hint=f"by_{indexed.replace('.', '_')}" if indexed else "_id_")


# lookup traces

@shape("6b0000000000000000000002", "6b0000000000000000000003")
def traces_of(app_id: str, customer_id: str = "") -> Query:
    """Newest first; traces written together share a millisecond, and their ids (made in the
    order they were recorded) break the tie."""
    return Query(TRACES, {"app_id": app_id, **({"customer_id": customer_id} if customer_id else {})},
                 sort=(("at", DESCENDING), ("_id", DESCENDING)))


@shape("6b0000000000000000000002", {"customer_id": "6b0000000000000000000003", "kind": "search", "code": {"$ne": "OK"}},
       (_EXAMPLE_TIME, _EXAMPLE_ID))
def traces_page(app_id: str, where: dict[str, Any], after: tuple[datetime, ObjectId] | None = None, same_ms: bool = False) -> Query:
    """A page of ``traces_of`` with filters (customer_id, kind, code), after the last trace of
    the page before: first the rest of its millisecond (``same_ms``), then older ones."""
    filter_: dict[str, Any] = {"app_id": app_id, **where}
    if after is not None:
        filter_["at"] = after[0] if same_ms else {"$lt": after[0]}
        if same_ms:
            filter_["_id"] = {"$lt": after[1]}
    index = "by_app_customer" if where.get("customer_id") else "by_app_newest"
    return Query(TRACES, filter_, sort=(("at", DESCENDING), ("_id", DESCENDING)), hint=index)


@shape(_EXAMPLE_TIME)
def traces_before(at: datetime) -> Query:
    return Query(TRACES, {"at": {"$lt": at}})


@shape("6b0000000000000000000002", _EXAMPLE_TIME)
def traces_of_app_before(app_id: str, at: datetime) -> Query:
    return Query(TRACES, {"app_id": app_id, "at": {"$lt": at}})


@shape("6b0000000000000000000002", _EXAMPLE_TIME, _EXAMPLE_ID)
def traces_of_app_at_up_to(app_id: str, at: datetime, oid: ObjectId) -> Query:
    """The traces of one millisecond, up to one of them (in ``traces_of`` order)."""
    return Query(TRACES, {"app_id": app_id, "at": at, "_id": {"$lte": oid}}, hint="by_app_newest")


# deferred auto-link

@shape("6b0000000000000000000003", "6b0000000000000000000002")
def queued_pair(customer_id: str, app_id: str) -> Query:
    return Query(QUEUE, {"customer_id": customer_id, "app_id": app_id})


@shape(_EXAMPLE_TIME)
def queue_due(at: datetime) -> Query:
    """Due and not leased (a free entry's lease is the epoch)."""
    return Query(QUEUE, {"not_before": {"$lte": at}, "lease_until": {"$lte": at}}, sort=(("not_before", ASCENDING),), hint="due")


@shape(_EXAMPLE_ID, _EXAMPLE_TIME)
def queue_entry_leased(oid: Any, lease_until: datetime) -> Query:
    return Query(QUEUE, {"_id": oid, "lease_until": lease_until}, hint="_id_")


@shape()
def queue_next() -> Query:
    return Query(QUEUE, {}, sort=(("not_before", ASCENDING),), hint="due", projection={"not_before": 1})


# refresh leases (kept in the customer's document: linkmesh_profile.refresh_leases)

def free_refresh_leases(app_ids: list[str], at: datetime) -> dict[str, Any]:
    """Every one of the apps' refresh leases is free at ``at``: never taken, let go, or run out."""
    return {f"refreshing.{a}.until": {"$not": {"$gt": at}} for a in app_ids}


@shape(_EXAMPLE_ID, ["6b0000000000000000000002", "6b0000000000000000000004"], _EXAMPLE_TIME)
def customer_with_free_refresh_leases(oid: ObjectId, app_ids: list[str], at: datetime) -> Query:
    return customer_by_id(oid, free_refresh_leases(app_ids, at))
