"""An erase that stopped in the middle (issue 35), on a real MongoDB: the erasure was recorded and
some collections done when the process died; asking again finishes it, counts what it did, and
answers as done; asking once more answers the same record."""

from __future__ import annotations

import asyncio

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import person
from linkmesh_profile.db.refresh_leases import RefreshLeases
from linkmesh_profile.db.store import now
from linkmesh_profile.db.traces import FORGET_AGAIN_AFTER_S, TraceStore
from linkmesh_profile.privacy.people import People
from tests.profile_kit import JANE, profile_kit


async def test_an_erase_stopped_in_the_middle_is_finished_by_asking_again(mongo: MongoServer) -> None:
    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        assert await RefreshLeases(kit.store).take(jane.id, [kit.app.id], 600) is not None, "a refresh of her under way"
        traces = TraceStore(kit.store, 3600, 100)
        await traces.record(
            app_id=kit.app.id, customer_id=jane.id, kind="fetch", request={}, response=None, code="OK", message="", latency_ms=1
        )
        await traces.settle()
        people = People(kit.store, traces)
        # The first run: recorded, the traces removed, then the process died before the profile.
        held = await person.documents_about(kit.store, jane.id)
        await person.begin_erasure(kit.store, jane.id, held.records, now())
        assert await traces.forget(person.traces_of_app(kit.app.id, jane.id)) == 1
        assert await kit.store.get_customer(jane.id) is not None

        finished = await people.erase(jane.id)
        assert finished.already is False and finished.removed["customers"] == 1
        assert finished.removed["refresh_leases"] == 1 and await kit.store.db["refresh_leases"].count_documents({}) == 0
        assert await kit.store.db["lookup_traces"].count_documents({"request.emails": JANE}) == 0, "the served lookup of her went too"
        assert await kit.store.get_customer(jane.id) is None
        again = await people.erase(jane.id)
        assert again.already is True and again.erased_at == finished.erased_at
        record = await person.erasure_of(kit.store, jane.id)
        assert record is not None and record.done and record.records == (), "the vendor records go once it is done"


async def test_a_vendors_requests_are_carried_out_by_the_same_machinery(mongo: MongoServer) -> None:
    """data_request: an audit entry pointing admins at the export; redact_shop: every customer the
    app links loses what it pulled, and the app's traces go; both audited as the vendor's doing."""
    from datetime import UTC, datetime

    from bson import ObjectId

    from linkmesh_profile.admin.audit import AuditLog
    from linkmesh_profile.db.inbox import Event
    from linkmesh_profile.privacy.vendor_requests import VendorRequests

    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        traces = TraceStore(kit.store, 3600, 100)
        await traces.record(
            app_id=kit.app.id, customer_id=jane.id, kind="fetch", request={}, response=None, code="OK", message="", latency_ms=1
        )
        await traces.settle()
        requests = VendorRequests(kit.store, AuditLog(kit.store), traces)

        def event(request: str, external: str = "") -> Event:
            return Event(ObjectId(), kit.app.id, request, "t", "privacy", None, external, "", datetime.now(UTC), privacy_request=request)

        said = await requests.carry_out(event("data_request", "101"))
        assert "audit log" in said
        entry = await kit.store.db["audit"].find_one({"action": "privacy.data_request"})
        assert entry is not None and entry["customer_id"] == jane.id and entry["details"]["export"].endswith(f"{jane.id}/export")
        assert entry["actor"]["kind"] == "service"
        assert "nothing held" in await requests.carry_out(event("data_request", "999999"))
        said = await requests.carry_out(event("redact_shop"))
        assert said == "forgot what was pulled from the app for 1 customers"
        assert kit.app.id not in (await kit.read(jane)).links
        assert await kit.store.db["lookup_traces"].count_documents({"app_id": kit.app.id}) == 0


async def test_a_persons_traces_still_queued_when_they_are_forgotten_go_too(mongo: MongoServer) -> None:
    """Lookups are traced a moment later (``TraceStore``'s queue). Shopify's customers/redact came
    while the contact's lookups of her were queued: the forget ran first, the queue was written
    after, and her traces stayed (a CI run of tests/e2e/test_privacy.py). This replica's queue is
    written before the forget; another replica's lands before the forget is repeated."""
    from datetime import UTC, datetime

    from bson import ObjectId

    from linkmesh_profile.admin.audit import AuditLog
    from linkmesh_profile.db.inbox import Event
    from linkmesh_profile.privacy.vendor_requests import VendorRequests

    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        here, there = TraceStore(kit.store, 3600, 100, flush_s=0.2), TraceStore(kit.store, 3600, 100, flush_s=0.2)
        for replica in (here, there):
            await replica.record(
                app_id=kit.app.id, customer_id=jane.id, kind="fetch", request={}, response=None, code="OK", message="", latency_ms=1
            )
        requests = VendorRequests(kit.store, AuditLog(kit.store), here)
        redact = Event(
            ObjectId(),
            kit.app.id,
            "r",
            "customers/redact",
            "privacy",
            None,
            "101",
            "",
            datetime.now(UTC),
            privacy_request="redact_customer",
        )
        assert await requests.carry_out(redact) == "forgot what was pulled from the app for the customer"
        await there.settle()  # the other replica's queue lands after the forget
        await asyncio.sleep(0.2 + FORGET_AGAIN_AFTER_S + 0.3)
        assert await kit.store.db["lookup_traces"].count_documents({"customer_id": jane.id}) == 0
