"""MongoDB access through PyMongo's native asyncio API (``AsyncMongoClient``).

Collections:
- ``customers``: the profile, its links (``links.<app_id>`` holds the DETAILED
  data of that app) and the apps it was unlinked from. Unique partial indexes on
  ``emails`` and ``phones`` (multikey) make two customers sharing an email or a
  phone impossible, even under concurrent writes; one on ``link_keys``
  (``<app_id>:<external id>``) keeps one external customer on one profile.
- ``apps``: integrations, secrets encrypted.
"""

from __future__ import annotations

from datetime import datetime, timezone
from collections.abc import AsyncIterator
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

NON_EMPTY = {"$exists": True}


def now() -> datetime:
    return datetime.now(timezone.utc)


def object_id(value: str) -> ObjectId | None:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


class Store:
    def __init__(self, uri: str, database: str, timeout_s: float = 5.0) -> None:
        # Every operation ends within ``timeout_s`` (PyMongo's client-side operation
        # timeout, server selection included): a database that does not answer makes a
        # request UNAVAILABLE (503) in seconds, well within its deadline, instead of a hang.
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            uri, tz_aware=True, timeoutMS=int(timeout_s * 1000), appname="linkmesh-profile"
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]
        self.customers = self.db["customers"]
        self.apps = self.db["apps"]

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def ensure_indexes(self) -> None:
        await self.customers.create_index(
            [("emails", ASCENDING)], name="unique_email", unique=True, partialFilterExpression={"emails.0": NON_EMPTY}
        )
        await self.customers.create_index(
            [("phones", ASCENDING)], name="unique_phone", unique=True, partialFilterExpression={"phones.0": NON_EMPTY}
        )
        await self.customers.create_index(
            [("link_keys", ASCENDING)], name="unique_link", unique=True, partialFilterExpression={"link_keys.0": NON_EMPTY}
        )
        await self.apps.create_index([("type", ASCENDING)], name="by_type")

    async def close(self) -> None:
        await self.client.close()

    # customers

    async def insert_customer(self, doc: dict[str, Any]) -> dict[str, Any]:
        result = await self.customers.insert_one(doc)
        doc["_id"] = result.inserted_id
        return doc

    async def get_customer(self, customer_id: str) -> dict[str, Any] | None:
        oid = object_id(customer_id)
        return await self.customers.find_one({"_id": oid}) if oid else None

    async def update_customer(self, customer_id: str, update: dict[str, Any], extra_filter: dict[str, Any] | None = None) -> dict[str, Any] | None:
        oid = object_id(customer_id)
        if oid is None:
            return None
        return await self.customers.find_one_and_update(
            {"_id": oid, **(extra_filter or {})}, update, return_document=ReturnDocument.AFTER
        )

    async def find_customers(self, email: str | None, phone: str | None) -> list[dict[str, Any]]:
        clauses: list[dict[str, Any]] = []
        if email:
            clauses.append({"emails": email})
        if phone:
            clauses.append({"phones": phone})
        if not clauses:
            return []
        return await self.customers.find({"$or": clauses}).sort("_id", ASCENDING).to_list(length=50)

    async def owners_of(self, emails: list[str], phones: list[str], exclude: ObjectId | None = None) -> list[dict[str, Any]]:
        clauses: list[dict[str, Any]] = []
        if emails:
            clauses.append({"emails": {"$in": emails}})
        if phones:
            clauses.append({"phones": {"$in": phones}})
        if not clauses:
            return []
        query: dict[str, Any] = {"$or": clauses}
        if exclude is not None:
            query["_id"] = {"$ne": exclude}
        return await self.customers.find(query, {"emails": 1, "phones": 1}).to_list(length=20)

    async def customer_with_link(self, app_id: str, external_id: str) -> dict[str, Any] | None:
        return await self.customers.find_one({"link_keys": link_key(app_id, external_id)}, {"_id": 1})

    def customers_linked_to(self, app_id: str) -> AsyncIterator[dict[str, Any]]:
        """Each customer linked to the app, with the provenance of their fields."""
        return aiter(self.customers.find({f"links.{app_id}": {"$exists": True}}, {"field_sources": 1, "attribute_sources": 1}))

    async def drop_app_link(self, customer_oid: ObjectId, app_id: str, set_: dict[str, Any], unset: dict[str, Any]) -> None:
        update: dict[str, Any] = {"$unset": {f"links.{app_id}": "", **unset}, "$pull": {"link_keys": {"$regex": f"^{app_id}:"}}}
        if set_:
            update["$set"] = set_
        await self.customers.update_one({"_id": customer_oid}, update)

    # apps

    async def insert_app(self, doc: dict[str, Any]) -> dict[str, Any]:
        result = await self.apps.insert_one(doc)
        doc["_id"] = result.inserted_id
        return doc

    async def get_app(self, app_id: str) -> dict[str, Any] | None:
        oid = object_id(app_id)
        return await self.apps.find_one({"_id": oid}) if oid else None

    async def list_apps(self, *, active_only: bool = False) -> list[dict[str, Any]]:
        query = {"active": True} if active_only else {}
        return await self.apps.find(query).sort("_id", ASCENDING).to_list(length=None)

    async def replace_app(self, doc: dict[str, Any]) -> None:
        await self.apps.replace_one({"_id": doc["_id"]}, doc)

    async def delete_app(self, app_id: str) -> bool:
        oid = object_id(app_id)
        if oid is None:
            return False
        result = await self.apps.delete_one({"_id": oid})
        return result.deleted_count == 1


def link_key(app_id: str, external_id: str) -> str:
    return f"{app_id}:{external_id}"
