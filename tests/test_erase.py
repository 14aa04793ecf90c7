"""An erase that stopped in the middle (issue 35), on a real MongoDB: the erasure was recorded and
some collections done when the process died; asking again finishes it, counts what it did, and
answers as done; asking once more answers the same record."""

from __future__ import annotations

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.db import person
from linkmesh_profile.db.store import now
from linkmesh_profile.db.traces import TraceStore
from linkmesh_profile.privacy.people import People
from tests.profile_kit import profile_kit


async def test_an_erase_stopped_in_the_middle_is_finished_by_asking_again(mongo: MongoServer) -> None:
    async with profile_kit(mongo) as kit:
        jane = await kit.customer()
        await kit.links.link(jane.id, kit.app.id, "101")
        traces = TraceStore(kit.store, 3600, 100)
        await traces.record(
            app_id=kit.app.id, customer_id=jane.id, kind="fetch", request={}, response=None, code="OK", message="", latency_ms=1
        )
        await traces.settle()
        people = People(kit.store, traces)
        # The first run: recorded, the traces removed, then the process died before the profile.
        held = await person.documents_about(kit.store, jane.id)
        await person.begin_erasure(kit.store, jane.id, person.link_records(held["customers"]), now())
        assert await person.forget_traces(kit.store, kit.app.id, jane.id) == 1
        assert await kit.store.get_customer(jane.id) is not None

        finished = await people.erase(jane.id)
        assert finished.already is False and finished.removed["customers"] == 1
        assert await kit.store.get_customer(jane.id) is None
        again = await people.erase(jane.id)
        assert again.already is True and again.erased_at == finished.erased_at
        assert (await person.erasure_of(kit.store, jane.id) or {}).get("records") is None, "the vendor records go once it is done"
