"""Retention (issue 35) on a real MongoDB: the audit log's and the action records' TTL indexes
follow their settings (made, changed in place, dropped when kept forever); the sweeper removes
the data a deactivated app pulled once the app has been off long enough, and erases profiles no
one contacted for long enough, as an admin's erase does; its work is counted."""

from __future__ import annotations

import asyncio
import uuid

from linkmesh.profile.v1 import profile_pb2
from prometheus_client import REGISTRY

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db.store import Store
from linkmesh_profile.db.traces import TraceStore
from linkmesh_profile.privacy.people import People
from linkmesh_profile.privacy.retention import Policy, Retention
from tests.profile_kit import profile_kit


def removed(kind: str) -> float:
    return REGISTRY.get_sample_value("linkmesh_retention_removed_total", {"kind": kind}) or 0.0


async def test_the_audit_and_action_ttls_follow_their_settings(mongo: MongoServer) -> None:
    store = Store(mongo.uri, f"ttl_{uuid.uuid4().hex[:8]}")
    try:
        await store.ensure_indexes(audit_retention_s=3600, action_retention_s=7200)
        assert (await store.db["audit"].index_information())["ttl"]["expireAfterSeconds"] == 3600
        assert (await store.db["actions"].index_information())["ttl"]["key"] == [("started_at", 1)]
        await store.ensure_indexes(audit_retention_s=60, action_retention_s=7200)  # changed in place
        assert (await store.db["audit"].index_information())["ttl"]["expireAfterSeconds"] == 60
        await store.ensure_indexes(audit_retention_s=0, action_retention_s=0)  # kept forever: no TTL
        assert "ttl" not in await store.db["audit"].index_information()
        assert "ttl" not in await store.db["actions"].index_information()
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()


async def test_the_sweeper_removes_a_deactivated_apps_data_and_erases_idle_profiles(mongo: MongoServer) -> None:
    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        people = People(kit.store, TraceStore(kit.store, 3600, 100))
        off_a_while = Retention(kit.store, people, Policy(inactive_app_days=1e-7, idle_profile_months=0))
        assert await off_a_while.round() == {"inactive_app_links": 0, "idle_profiles": 0}, "the app is active: its data stays"
        await kit.refresher.apps.update(kit.app.id, profile_pb2.AppInput(active=False), ["active"])
        await asyncio.sleep(1.1)  # off longer than the setting (and this replica's copy of the apps)
        before = removed("inactive_app_links")
        assert (await off_a_while.round())["inactive_app_links"] == 1
        assert kit.app.id not in (await kit.read(jane)).links and removed("inactive_app_links") == before + 1

        idle = Retention(kit.store, people, Policy(inactive_app_days=0, idle_profile_months=1e-9))
        assert (await idle.round())["idle_profiles"] >= 1
        assert await kit.store.get_customer(jane.id) is None, "no contact for longer than the setting: erased"
        assert (await kit.store.db["meta"].find_one({"_id": f"erasure:{jane.id}"}) or {}).get("state") == "erased"
