"""Every query shape the profile service sends to MongoDB, in one place.

Each builder answers a ``Query`` (collection, filter, sort, projection; a hint only where a
server needs one) and is registered with example arguments, so the tests can run each shape:
``tests/test_store_at_scale.py`` times every shape (and every write) on 20,000 customers against 200 and fails on one
that scans, ``tests/test_query_plans.py`` reads MongoDB's own ``explain`` of each (on a real MongoDB: the embedded
server's explain does not describe what it executes). A third test reads the service's source and fails when a
collection is queried with a filter that did not come from a ``Query`` here, so no query can skip them.

Rules the shapes follow, because both MongoDB's planner and the embedded server's need them:
- A partial index serves only queries that contain its filter expression. The unique partial indexes (``unique_email``,
  ``unique_phone``, ``unique_link``) keep the uniqueness rule; lookups use the plain multikey indexes ``by_email``,
  ``by_phone`` and ``by_link``.
- One query per field instead of ``$or`` across fields; no ``_id: {$ne}`` (the caller drops its own document from the answer).
- A prefix is a range (``$gte``/``$lt``), not a regular expression.
- No hints: the embedded server executes a hinted query as a scan of the hinted index's whole range (a hinted
  ``_id`` lookup with one more condition took 200 ms at 20,000 documents against 0.7 ms unhinted), and MongoDB's
  planner picks these indexes itself.
- No ``findAndModify`` (``linkmesh_profile.db.writes``): the embedded server executes its write as a
  collection scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING

from linkmesh_profile.db import leases

CUSTOMERS, APPS, ACTIONS, TRACES, QUEUE, META = "customers", "apps", "actions", "lookup_traces", "autolink_queue", "meta"
API_KEYS, AUDIT, ALIASES, SIGNATURES, INBOX = "api_keys", "audit", "customer_aliases", "adaptor_signatures", "inbox"
REFRESH_LEASES = "refresh_leases"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXAMPLE_ID = ObjectId("6b0000000000000000000001")
_EXAMPLE_TIME = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


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


@shape(CUSTOMERS, _EXAMPLE_ID, {"emails": "a@example.com"})
def document_by_id(collection: str, oid: Any, where: dict[str, Any] | None = None) -> Query:
    """One document of ``collection`` by its ``_id``, with more conditions a conditional write needs."""
    return Query(collection, {**(where or {}), "_id": oid})


# customers


@shape(_EXAMPLE_ID, {"links.6b0000000000000000000002.external_customer_id": "101"})
def customer_by_id(oid: ObjectId, where: dict[str, Any] | None = None) -> Query:
    """One customer; ``where`` adds conditions a conditional update needs."""
    return Query(CUSTOMERS, {"_id": oid, **(where or {})})


@shape(_EXAMPLE_ID)
def customer_listing_by_id(oid: ObjectId) -> Query:  # one customer without its links' data (a search reads no more)
    return Query(CUSTOMERS, {"_id": oid}, projection=LISTING)


@shape(_EXAMPLE_ID, _EXAMPLE_TIME)
def provisional_customer(oid: ObjectId, at: datetime) -> Query:
    """A customer still provisional at ``at`` (linkmesh_profile.customers.folding): nothing but contacts."""
    return customer_by_id(oid, {"provisional_until": {"$gt": at}, "link_keys.0": {"$exists": False}, "unlinked_apps.0": {"$exists": False}})


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
def customers_linked_to(app_id: str) -> Query:  # link keys are ``<app_id>:<external id>``: the app's keys are one range of the index.
    return Query(
        CUSTOMERS, {"link_keys": {"$gte": f"{app_id}:", "$lt": f"{app_id};"}}, projection={"field_sources": 1, "attribute_sources": 1}
    )


# the customer directory (linkmesh_profile.customers.directory): exact keys, one index each

LISTING = {"name": 1, "emails": 1, "phones": 1, "link_keys": 1, "last_contact_at": 1, "recent_key": 1, "updated_at": 1}


@shape()
def every_customer() -> Query:  # in id order (the directory's one-off backfill).
    return Query(
        CUSTOMERS,
        {},
        sort=(("_id", ASCENDING),),
        projection={"name": 1, "links": 1, "created_at": 1, "last_contact_at": 1, "recent_key": 1},
    )


@shape("2026-11-23T12:00:00.000000|6b0000000000000000000001", "2026-11-23T11:50:00")
def recent_customers(before: str | None = None, since: str | None = None) -> Query:
    """Most recently contacted first, below the last key of the page before, back to ``since`` (a
    window the directory widens until a page is full: the embedded server sorts in time by size)."""
    window: dict[str, str] = {"$lt": before or "\uffff", **({"$gte": since} if since else {})}
    return Query(CUSTOMERS, {"recent_key": window}, sort=(("recent_key", DESCENDING),), projection=LISTING)


@shape("smi", _EXAMPLE_ID)
def customers_named(word: str, after: ObjectId | None = None) -> Query:
    """Customers with a name word that ``word`` starts, in id order, after the last id of the page
    before. One word: the caller keeps those whose name has its other words too (the embedded
    server answers ``$all``, or a second condition on the same field, from a scan)."""
    where: dict[str, Any] = {"name_keys": word}
    if after is not None:
        where["_id"] = {"$gt": after}
    return Query(CUSTOMERS, where, sort=(("_id", ASCENDING),), projection={**LISTING, "name_keys": 1})


@shape(["6b0000000000000000000002:101"])
def holders_of_links(keys: list[str]) -> Query:  # the customers who hold these link keys (``<app id>:<external id>``): one index lookup.
    return Query(CUSTOMERS, {"link_keys": {"$in": keys}}, projection=LISTING)


@shape([_EXAMPLE_ID])
def customers_by_ids(oids: list[ObjectId]) -> Query:  # these customers as listed (names for the audit and lookup logs): one index lookup.
    return Query(CUSTOMERS, {"_id": {"$in": oids}}, projection=LISTING)


@shape(["1001\x1f6b0000000000000000000002"])
def customers_with_order(keys: list[str]) -> Query:
    return Query(CUSTOMERS, {"order_keys": {"$in": keys}}, sort=(("_id", ASCENDING),), projection=LISTING)


# apps


@shape(_EXAMPLE_ID)
def app_by_id(oid: ObjectId) -> Query:
    return Query(APPS, {"_id": oid})


@shape()
def all_apps() -> Query:
    return Query(APPS, {}, sort=(("_id", ASCENDING),))


@shape()
def apps_version() -> Query:  # the counter every app write increases: replicas compare it to reload their app cache.
    return Query(META, {"_id": "apps"})


@shape()
def leases_version() -> Query:
    return Query(META, {"_id": "leases"})


@shape()
def directory_version() -> Query:  # set once every customer has the directory's keys (``Store.backfill_directory``).
    return Query(META, {"_id": "directory"})


# actions


@shape("6b0000000000000000000003", "key-1")
def action_by_key(customer_id: str, key: str) -> Query:
    return Query(ACTIONS, {"customer_id": customer_id, "idempotency_key": key})


@shape(_EXAMPLE_ID, "running")
def action_by_id(oid: Any, state: str | None = None) -> Query:
    return Query(ACTIONS, {"_id": oid, **({"state": state} if state else {})})


@shape(_EXAMPLE_TIME)
def expired_action_leases(at: datetime) -> Query:  # running actions whose replica's lease ran out (it died while the vendor was asked).
    return Query(ACTIONS, {"state": "running", **leases.RUNNING.expired(at)}, projection={"_id": 1})


def running_actions_of_an_earlier_release() -> Query:
    """Running actions whose lease an earlier release kept as ``lease_until``: read once per
    database by a start-up migration (marked done in ``meta``), never by a request, so not one
    of the shapes a request sends."""
    return Query(ACTIONS, {"state": "running", "lease_until": {"$exists": True}}, projection={"lease_until": 1})


@shape(_EXAMPLE_TIME)
def due_resolutions(at: datetime) -> Query:  # unknown actions whose next check with the vendor is due, and no replica checking it.
    return Query(
        ACTIONS,
        {"state": "unknown", "resolution.status": "checking", "resolution.next_check_at": {"$lte": at}, **leases.CHECKING.free(at)},
        sort=(("resolution.next_check_at", 1),),
    )


# API keys (a handful of documents: listed by _id)


@shape(_EXAMPLE_ID, True)
def api_key_by_id(oid: ObjectId, unrevoked: bool = False) -> Query:
    return Query(API_KEYS, {"_id": oid, **({"revoked_at": None} if unrevoked else {})})


@shape(False)
def api_keys(include_revoked: bool) -> Query:
    return Query(API_KEYS, {} if include_revoked else {"revoked_at": None}, sort=(("_id", DESCENDING),), projection={"hash": 0})


# audit log: newest first by _id; each filter has an index of (field, _id)

AUDIT_FILTERS = ("actor.id", "customer_id", "app_id", "action", "outcome")


@shape({"customer_id": "6b0000000000000000000003", "outcome": "OK"}, _EXAMPLE_ID)
def audit_page(where: dict[str, str], before: ObjectId | None = None) -> Query:
    """``where``: exact values of AUDIT_FILTERS; the first indexed one given serves the page."""
    return Query(AUDIT, {**where, **({"_id": {"$lt": before}} if before is not None else {})}, sort=(("_id", DESCENDING),))


# lookup traces


@shape("6b0000000000000000000002", "6b0000000000000000000003")
def traces_of(app_id: str, customer_id: str = "") -> Query:
    """Newest first; traces written together share a millisecond, and their ids (made in the
    order they were recorded) break the tie."""
    return Query(
        TRACES, {"app_id": app_id, **({"customer_id": customer_id} if customer_id else {})}, sort=(("at", DESCENDING), ("_id", DESCENDING))
    )


@shape(
    "6b0000000000000000000002",
    {"customer_id": "6b0000000000000000000003", "kind": "search", "code": {"$ne": "OK"}},
    (_EXAMPLE_TIME, _EXAMPLE_ID),
)
def traces_page(app_id: str, where: dict[str, Any], after: tuple[datetime, ObjectId] | None = None, same_ms: bool = False) -> Query:
    """A page of ``traces_of`` with filters (customer_id, kind, code), after the last trace of
    the page before: first the rest of its millisecond (``same_ms``), then older ones. An empty
    ``app_id``: every app's (``every_app_traces_page``)."""
    filter_: dict[str, Any] = {**({"app_id": app_id} if app_id else {}), **where}
    if after is not None:
        filter_["at"] = after[0] if same_ms else {"$lt": after[0]}
        if same_ms:
            filter_["_id"] = {"$lt": after[1]}
    return Query(TRACES, filter_, sort=(("at", DESCENDING), ("_id", DESCENDING)))


@shape({"customer_id": "6b0000000000000000000003"}, (_EXAMPLE_TIME, _EXAMPLE_ID))
def every_app_traces_page(where: dict[str, Any], after: tuple[datetime, ObjectId] | None = None) -> Query:
    """The lookup log across every app (``traces_page`` with no app): by the newest index, or
    by customer's when one customer's are asked."""
    return traces_page("", where, after)


@shape(_EXAMPLE_TIME)
def traces_before(at: datetime) -> Query:
    return Query(TRACES, {"at": {"$lt": at}})


@shape("6b0000000000000000000002", _EXAMPLE_TIME)
def traces_of_app_before(app_id: str, at: datetime) -> Query:
    return Query(TRACES, {"app_id": app_id, "at": {"$lt": at}})


@shape("6b0000000000000000000002", _EXAMPLE_TIME, _EXAMPLE_ID)
def traces_of_app_at_up_to(app_id: str, at: datetime, oid: ObjectId) -> Query:
    """The traces of one millisecond, up to one of them (in ``traces_of`` order)."""
    return Query(TRACES, {"app_id": app_id, "at": at, "_id": {"$lte": oid}})


# deferred auto-link


@shape("6b0000000000000000000003", "6b0000000000000000000002")
def queued_pair(customer_id: str, app_id: str) -> Query:
    return Query(QUEUE, {"customer_id": customer_id, "app_id": app_id})


@shape(_EXAMPLE_TIME)
def queue_due(at: datetime) -> Query:  # due and its lease free.
    return Query(QUEUE, {"not_before": {"$lte": at}, **leases.QUEUED.free(at)}, sort=(("not_before", ASCENDING),))


@shape(_EXAMPLE_ID, "host:1:ab12cd34:ef56ab78")
def queue_entry_leased(oid: Any, holder: str) -> Query:
    return Query(QUEUE, {"_id": oid, **leases.QUEUED.held_by(holder)})


@shape(_EXAMPLE_TIME, 5.0)
def queue_next(at: datetime, within_s: float) -> Query:
    """The next entry due within ``within_s`` (a bounded range: the embedded server sorts in
    time proportional to the collection's size)."""
    return Query(
        QUEUE,
        {"not_before": {"$gt": at, "$lte": at + timedelta(seconds=within_s)}},
        sort=(("not_before", ASCENDING),),
        projection={"not_before": 1},
    )


# the vendors' change events (linkmesh_profile.db.inbox) and the sweep of what they missed (db.sweeps)


@shape(_EXAMPLE_TIME)
def inbox_due(at: datetime) -> Query:  # waiting, due, its lease free: the oldest first
    return Query(INBOX, {"state": "waiting", "due_at": {"$lte": at}, **leases.QUEUED.free(at)}, sort=(("due_at", ASCENDING),))


@shape(_EXAMPLE_ID, "host:1:ab12cd34:ef56ab78")
def inbox_entry_leased(oid: Any, holder: str) -> Query:
    return Query(INBOX, {"_id": oid, **leases.QUEUED.held_by(holder)})


@shape("6b0000000000000000000002", "e-1")
def inbox_event(app_id: str, event_id: str) -> Query:
    return Query(INBOX, {"app_id": app_id, "event_id": event_id})


@shape("6b0000000000000000000002", _EXAMPLE_TIME)
def sweep_cursor(app_id: str, due_at: datetime | None = None) -> Query:  # due_at: only when due then and not leased
    due = {"next_at": {"$not": {"$gt": due_at}}, **leases.QUEUED.free(due_at)} if due_at else {}
    return Query(META, {"_id": f"sweep:{app_id}", **due})


# refresh leases (a document of their own per customer: linkmesh_profile.db.refresh_leases)


@shape(_EXAMPLE_ID, {"apps.6b0000000000000000000002.s0123456789abcdef.until": {"$not": {"$gt": _EXAMPLE_TIME}}})
def refresh_leases_of(oid: ObjectId, where: dict[str, Any] | None = None) -> Query:
    """A customer's refresh leases; ``where``: the conditions of taking some of them (no ``$or``:
    the embedded server scans the collection for a filter with one)."""
    return Query(REFRESH_LEASES, {"_id": oid, **(where or {})})
