"""An app write and the counter that makes every replica reload its apps are one: a process
that stops between the two must not leave other replicas serving the old app forever."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import AsyncClientSession, Store


class Stopped(Exception):
    """The process stopped right after the counter's write, before the transaction committed."""


async def test_an_app_write_and_the_replicas_reload_counter_commit_together(mongo: MongoServer) -> None:
    store = Store(mongo.uri, f"apps_{uuid.uuid4().hex[:8]}")
    try:
        if not await store.transactions():
            pytest.skip("this MongoDB is a standalone server: no multi-document transactions")
        other = Store(mongo.uri, store.db.name, app_check_s=0)  # another replica
        first = await store.insert_app({"name": "Shop", "type": "bigcommerce"})
        assert (await other.get_app(first.id)).name == "Shop"  # type: ignore[union-attr]
        version = (await q.apps_version().find_one(store.db) or {})["version"]

        counted = store.app_cache.count_change

        async def count_then_stop(session: AsyncClientSession | None = None) -> None:
            await counted(session)
            raise Stopped()

        store.app_cache.count_change = count_then_stop  # type: ignore[method-assign]
        with pytest.raises(Stopped):
            await store.replace_app({**first.to_doc(), "name": "Renamed"})
        with pytest.raises(Stopped):
            await store.insert_app({"name": "Half-made", "type": "magento"})
        store.app_cache.count_change = counted  # type: ignore[method-assign]

        apps: list[dict[str, Any]] = await q.all_apps().find(store.db).to_list(length=None)
        assert [a["name"] for a in apps] == ["Shop"], "neither write is kept without its counter"
        assert (await q.apps_version().find_one(store.db) or {})["version"] == version
        await store.replace_app({**first.to_doc(), "name": "Renamed"})
        assert (await other.get_app(first.id)).name == "Renamed", "the other replica reloads"  # type: ignore[union-attr]
        assert await store.delete_app(first.id)
        assert await other.get_app(first.id) is None
        await other.close()
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()
