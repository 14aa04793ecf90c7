"""MongoDB access through PyMongo's native asyncio API (``AsyncMongoClient``).

Collections:
- ``customers``: the profile, its links (``links.<app_id>`` holds the DETAILED
  data of that app) and the apps it was unlinked from. Unique partial indexes on
  ``emails`` and ``phones`` (multikey) make two customers sharing an email or a
  phone impossible, even under concurrent writes; one on ``link_keys``
  (``<app_id>:<external id>``) keeps one external customer on one profile.
- ``apps``: integrations, secrets encrypted. Read from memory (``AppCache``): every
  app write increases the counter ``meta.apps``, and a replica reloads its apps when
  the counter moved (checked at most once a second, at once after its own writes).

Every filter comes from ``linkmesh_profile.db.queries`` (the one list of query shapes,
each checked with ``explain`` by a test). The unique partial indexes enforce the
uniqueness rules; the plain ``by_*`` indexes serve the lookups (a partial index
serves only queries that carry its filter expression).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from prometheus_client import Counter
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from linkmesh_core.request_context import current_request_id
from linkmesh_profile.db import collections, writes
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.app_cache import AppCache
from linkmesh_profile.db.search_keys import ORDER_SEPARATOR, name_keys, order_keys, recent_key, with_search_keys
from linkmesh_profile.model.app import App, Webhooks
from linkmesh_profile.model.customer import Customer, Listing

MAX_ALIAS_HOPS = 5
# Counts every write of a customer's links and the data they pulled: an unlink writes on the version it read.
LINKS_VERSION = "links_version"


T = TypeVar("T")

DB_COMMANDS = Counter("linkmesh_db_commands_total", "Database commands the profile service sent, by command", ["command"])
# Those sent for a request (its own, and its tasks'): what a request costs, without the background
# work running beside it (trace pruning, queued auto-links, the vendors' change events).
DB_REQUEST_COMMANDS = Counter("linkmesh_db_request_commands_total", "Database commands sent for requests, by command", ["command"])
# How long requests waited on the database (the server's answer as the driver timed it): a
# benchmark subtracts it to see what the mesh adds on a server faster than the embedded one.
DB_REQUEST_SECONDS = Counter("linkmesh_db_request_seconds_total", "Seconds requests waited on database commands")
HOUSEKEEPING = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart", "saslContinue", "buildInfo"})


class CommandCounter(monitoring.CommandListener):
    """Counts every database command sent (bench/db_calls.py reads it from /metrics):
    what a request costs the database carries over to production, whatever the server."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in HOUSEKEEPING:
            DB_COMMANDS.labels(event.command_name).inc()
            if current_request_id():
                DB_REQUEST_COMMANDS.labels(event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name not in HOUSEKEEPING and current_request_id():
            DB_REQUEST_SECONDS.inc(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.command_name not in HOUSEKEEPING and current_request_id():
            DB_REQUEST_SECONDS.inc(event.duration_micros / 1e6)


def now() -> datetime:
    """To the millisecond, as MongoDB keeps it: a stamp answered before it is read back is the one stored."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def object_id(value: str) -> ObjectId | None:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


class Store:
    def __init__(
        self,
        uri: str,
        database: str,
        timeout_s: float = 5.0,
        app_check_s: float = 1.0,
        listeners: tuple[monitoring.CommandListener, ...] = (),
    ) -> None:
        # Every operation ends within ``timeout_s`` (PyMongo's client-side operation
        # timeout, server selection included): a database that does not answer makes a
        # request UNAVAILABLE (503) in seconds, well within its deadline, instead of a hang.
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            uri, tz_aware=True, timeoutMS=int(timeout_s * 1000), appname="linkmesh-profile", event_listeners=[CommandCounter(), *listeners]
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]
        self.customers = self.db["customers"]
        self.apps = self.db["apps"]
        self.app_cache = AppCache(self.db, app_check_s)
        self._transactions: bool | None = None

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def ensure_indexes(
        self,
        trace_retention_s: float = collections.DEFAULT_TRACE_RETENTION_S,
        audit_retention_s: float = 0.0,
        action_retention_s: float = 0.0,
    ) -> None:
        """Every collection's indexes (``linkmesh_profile.db.collections``), then the directory's keys where missing."""
        await collections.ensure_indexes(self.db, trace_retention_s, audit_retention_s, action_retention_s)
        await self.backfill_directory()

    async def backfill_directory(self) -> int:
        """Customers stored before the directory keys existed get them, once per database
        (marked in ``meta``): answers how many were written."""
        if await q.directory_version().find_one(self.db) is not None:
            return 0
        written = 0
        async for doc in q.every_customer().find(self.db):
            keys = [k for app_id, link in (doc.get("links") or {}).items() for k in order_keys(app_id, link.get("data"))]
            set_: dict[str, Any] = {"name_keys": name_keys(doc.get("name") or "")}
            if not doc.get("recent_key"):
                set_["recent_key"] = recent_key(doc.get("last_contact_at") or doc.get("created_at") or now(), doc["_id"])
            await self.customers.update_one(
                q.customer_by_id(doc["_id"]).filter, {"$set": set_, "$addToSet": {"order_keys": {"$each": keys}}}
            )
            written += 1
        await self.db[q.META].update_one(q.directory_version().filter, {"$set": {"version": 1, "at": now()}}, upsert=True)
        return written

    async def close(self) -> None:
        await self.client.close()

    # customers

    async def insert_customer(self, doc: dict[str, Any]) -> Customer:
        """Writes the new customer with its directory keys (its id is made here unless given)."""
        doc.setdefault("_id", ObjectId())
        doc["name_keys"] = name_keys(doc.get("name") or "")
        doc.setdefault("recent_key", recent_key(doc.get("last_contact_at") or doc.get("created_at") or now(), doc["_id"]))
        result = await self.customers.insert_one(doc)
        doc["_id"] = result.inserted_id
        return Customer.from_doc(doc)

    async def get_customer(self, customer_id: str) -> Customer | None:
        """The customer, or the one its id was folded into (``linkmesh_profile.customers.folding``)."""
        doc = await self._customer_doc(customer_id, q.customer_by_id)
        return Customer.from_doc(doc) if doc is not None else None

    async def get_listing(self, customer_id: str) -> Listing | None:
        """``get_customer`` without the data the customer's links pulled: its links as app ids."""
        doc = await self._customer_doc(customer_id, q.customer_listing_by_id)
        return Listing.from_doc(doc) if doc is not None else None

    async def _customer_doc(self, customer_id: str, shape: Callable[[ObjectId], q.Query]) -> dict[str, Any] | None:
        self.app_cache.warm()  # the apps are read next
        oid = object_id(customer_id)
        for _ in range(MAX_ALIAS_HOPS):
            if oid is None:
                return None
            query = shape(oid)
            doc = await query.find_one(self.db)
            if doc is not None:
                return doc
            oid = await self._alias_target(oid)
        return None

    async def _alias_target(self, oid: ObjectId) -> ObjectId | None:
        alias = await q.customer_alias(oid).find_one(self.db)
        return alias["into"] if alias else None

    async def fold_away(self, young: ObjectId, into: ObjectId, at: datetime) -> Customer | None:
        """Deletes ``young`` if it is still provisional at ``at`` and answers it; its alias to
        ``into`` is written first, so a read by its id in between finds one or the other."""
        mine = ObjectId()  # this attempt's alias, to take back only that one
        try:
            await self.db[q.ALIASES].insert_one({"_id": young, "into": into, "at": at, "attempt": mine})
        except DuplicateKeyError:
            return None  # folded already
        gone = await writes.delete_by_id(self.db, q.provisional_customer(young, at))
        if gone is None:
            await self.db[q.ALIASES].delete_one(q.customer_alias(young, {"attempt": mine}).filter)
            return None
        return Customer.from_doc(gone)

    async def add_contact_point(self, oid: ObjectId, field: str, value: str, cap: int) -> None:
        """Adds one email or phone to the customer (or where its id was folded) while it holds
        fewer than ``cap``; one another customer owns meanwhile stays theirs."""
        for _ in range(MAX_ALIAS_HOPS):
            try:
                added = await self.customers.update_one(
                    q.customer_by_id(oid, {f"{field}.{cap - 1}": {"$exists": False}}).filter,
                    {"$addToSet": {field: value}, "$set": {"updated_at": now()}},
                )
            except DuplicateKeyError:
                return
            target = None if added.matched_count else await self._alias_target(oid)
            if target is None:
                return
            oid = target

    async def fill_name(self, oid: ObjectId, name: str) -> None:
        """Sets the name of a customer that has none."""
        await self.customers.update_one(q.customer_without_name(oid).filter, with_search_keys({"$set": {"name": name}}))

    async def update_customer(
        self, customer_id: str, update: dict[str, Any], extra_filter: dict[str, Any] | None = None
    ) -> Customer | None:
        """The customer after the write, or None when nothing matched."""
        oid = object_id(customer_id)
        if oid is None:
            return None
        doc = await writes.update_by_id(self.db, q.customer_by_id(oid, extra_filter), with_search_keys(update))
        return Customer.from_doc(doc) if doc is not None else None

    async def change_customer(self, customer_id: str, update: dict[str, Any], extra_filter: dict[str, Any] | None = None) -> bool:
        """``update_customer`` for a caller that needs no document back (one database call
        less): whether it matched."""
        oid = object_id(customer_id)
        if oid is None:
            return False
        return await writes.update_only(self.db, q.customer_by_id(oid, extra_filter), with_search_keys(update))

    async def find_customers(self, email: str | None, phone: str | None) -> list[Customer]:
        """Customers who own the email or the phone: one indexed query per field."""
        self.app_cache.warm()  # a contact's auto-link reads the apps next
        found: dict[Any, dict[str, Any]] = {}
        for query in ([q.customers_by_email(email)] if email else []) + ([q.customers_by_phone(phone)] if phone else []):
            for doc in await query.find(self.db, limit=50).to_list(length=50):
                found.setdefault(doc["_id"], doc)
        return [Customer.from_doc(found[k]) for k in sorted(found)][:50]

    async def owners_of(self, emails: list[str], phones: list[str], exclude: ObjectId | None = None) -> list[Customer]:
        """Customers other than ``exclude`` who own one of the emails or phones."""
        found: dict[Any, dict[str, Any]] = {}
        for query in ([q.owners_of_emails(emails)] if emails else []) + ([q.owners_of_phones(phones)] if phones else []):
            for doc in await query.find(self.db, limit=21).to_list(length=21):
                if doc["_id"] != exclude:
                    found.setdefault(doc["_id"], doc)
        return [Customer.from_doc(d) for d in list(found.values())[:20]]

    async def customer_with_link(self, app_id: str, external_id: str) -> Customer | None:
        doc = await q.customer_with_link(link_key(app_id, external_id)).find_one(self.db)
        return Customer.from_doc(doc) if doc is not None else None

    async def customers_linked_to(self, app_id: str) -> AsyncIterator[Customer]:
        """Each customer linked to the app, with the provenance of their fields."""
        async for doc in q.customers_linked_to(app_id).find(self.db):
            yield Customer.from_doc(doc)

    async def drop_app_link(self, customer_oid: ObjectId, app_id: str, set_: dict[str, Any], unset: dict[str, Any]) -> None:
        update: dict[str, Any] = {
            "$unset": {f"links.{app_id}": "", **unset},
            "$pull": {"link_keys": {"$regex": f"^{app_id}:"}, "order_keys": {"$regex": f"{ORDER_SEPARATOR}{app_id}$"}},
        }
        if set_:
            update["$set"] = set_
        await self.customers.update_one(q.customer_by_id(customer_oid).filter, update)

    # apps

    async def transactions(self) -> bool:
        """Whether the deployment runs multi-document transactions (a replica set or a sharded
        cluster does; a standalone ``mongod`` does not)."""
        if self._transactions is None:
            hello = await self.client.admin.command("hello")
            self._transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
        return self._transactions

    async def _app_write(self, write: Callable[[AsyncClientSession | None], Awaitable[T]]) -> T:
        """An app write and the counter that tells every replica to reload, as one: in one
        transaction where the deployment has them, so a process that stops between the two
        cannot leave the other replicas serving the old app. Without transactions (a standalone
        server) the app is written first, then the counter."""

        async def both(session: AsyncClientSession | None) -> T:
            result = await write(session)
            await self.app_cache.count_change(session)
            return result

        try:
            if await self.transactions():
                async with self.client.start_session() as session:
                    return await session.with_transaction(both)
            return await both(None)
        finally:
            self.app_cache.invalidate()

    async def insert_app(self, doc: dict[str, Any]) -> App:
        async def write(session: AsyncClientSession | None) -> Any:
            return (await self.apps.insert_one(doc, session=session)).inserted_id

        doc["_id"] = await self._app_write(write)
        return App.from_doc(doc)

    async def set_app_webhooks(self, app_id: str, state: Webhooks) -> None:
        """Records how the app's subscription to its vendor's change events stands."""

        async def write(session: AsyncClientSession | None) -> None:
            await self.apps.update_one(q.app_by_id(ObjectId(app_id)).filter, {"$set": {"webhooks": state.to_doc()}}, session=session)

        await self._app_write(write)

    async def get_app(self, app_id: str) -> App | None:
        """From the app cache: no database call while the cache is current."""
        return await self.app_cache.get(app_id)

    async def list_apps(self, *, active_only: bool = False) -> list[App]:
        apps = await self.app_cache.all()
        return [a for a in apps if a.active] if active_only else apps

    async def replace_app(self, doc: dict[str, Any]) -> App:
        async def write(session: AsyncClientSession | None) -> None:
            await self.apps.replace_one(q.app_by_id(doc["_id"]).filter, doc, session=session)

        await self._app_write(write)
        return App.from_doc(doc)

    async def delete_app(self, app_id: str) -> bool:
        oid = object_id(app_id)
        if oid is None:
            return False

        async def write(session: AsyncClientSession | None) -> bool:
            return (await self.apps.delete_one(q.app_by_id(oid).filter, session=session)).deleted_count == 1

        return await self._app_write(write)


def link_key(app_id: str, external_id: str) -> str:
    return f"{app_id}:{external_id}"
