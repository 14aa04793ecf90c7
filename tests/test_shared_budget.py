"""Vendor budgets shared by every replica (linkmesh_core.budget) over the real MongoDB.

Two ``SharedBudget`` objects are two replicas: each its own MongoDB client, one
document per bucket between them. The tests read what the budgets grant (the
wait before each turn), not the wall clock, so they do not depend on how fast
the machine is."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest
from pymongo import MongoClient, monitoring

from linkmesh_core.budget import COLLECTION, Budget, LocalBudget, share_of
from linkmesh_core.errors import ServiceError
from linkmesh_core.shared_budget import SharedBudget, vendor_budget
from linkmesh_devstack.mongo import MongoServer

WINDOWS = [(2, 1.0), (120, 60.0)]


@asynccontextmanager
async def replicas(uri: str, n: int = 2, windows: list[tuple[int, float]] = WINDOWS, **kw: object) -> AsyncIterator[list[SharedBudget]]:
    # The sharing is under test, not the fallback: a database slow to answer a new client's
    # first command on a busy machine (over the default 0.5 s) would send that turn to the
    # replica's own share and leave the shared arithmetic one turn short. The fallback's
    # tests pass their own timeouts.
    kw.setdefault("op_timeout_s", 10.0)
    budgets = [SharedBudget("Vendor", windows, uri, database="budget_tests", margin=0.0, **kw) for _ in range(n)]  # type: ignore[arg-type]
    for b in budgets:
        await b.start()
    try:
        yield budgets
    finally:
        for b in budgets:
            await b.close()


@pytest.fixture()
def fresh(mongo: MongoServer) -> str:
    client: MongoClient = MongoClient(mongo.uri)
    client["budget_tests"][COLLECTION].delete_many({})
    client.close()
    return mongo.uri


def starts(waits: list[float]) -> list[float]:
    return sorted(round(w, 1) for w in waits)


async def test_two_replicas_share_one_keys_windows(fresh: str) -> None:
    """Six turns asked at once, three on each replica, of a 2-per-second key: two now, two a
    second later, two a second after that, whichever replica asked."""
    async with replicas(fresh) as (a, b):
        grants = await asyncio.gather(*(r.reserve("key-1", 10.0) for r in (a, b, a, b, a, b)))
        assert all(g.shared for g in grants)
        waits = starts([g.wait for g in grants])
        assert waits[:2] == [0.0, 0.0] and 0.9 <= waits[2] <= waits[3] <= 1.1 and 1.9 <= waits[4] <= waits[5] <= 2.1, waits
        other = await a.reserve("key-2", 10.0)
        assert other.wait == 0.0, "another key has its own budget"


async def test_a_turn_beyond_the_deadline_is_refused_at_once_and_not_taken(fresh: str) -> None:
    async with replicas(fresh) as (a, b):
        await a.reserve("k", 5.0)
        await b.reserve("k", 5.0)
        with pytest.raises(ServiceError) as info:
            await a.reserve("k", 0.5)
        assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and 0.8 <= (info.value.retry_after or 0) <= 1.1
        later = await b.reserve("k", 5.0)
        assert 0.8 <= later.wait <= 1.1, "the refused turn took no slot"


async def test_the_minute_window_holds_across_replicas(fresh: str) -> None:
    async with replicas(fresh, windows=[(100, 1.0), (5, 60.0)]) as (a, b):
        grants = [await (a if i % 2 else b).reserve("k", 120.0) for i in range(6)]
        assert all(g.shared for g in grants), grants
        assert [round(g.wait) for g in grants[:5]] == [0] * 5
        assert 59 <= grants[5].wait <= 61


async def test_a_block_set_by_one_replica_holds_the_other(fresh: str) -> None:
    """BigCommerce: the store says none is left until the window resets; every replica waits
    (one that read the budget clear within ``clear_for_s`` learns of it that much later)."""
    async with replicas(fresh, windows=[], clear_for_s=0.1) as (a, b):
        assert (await b.reserve("store", 5.0)).wait == 0.0
        reads: list[str] = []
        real = type(b)._collection

        def counted(self: SharedBudget) -> object:
            reads.append(self.vendor)
            return real.fget(self)  # type: ignore[attr-defined]

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(b), "_collection", property(counted))
            assert (await b.reserve("store", 5.0)).wait == 0.0
        assert reads == [], "read as clear a moment ago: the turn asks the database nothing"
        assert (await a.reserve("store", 5.0)).wait == 0.0
        await a.block("store", 3.0)
        await asyncio.sleep(b.clear_for_s)
        held = await b.reserve("store", 5.0)
        assert held.shared and 2.5 <= held.wait <= 3.05, held
        with pytest.raises(ServiceError) as info:
            await b.reserve("store", 1.0)
        assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        mine = (await a.reserve("store", 5.0)).wait
        assert 2.5 <= mine <= 3.05, "the replica that blocked reads its own block at once"


async def test_completed_moves_the_turn_to_the_answer(fresh: str) -> None:
    async with replicas(fresh, windows=[(1, 1.0)]) as (a, b):
        first = await a.reserve("k", 5.0)
        await asyncio.sleep(0.5)  # the request took half a second to answer
        await a.completed(first)
        second = await b.reserve("k", 5.0)
        assert 0.9 <= second.wait <= 1.1, "counted from the answer, a second after it"


async def test_an_answer_within_the_margin_keeps_its_turn_and_costs_no_second_write(mongo: MongoServer) -> None:
    """Windows are widened by a margin for the time a request takes to arrive: an answer back
    within it leaves the turn where it was, and the budget sends no second command."""
    commands = Commands()
    monitoring.register(commands)  # seen by the clients created after this
    budgets = [SharedBudget("Vendor", [(1, 1.0)], mongo.uri, database="budget_tests", margin=0.2, op_timeout_s=10.0) for _ in range(2)]
    for b in budgets:
        await b.start()
    try:
        a, b = budgets
        first = await a.reserve("margin", 5.0)
        before = list(commands.names)
        await a.completed(first)
        assert commands.names == before, "no command for an answer within the margin"
        second = await b.reserve("margin", 5.0)
        assert 1.1 <= second.wait <= 1.21, f"{second.wait}: counted from the turn, widened by the margin"
        slow = await a.reserve("slow", 5.0)
        await asyncio.sleep(0.3)
        await a.completed(slow)
        assert commands.names[-1] == "update", "a slower answer moves its turn"
    finally:
        for x in budgets:
            await x.close()


async def test_turns_that_come_together_share_one_read_of_the_block(mongo: MongoServer) -> None:
    """A budget without windows reads the block once and takes it as clear for ``clear_for_s``;
    turns that come while that read is under way wait for it rather than read again (at 50
    concurrent searches every expiry sent a read per turn, 12% of BigCommerce's connector)."""
    commands = Commands()
    monitoring.register(commands)  # seen by the clients created after this
    budget = SharedBudget("Vendor", [], mongo.uri, database="budget_tests", margin=0.0, op_timeout_s=10.0)
    await budget.start()
    try:
        grants = await asyncio.gather(*(budget.reserve("together", 5.0) for _ in range(20)))
        assert [g.wait for g in grants] == [0.0] * 20
        assert commands.names.count("aggregate") == 1, commands.names
    finally:
        await budget.close()


async def test_a_read_that_a_block_overlapped_marks_nothing_clear(mongo: MongoServer) -> None:
    """A turn whose read of the block went out before this replica wrote a block may see the
    bucket clear; it must not mark it clear for the turns after, which would go through the
    block the vendor just asked for (429) for ``clear_for_s``."""
    budget = SharedBudget("Vendor", [], mongo.uri, database="budget_tests", margin=0.0, op_timeout_s=10.0, clear_for_s=30.0)
    await budget.start()
    try:
        turn = asyncio.ensure_future(budget.reserve("overlapped", 5.0))
        await budget.block("overlapped", 2.0)
        await turn  # it may go first: its read may predate the block
        later = await budget.reserve("overlapped", 5.0)
        assert later.wait > 1.0, later
    finally:
        await budget.close()


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("update", "findAndModify", "aggregate", "insert"):
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_without_the_database_each_replica_keeps_to_its_share() -> None:
    """MongoDB unreachable: fail safe, never open. Two replicas of a 2/s key each take one per
    second, so together they still never exceed the key's budget."""
    uri = f"mongodb://127.0.0.1:{closed_port()}/?directConnection=true"
    async with replicas(uri, replicas=2, op_timeout_s=0.2) as (a, _):
        first = await a.reserve("k", 5.0)
        assert not first.shared and first.wait == 0.0
        second = await a.reserve("k", 5.0)
        assert not second.shared and 0.9 <= second.wait <= 1.1, "this replica's share: 1 per second"
        with pytest.raises(ServiceError) as info:
            await a.reserve("k", 0.5)
        assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_the_shared_budget_comes_back_with_the_database(fresh: str) -> None:
    async with replicas(fresh, n=1, replicas=2, retry_shared_s=0.2, op_timeout_s=0.3) as (a,):
        a._failed(__import__("pymongo").errors.AutoReconnect("down"))  # as when the database went away
        assert not (await a.reserve("k", 5.0)).shared
        await asyncio.sleep(0.25)
        assert (await a.reserve("k", 5.0)).shared


def test_shares_never_add_up_to_more_than_the_budget() -> None:
    assert share_of([(2, 1.0), (120, 60.0)], 2) == [(1, 1.0), (60, 60.0)]
    assert share_of([(2, 1.0)], 3) == [(1, 1.5)]
    assert share_of([(150, 30.0)], 4) == [(37, 30.0)]
    assert share_of([(2, 1.0)], 1) == [(2, 1.0)]


def test_a_connector_without_a_database_keeps_its_share_when_it_has_replicas() -> None:
    alone: Budget = vendor_budget("Vendor", WINDOWS)
    assert isinstance(alone, LocalBudget) and alone.windows == WINDOWS
    two = vendor_budget("Vendor", WINDOWS, replicas=2)
    assert isinstance(two, LocalBudget) and two.windows == [(1, 1.0), (60, 60.0)]
    assert isinstance(vendor_budget("Vendor", WINDOWS, mongodb_uri="mongodb://db:27017"), SharedBudget)
