"""Every query the profile service runs is served by an index: on a real MongoDB (MONGODB_URI,
Docker, a ``mongod`` on PATH) each shape in ``linkmesh_profile.db.queries`` is explained on a seeded
database and no plan may scan a collection. The embedded server's explain does not describe
what it executes (it explains a scan for an ``_id`` lookup it runs from the index, and an index
for a hinted query it runs as a scan), so there ``tests/test_store_at_scale.py`` times each shape
instead. A second test makes sure no query bypasses that list."""

from __future__ import annotations

import ast
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import queries
from linkmesh_profile.db.store import Store, now

PROFILE_SRC = Path(queries.__file__).parents[1]
# Collection methods that take a filter as their first argument.
FILTERED = {
    "find",
    "find_one",
    "find_one_and_update",
    "find_one_and_delete",
    "find_one_and_replace",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
    "distinct",
    "aggregate",
    "watch",
}


def stages(plan: Any) -> list[str]:
    """Every stage name in an explain plan, whatever its nesting (classic or SBE)."""
    found = []
    if isinstance(plan, dict):
        if isinstance(plan.get("stage"), str):
            found.append(plan["stage"])
        for value in plan.values():
            found += stages(value)
    elif isinstance(plan, list):
        for item in plan:
            found += stages(item)
    return found


async def seed(store: Store, n: int = 500) -> None:
    """``n`` customers and traces, and 3/5 of ``n`` actions, audit entries and queue entries."""
    await store.ensure_indexes(trace_retention_s=3600)
    apps = [{"_id": ObjectId(), "type": "bigcommerce", "name": f"app {i}", "active": i % 2 == 0} for i in range(20)]
    await store.apps.insert_many(apps)
    await store.app_cache.count_change()
    recent = now()
    await store.customers.insert_many(
        [
            {
                "name": f"c{i}",
                "emails": [f"c{i}@example.com"] if i % 3 else [],
                "phones": [f"+1415555{i:04d}"] if i % 2 else [],
                "link_keys": [f"{apps[i % 20]['_id']}:{i}"] if i % 4 == 0 else [],
                "links": {},
                "name_keys": ["c", f"c{i}"[:2], f"c{i}"],
                "order_keys": [f"{1000 + i}\x1f{apps[i % 20]['_id']}"] if i % 4 == 0 else [],
                # contacted one a minute, the latest just now, as customers are over time
                "recent_key": f"{(recent - timedelta(minutes=i)).strftime('%Y-%m-%dT%H:%M:%S.%f')}|{i}",
            }
            for i in range(n)
        ]
    )
    stamp = now()
    await store.db[queries.ACTIONS].insert_many(
        [
            {
                "customer_id": str(ObjectId()),
                "idempotency_key": f"k{i}",
                "state": "running" if i % 5 == 0 else "succeeded",
                "lease": {"until": stamp + timedelta(seconds=i - 100), "by": "seed"},
            }
            for i in range(n * 3 // 5)
        ]
    )
    await store.db[queries.TRACES].insert_many(
        [
            {"app_id": str(apps[i % 20]["_id"]), "customer_id": str(ObjectId()), "kind": "search", "at": stamp - timedelta(seconds=i)}
            for i in range(n)
        ]
    )
    await store.db[queries.AUDIT].insert_many(
        [
            {
                "at": stamp,
                "actor": {"kind": "user", "id": f"u{i % 7}"},
                "action": "customer.link",
                "customer_id": str(ObjectId()),
                "app_id": str(apps[i % 20]["_id"]),
                "outcome": "OK",
            }
            for i in range(n * 3 // 5)
        ]
    )
    await store.db[queries.REFRESH_LEASES].insert_many(
        [
            {"_id": ObjectId(), "apps": {str(apps[i % 20]["_id"]): {"s0": {"until": stamp, "by": "seed"}}}, "expires_at": stamp}
            for i in range(n * 3 // 5)
        ]
    )
    await store.db[queries.API_KEYS].insert_many([{"name": f"k{i}", "revoked_at": None if i % 2 else stamp} for i in range(20)])
    await store.db[queries.QUEUE].insert_many(
        [
            {
                "customer_id": str(ObjectId()),
                "app_id": str(apps[i % 20]["_id"]),
                "not_before": stamp + timedelta(seconds=i - 50),
            }
            for i in range(n * 3 // 5)
        ]
    )


async def test_every_query_shape_is_served_by_an_index(mongo: MongoServer) -> None:
    store = Store(mongo.uri, f"plans_{uuid.uuid4().hex[:8]}")
    if "secantusVersion" in await store.client.admin.command("buildInfo"):
        await store.close()
        pytest.skip("the embedded server's explain does not describe what it executes: tests/test_store_at_scale.py times each shape")
    try:
        await seed(store)
        scans = {}
        assert len(queries.SHAPES) >= 20
        for name, example in sorted(queries.SHAPES.items()):
            query = example()
            command: dict[str, Any] = {"find": query.collection, "filter": query.filter}
            if query.sort:
                command["sort"] = dict(query.sort)
            if query.hint:
                command["hint"] = query.hint
            explained = await store.db.command("explain", command, verbosity="queryPlanner")
            plan = stages(explained.get("queryPlanner", explained))
            assert plan, f"{name}: no plan in {explained}"
            if "COLLSCAN" in plan:
                scans[name] = plan
        assert scans == {}, f"collection scans: {scans}"
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()


def test_no_query_bypasses_the_list_of_shapes() -> None:
    """Every filtered collection call in the profile service takes ``<Query>.filter``."""
    offenders = []
    for path in sorted(PROFILE_SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FILTERED):
                continue
            receiver = node.func.value
            built = isinstance(receiver, ast.Call) and ast.unparse(receiver.func).startswith("q.")
            if (
                built
                or (isinstance(receiver, ast.Name) and receiver.id in ("query", "self") and path.name == "queries.py")
                or (isinstance(receiver, ast.Name) and receiver.id == "query")
            ):
                continue  # a Query's own find(db): the Query is the shape
            first = node.args[0] if node.args else None
            from_shape = isinstance(first, ast.Attribute) and first.attr == "filter"
            if not from_shape:
                offenders.append(f"{path.relative_to(PROFILE_SRC)}:{node.lineno}: {ast.unparse(node)[:120]}")
    assert offenders == [], "queries that skip linkmesh_profile.db.queries:\n" + "\n".join(offenders)


@pytest.mark.parametrize("name", sorted(queries.SHAPES))
def test_each_shape_builds(name: str) -> None:
    query = queries.SHAPES[name]()
    assert query.collection in (
        queries.CUSTOMERS,
        queries.APPS,
        queries.ACTIONS,
        queries.TRACES,
        queries.QUEUE,
        queries.META,
        queries.API_KEYS,
        queries.AUDIT,
        queries.ALIASES,
        queries.INBOX,
        queries.REFRESH_LEASES,
    )
    assert "$or" not in query.filter and "$where" not in query.filter
