"""One place owns every collection of the profile service and its indexes (``linkmesh_profile.db.collections``)."""

from __future__ import annotations

import ast
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import collections
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import Store

PROFILE_SRC = Path(collections.__file__).parents[1]


def test_indexes_are_made_in_one_place_only() -> None:
    makers = ("create_index", "create_indexes", "drop_index")
    found = []
    for path in sorted(PROFILE_SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in makers and path.name != "collections.py":
                found.append(f"{path.relative_to(PROFILE_SRC)}:{node.lineno}")
    assert found == [], "indexes made outside db/collections.py: " + ", ".join(found)


def test_only_the_store_layer_reaches_the_database() -> None:
    """Above ``db/`` the profile service works with typed objects (``model/``) through the
    store layer's methods: no module reaches a database handle, a collection, or a query shape."""
    found = []
    for path in sorted(PROFILE_SRC.rglob("*.py")):
        if path.relative_to(PROFILE_SRC).parts[0] == "db":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            reaches = isinstance(node, ast.Attribute) and node.attr in ("db", "collection", "client")
            imports = isinstance(node, ast.ImportFrom) and any(a.name in ("queries", "writes") for a in node.names)
            if isinstance(node, (ast.Attribute, ast.ImportFrom)) and (reaches or imports):
                found.append(f"{path.relative_to(PROFILE_SRC)}:{node.lineno}")
    assert found == [], "the database reached above the store layer: " + ", ".join(found)


def test_every_collection_the_queries_name_is_declared() -> None:
    named = {value for name, value in vars(q).items() if name.isupper() and isinstance(value, str) and name not in ("EPOCH",)}
    assert named <= set(collections.names()), named - set(collections.names())


async def test_every_declared_index_exists_and_a_changed_retention_changes_the_ttl(mongo: MongoServer) -> None:
    store = Store(mongo.uri, f"collections_{uuid.uuid4().hex[:8]}")
    try:
        await store.ensure_indexes(trace_retention_s=3600)
        for collection in collections.collections(3600):
            have = await store.db[collection.name].index_information()
            for index in collection.indexes:
                assert index.document["name"] in have, (collection.name, index.document["name"])
        assert "by_type" in await store.apps.index_information()
        await store.ensure_indexes(trace_retention_s=7200)  # the setting changed: the same index, a new retention
        assert (await store.db[q.TRACES].index_information())["ttl"]["expireAfterSeconds"] == 7200
        await store.ensure_indexes(trace_retention_s=7200)  # again: nothing to do, no error
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()


async def test_a_running_action_an_earlier_release_leased_is_still_swept_when_its_lease_runs_out(mongo: MongoServer) -> None:
    """An earlier release kept a running action's lease as ``lease_until``; after an upgrade the
    same lease, in the one shape every lease has, still ends: the action becomes unknown."""
    store = Store(mongo.uri, f"collections_{uuid.uuid4().hex[:8]}")
    try:
        ran_out = datetime.now(UTC) - timedelta(seconds=5)
        inserted = await store.db[q.ACTIONS].insert_one(
            {"customer_id": "c", "idempotency_key": "k", "state": "running", "app_id": "a", "action": "refund", "lease_until": ran_out}
        )
        await store.ensure_indexes()
        doc = await store.db[q.ACTIONS].find_one({"_id": inserted.inserted_id})
        assert (
            doc is not None
            and "lease_until" not in doc
            and doc["lease"]["until"].replace(tzinfo=UTC) == ran_out.replace(microsecond=ran_out.microsecond // 1000 * 1000)
        )
        expired = await q.expired_action_leases(datetime.now(UTC)).find(store.db).to_list(length=10)
        assert [d["_id"] for d in expired] == [inserted.inserted_id], "the sweeper finds it"
        assert await q.leases_version().find_one(store.db) is not None, "done once per database"
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()
