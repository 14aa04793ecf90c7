"""One person's documents in every collection but their profile, for the export and the erase
(``linkmesh_profile.privacy``): each a query shape (``queries.shape``), each from an index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from linkmesh_profile.db import queries as q
from linkmesh_profile.db.queries import ACTIONS, ALIASES, AUDIT, INBOX, META, QUEUE, TRACES, Query, shape

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store

_CUSTOMER = "6b0000000000000000000001"


@shape(_CUSTOMER)
def traces_about(customer_id: str) -> Query:
    return Query(TRACES, {"customer_id": customer_id})


@shape(_CUSTOMER)
def audit_about(customer_id: str) -> Query:
    return Query(AUDIT, {"customer_id": customer_id})


@shape(_CUSTOMER)
def actions_about(customer_id: str) -> Query:
    return Query(ACTIONS, {"customer_id": customer_id})


@shape(_CUSTOMER)
def queued_about(customer_id: str) -> Query:
    return Query(QUEUE, {"customer_id": customer_id})


@shape(ObjectId(_CUSTOMER))
def aliases_into(oid: ObjectId) -> Query:
    return Query(ALIASES, {"into": oid})


@shape("6b0000000000000000000002", "101")
def events_about(app_id: str, external_id: str) -> Query:
    """Change events naming the person's record at an app (their ids at the vendor)."""
    return Query(INBOX, {"app_id": app_id, "external_customer_id": external_id})


# Where a trace made for no customer (the served adaptor's lookups, a search before a link) names a person.
NAMING_FIELDS = ("request.emails", "request.phones", "request.external_id")


@shape("6b0000000000000000000002", "request.emails", ["jane@example.com"])
def anonymous_traces_naming(app_id: str, field: str, values: list[str]) -> Query:
    """An app's traces made for no customer that name one of ``values`` in ``field``."""
    return Query(TRACES, {"app_id": app_id, "customer_id": "", field: {"$in": values}})


def naming(customer: dict[str, Any]) -> dict[str, list[str]]:
    """What names the person in a trace's request: their emails, phones, and ids at the vendors."""
    return {
        "request.emails": list(customer.get("emails") or []),
        "request.phones": list(customer.get("phones") or []),
        "request.external_id": [e for _, e in link_records(customer)],
    }


async def anonymous_traces(store: Store, customer: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(app id, field, values) of every trace query that finds the person among traces made for no customer."""
    apps = [str(d["_id"]) async for d in q.all_apps().find(store.db)]
    return [(a, f, v) for a in apps for f, v in naming(customer).items() if v]


@shape(_CUSTOMER)
def erasure(customer_id: str) -> Query:
    """The record of a customer's erasure (``meta``): when, what it removed; kept, without their data."""
    return Query(META, {"_id": f"erasure:{customer_id}"})


def collections_about(customer_id: str) -> dict[str, Query]:
    """The person's documents in each collection the export reads by their id."""
    return {
        q.TRACES: traces_about(customer_id),
        q.AUDIT: audit_about(customer_id),
        q.ACTIONS: actions_about(customer_id),
        q.QUEUE: queued_about(customer_id),
    }


def link_records(customer: dict[str, Any]) -> list[tuple[str, str]]:
    """(app id, their id at the vendor) of each of the profile's links."""
    return [(key.partition(":")[0], key.partition(":")[2]) for key in customer.get("link_keys") or [] if ":" in key]


# What accounting needs of an action once its customer is erased (the rest may name them).
ACTION_KEPT = ("_id", "customer_id", "idempotency_key", "app_id", "app_type", "action", "order_id", "state", "started_at", "finished_at")
MONEY = ("amount", "currency")


@dataclass(frozen=True, slots=True)
class Holdings:
    """Every document about a person, as stored: an export carries them as they are."""

    profile: dict[str, Any] | None
    #: Collection -> their documents in it (the profile apart).
    others: dict[str, list[dict[str, Any]]]

    @property
    def records(self) -> list[tuple[str, str]]:
        return link_records(self.profile or {})

    def counts(self) -> dict[str, int]:
        return {q.CUSTOMERS: int(self.profile is not None), **{name: len(docs) for name, docs in self.others.items()}}


@dataclass(frozen=True, slots=True)
class Erasure:
    """The record of a customer's erasure (``meta``), typed: begun, then done with its counts."""

    customer_id: str
    state: str = "erasing"  # then "erased"
    started_at: datetime | None = None
    #: (app id, their id at the vendor) of the profile's links, kept only while it runs.
    records: tuple[tuple[str, str], ...] = ()
    erased_at: datetime | None = None
    removed: dict[str, int] = field(default_factory=dict)
    pseudonymised: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state == "erased"

    @classmethod
    def from_doc(cls, customer_id: str, doc: dict[str, Any]) -> Erasure:
        return cls(
            customer_id,
            str(doc.get("state") or "erasing"),
            doc.get("started_at"),
            tuple((str(a), str(e)) for a, e in doc.get("records") or ()),
            doc.get("erased_at"),
            {str(k): int(v) for k, v in (doc.get("removed") or {}).items()},
            {str(k): int(v) for k, v in (doc.get("pseudonymised") or {}).items()},
        )


async def documents_about(store: Store, customer_id: str) -> Holdings:
    """Every document about the customer, as stored, by collection."""
    db = store.db
    oid = ObjectId(customer_id) if ObjectId.is_valid(customer_id) else None
    profile = await q.customer_by_id(oid).find_one(db) if oid is not None else None
    out: dict[str, list[dict[str, Any]]] = {}
    for name, query in collections_about(customer_id).items():
        out[name] = await query.find(db).to_list(length=None)
    out[ALIASES] = await db[ALIASES].find(aliases_into(oid).filter).to_list(length=None) if oid is not None else []
    records = link_records(profile or {})
    out[INBOX] = [e for app_id, ext in records for e in await db[INBOX].find(events_about(app_id, ext).filter).to_list(length=None)]
    for app_id, name, values in await anonymous_traces(store, profile or {}):
        out[TRACES] += await db[TRACES].find(anonymous_traces_naming(app_id, name, values).filter).to_list(length=None)
    return Holdings(profile, out)


def pseudonymised_action(doc: dict[str, Any], erased: str) -> dict[str, Any]:
    """The action's record as accounting keeps it: which order, how much, how it ended."""
    kept = {k: doc[k] for k in ACTION_KEPT if k in doc}
    kept["params"] = {k: v for k, v in (doc.get("params") or {}).items() if k in MONEY}
    kept["result"] = {k: v for k, v in (doc.get("result") or {}).items() if k in MONEY}
    if doc.get("error"):
        kept["error"] = {"code": doc["error"].get("code", ""), "message": ""}
    if doc.get("resolution"):
        kept["resolution"] = {"status": doc["resolution"].get("status", "")}
    return {**kept, "erased": erased}


async def begin_erasure(store: Store, customer_id: str, records: list[tuple[str, str]], at: datetime) -> Erasure:
    """The erasure's record, made once (asking again, or again after a crash, finds it): when it
    began and the person's records at the vendors, until it is done (its change events go too)."""
    db = store.db
    doc = await db[META].find_one_and_update(
        erasure(customer_id).filter,
        {"$setOnInsert": {"started_at": at, "records": [list(r) for r in records], "state": "erasing"}},
        upsert=True,
        return_document=True,
    )
    return Erasure.from_doc(customer_id, doc or {})


async def erase_documents(
    store: Store,
    customer_id: str,
    records: list[tuple[str, str]],
    erased: str,
    naming_traces: list[tuple[str, str, list[str]]] | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Removes or pseudonymises every document about the customer, the profile last; each step
    is safe to run again. Answers (removed, pseudonymised) by collection."""
    db = store.db
    removed: dict[str, int] = {}
    for name, query in collections_about(customer_id).items():
        if name in (q.TRACES, q.QUEUE):
            removed[name] = (await db[name].delete_many(query.filter)).deleted_count
    for app_id, key, values in naming_traces or []:
        removed[TRACES] += (await db[TRACES].delete_many(anonymous_traces_naming(app_id, key, values).filter)).deleted_count
    oid = ObjectId(customer_id)
    removed[ALIASES] = (await db[ALIASES].delete_many(aliases_into(oid).filter)).deleted_count
    removed[q.REFRESH_LEASES] = (await db[q.REFRESH_LEASES].delete_many(q.refresh_leases_of(oid).filter)).deleted_count
    removed[INBOX] = sum([(await db[INBOX].delete_many(events_about(a, e).filter)).deleted_count for a, e in records])
    pseudonymised = {AUDIT: 0, ACTIONS: 0}
    note = {"$set": {"message": "", "details": {"customer": f"erased on {erased}"}}}
    pseudonymised[AUDIT] = (await db[AUDIT].update_many(audit_about(customer_id).filter, note)).modified_count
    for action in await db[ACTIONS].find(actions_about(customer_id).filter).to_list(length=None):
        if action.get("erased") != erased:
            await db[ACTIONS].replace_one(q.document_by_id(ACTIONS, action["_id"]).filter, pseudonymised_action(action, erased))
            pseudonymised[ACTIONS] += 1
    removed[q.CUSTOMERS] = (await db[q.CUSTOMERS].delete_one(q.customer_by_id(oid).filter)).deleted_count
    return removed, pseudonymised


async def finish_erasure(store: Store, customer_id: str, at: datetime, removed: dict[str, int], pseudonymised: dict[str, int]) -> Erasure:
    """Marks it done (the first time's date kept), counts added to what a run before a crash did."""
    db = store.db
    counts = {**{f"removed.{k}": v for k, v in removed.items()}, **{f"pseudonymised.{k}": v for k, v in pseudonymised.items()}}
    doc = await db[META].find_one_and_update(
        erasure(customer_id).filter,
        {"$set": {"state": "erased"}, "$min": {"erased_at": at}, "$inc": counts, "$unset": {"records": ""}},
        return_document=True,
    )
    return Erasure.from_doc(customer_id, doc or {})


async def erasure_of(store: Store, customer_id: str) -> Erasure | None:
    db = store.db
    found = await db[META].find_one(erasure(customer_id).filter)
    return Erasure.from_doc(customer_id, found) if found else None


def traces_of_app(app_id: str, customer_id: str = "") -> Query:
    """The app's lookup traces (of one customer, or all of them): what ``TraceStore.forget`` removes."""
    return Query(TRACES, q.traces_of(app_id, customer_id).filter)


async def customers_linked_to(store: Store, app_id: str) -> list[str]:
    """The ids of every customer linked to the app."""
    db = store.db
    return [str(d["_id"]) async for d in q.customers_linked_to(app_id).find(db)]
