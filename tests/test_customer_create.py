"""A create whose write is retried after it landed finds its own customer, not a conflict."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.customers.profiles import create_customer
from linkmesh_profile.db.store import Store
from linkmesh_profile.model.customer import Customer


class RetryingStore(Store):
    """Sends each insert twice, as a driver does when the first answer is lost."""

    async def insert_customer(self, doc: dict[str, Any]) -> Customer:
        await self.customers.insert_one(dict(doc))
        return await super().insert_customer(doc)


async def test_a_retried_create_answers_its_own_customer(mongo: MongoServer) -> None:
    store = RetryingStore(mongo.uri, f"create_{uuid.uuid4().hex[:8]}")
    try:
        await store.ensure_indexes()
        email = f"once-{uuid.uuid4().hex[:8]}@example.com"
        doc = await create_customer(store, profile_pb2.CustomerInput(emails=[email]), "US")
        assert doc.emails == (email,)
        assert await store.customers.count_documents({"emails": email}) == 1
        with pytest.raises(ServiceError) as info:  # someone else's create with that email still conflicts
            await create_customer(store, profile_pb2.CustomerInput(emails=[email]), "US")
        assert info.value.fields == {"emails[0]": f"{email} belongs to customer {doc.id}"}
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()
