"""Every collection the running system writes is granted to the one role of the service that
writes it (linkmesh_devstack.database_users): a collection a new feature adds without a grant
would be refused by a production MongoDB with access control on."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import MongoClient

from linkmesh_devstack import database_users as dbu
from tests.conftest import Api

pytestmark = pytest.mark.e2e


def test_every_collection_the_system_writes_is_granted_to_one_role(api: Api, sandbox_reset: None) -> None:
    contact = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"})
    assert contact.status_code == 200, contact.text
    api.get(f"/api/v1/customers/{contact.json()['customer_id']}")
    api.get("/api/v1/audit", role="admin")
    assert api.stack.mongo is not None
    client: MongoClient[dict[str, Any]] = MongoClient(api.stack.mongo.uri)
    try:
        written = set(client[dbu.DATABASE].list_collection_names())
    finally:
        client.close()
    granted = {role: {collection for collection, _ in grants} for role, grants in dbu.roles().items()}
    assert {"customers", "audit", "lookup_traces"} <= written, sorted(written)
    for collection in written:
        owners = [role for role, collections in granted.items() if collection in collections]
        assert len(owners) == 1, f"{collection}: granted to {owners or 'no role'}"
