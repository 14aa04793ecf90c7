"""Customers stored before the directory existed are given its keys once, at start-up."""

from __future__ import annotations

import uuid

from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.customers.directory import Directory
from linkmesh_profile.db.search_keys import name_keys, order_keys
from linkmesh_profile.db.store import Store, now


def test_keys() -> None:
    assert name_keys("Zoë  O'Brien") == sorted({"z", "zo", "zoe", "o", "b", "br", "bri", "brie", "brien"})
    assert order_keys("app", {"orders": [{"number": "#1001", "id": "77"}], "returns": [{"order_id": "R-9"}]}) == [
        "1001\x1fapp",
        "77\x1fapp",
        "r-9\x1fapp",
    ]


async def test_customers_stored_before_the_directory_are_found_after_start_up(mongo: MongoServer) -> None:
    store = Store(mongo.uri, f"backfill_{uuid.uuid4().hex[:8]}")
    try:
        app_id = ObjectId()
        await store.apps.insert_one({"_id": app_id, "type": "bigcommerce", "name": "Old store", "active": True})
        await store.app_cache.count_change()
        old = ObjectId()
        # As written by an earlier version: no name_keys, order_keys or recent_key.
        await store.customers.insert_one(
            {
                "_id": old,
                "name": "Ada Lovelace",
                "emails": [],
                "phones": [],
                "link_keys": [f"{app_id}:5"],
                "links": {str(app_id): {"external_customer_id": "5", "data": {"orders": [{"number": "4242"}]}}},
                "created_at": now(),
            }
        )
        await store.ensure_indexes()
        directory = Directory(store, "US")
        by_name = await directory.page(profile_pb2.ListCustomersRequest(query="ada love"))
        by_order = await directory.page(profile_pb2.ListCustomersRequest(query="#4242"))
        recent = await directory.page(profile_pb2.ListCustomersRequest())
        assert [c.id for c in by_name.customers] == [str(old)]
        assert [(c.id, c.matched, list(c.linked_apps)) for c in by_order.customers] == [(str(old), "order", ["Old store"])]
        assert [c.id for c in recent.customers] == [str(old)]
        assert await store.backfill_directory() == 0, "once per database"
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()
