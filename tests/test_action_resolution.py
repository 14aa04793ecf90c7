"""Unknown action outcomes resolved in the background, over the real database: one replica
checks a record at a time, a check that says nothing is tried again after each delay and the
outcome stays unknown after the last, a connector that cannot be asked ends it at once, an
applied action becomes succeeded and one not applied releases its key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import grpc
import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_core.resolution import applied, not_applied, undetermined
from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.actions.resolution import ActionResolver, checking, pending_message
from linkmesh_profile.actions.runner import ActionRunner
from linkmesh_profile.db.actions import ActionRecords
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.model.action import ActionRecord
from linkmesh_profile.model.app import App

DELAYS = (0.1, 0.1, 0.1)


@dataclass
class Vendor:
    """The connector's answers to ResolveAction, in turn (an exception is raised)."""

    answers: list[Any]
    asked: list[lookup_pb2.ResolveActionRequest] = field(default_factory=list)

    async def resolve_action(self, app: App, request: lookup_pb2.ResolveActionRequest, timeout: float | None = None) -> Any:
        self.asked.append(request)
        await asyncio.sleep(0.05)  # a real call takes a while: another replica may look meanwhile
        answer = self.answers[min(len(self.asked), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Apps:
    def __init__(self, vendor: Vendor) -> None:
        self.connectors = vendor

    async def require(self, app_id: str) -> App:
        return App(id=app_id, type="bigcommerce", name="Test shop")

    def context(self, app: App) -> lookup_pb2.AppContext:
        return lookup_pb2.AppContext(app_id=app.id)


class Recorder:
    def __init__(self) -> None:
        self.traces: list[dict[str, Any]] = []
        self.refreshed: list[str] = []

    async def record(self, **trace: Any) -> None:
        self.traces.append(trace)

    async def refresh_app(self, customer_id: str, app: App, *, force: bool = False) -> bool:
        self.refreshed.append(customer_id)
        return True


class Runner:
    def __init__(self, store: Store, vendor: Vendor) -> None:
        self.records = ActionRecords(store)
        self.apps = Apps(vendor)
        self.traces = self.refresher = Recorder()


def resolver_of(store: Store, vendor: Vendor) -> ActionResolver:
    """The resolver over a test double of the action runner (its records, apps, traces and refresher)."""
    return ActionResolver(cast("ActionRunner", Runner(store, vendor)), None, DELAYS)


async def record_of(store: Store, oid: Any) -> dict[str, Any]:
    doc = await store.db["actions"].find_one({"_id": oid})
    assert doc is not None
    return doc


@pytest.fixture()
async def store(mongo: MongoServer) -> AsyncIterator[Store]:
    db = f"resolve_{uuid.uuid4().hex[:8]}"
    store = Store(mongo.uri, db)
    await store.db["actions"].create_index([("customer_id", 1), ("idempotency_key", 1)], name="idempotency", unique=True)
    await store.db["actions"].create_index([("state", 1), ("resolution.status", 1), ("resolution.next_check_at", 1)], name="resolutions")
    try:
        yield store
    finally:
        await store.client.drop_database(db)
        await store.close()


async def unknown_action(store: Store, key: str = "k1") -> Any:
    at = now() - timedelta(seconds=1)
    doc = {
        "customer_id": "6b0000000000000000000001",
        "idempotency_key": key,
        "app_id": "6b0000000000000000000002",
        "app_type": "bigcommerce",
        "action": "refund",
        "order_id": "5001",
        "params": {"lines": "500102:1"},
        "state": "unknown",
        "external_customer_id": "101",
        "started_at": at,
        "finished_at": at,
        "error": {"code": "UNAVAILABLE", "message": "BigCommerce is unavailable: HTTP 502", "fields": {}},
        "resolution": {**checking(DELAYS, at), "next_check_at": at},
    }
    await store.db["actions"].insert_one(doc)
    return doc["_id"]


async def run_checks(*resolvers: ActionResolver, rounds: int = 1) -> None:
    for _ in range(rounds):
        await asyncio.gather(*(r.resolve_due() for r in resolvers))
        await asyncio.sleep(0.12)


async def test_two_replicas_check_one_record_once(store: Store) -> None:
    vendor = Vendor([applied("Refunded 14.50 USD on order 5001", {"refund_id": "7"})])
    ids = [await unknown_action(store, f"k{i}") for i in range(5)]
    one, other = resolver_of(store, vendor), resolver_of(store, vendor)
    await run_checks(one, other)
    assert len(vendor.asked) == 5, "each unknown action asked about once, by one replica"
    for oid in ids:
        doc = await record_of(store, oid)
        assert doc["state"] == "succeeded" and doc["resolution"]["vendor_record"] == {"refund_id": "7"}
    request = vendor.asked[0]
    assert request.action == "refund" and request.order_id == "5001" and request.external_customer_id == "101"
    assert request.idempotency_key.endswith(":k0") or request.idempotency_key.split(":")[-1].startswith("k")
    assert request.HasField("dispatched_at")


async def test_checks_that_say_nothing_end_unknown_after_the_last_delay(store: Store) -> None:
    vendor = Vendor([undetermined("2 refunds of order 5001 match the request"), ServiceError(grpc.StatusCode.UNAVAILABLE, "down")])
    oid = await unknown_action(store)
    resolver = resolver_of(store, vendor)
    await run_checks(resolver)
    doc = await record_of(store, oid)
    assert doc["resolution"]["status"] == "checking" and doc["resolution"]["attempts"] == 1
    message, wait = pending_message(ActionRecord.from_doc(doc), now())
    assert "check 2 of 3" in message and wait is not None
    await run_checks(resolver, rounds=4)
    doc = await record_of(store, oid)
    assert len(vendor.asked) == 3, "one check per delay, no more"
    assert doc["state"] == "unknown" and doc["resolution"]["status"] == "unknown"
    message, wait = pending_message(ActionRecord.from_doc(doc), now())
    assert "could not be determined after 3 checks" in message and wait is None


async def test_a_connector_that_cannot_be_asked_ends_it_at_once(store: Store) -> None:
    vendor = Vendor([ServiceError(grpc.StatusCode.UNIMPLEMENTED, "the lookup adaptor cannot be asked whether an action took effect")])
    oid = await unknown_action(store)
    await run_checks(resolver_of(store, vendor), rounds=3)
    doc = await record_of(store, oid)
    assert len(vendor.asked) == 1 and doc["resolution"]["status"] == "unknown"
    assert "cannot be asked" in doc["resolution"]["message"]


async def test_an_unimplemented_made_up_by_grpc_is_asked_again(store: Store) -> None:
    """An old connector (or a proxy) without the method: gRPC's own word ends nothing."""
    oid = await unknown_action(store)
    err = ServiceError(grpc.StatusCode.UNIMPLEMENTED, "the bigcommerce connector failed (UNIMPLEMENTED)", foreign=True)
    await run_checks(resolver_of(store, Vendor([err])))
    doc = await record_of(store, oid)
    assert doc["resolution"]["status"] == "checking" and doc["resolution"]["attempts"] == 1


async def test_not_applied_releases_the_key(store: Store) -> None:
    oid = await unknown_action(store)
    resolver = resolver_of(store, Vendor([not_applied("order 5001 has no refund of these lines made after the request was sent")]))
    await run_checks(resolver)
    doc = await record_of(store, oid)
    assert doc["state"] == "not_applied" and doc["released_key"] == "k1" and doc["idempotency_key"] != "k1"
    await store.db["actions"].insert_one({"customer_id": doc["customer_id"], "idempotency_key": "k1", "state": "running"})
    assert resolver.runner.refresher.refreshed == []  # type: ignore[attr-defined]
