"""A connector's batched lookups (``linkmesh_core.each``): each outcome sent the moment it is done,
in one message with those done at the same time, and no message past the size bound."""

from __future__ import annotations

import asyncio

import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import each
from linkmesh_core.each import answer_each


def search(app_id: str) -> lookup_pb2.SearchRequest:
    return lookup_pb2.SearchRequest(app=lookup_pb2.AppContext(app_id=app_id))


async def test_outcomes_done_together_share_a_message_and_a_slow_one_comes_after() -> None:
    release = asyncio.Event()

    async def one(request: lookup_pb2.SearchRequest) -> lookup_pb2.SearchResponse:
        if request.app.app_id == "slow":
            await release.wait()
        return lookup_pb2.SearchResponse(candidates=[lookup_pb2.CustomerSummary(external_id=request.app.app_id)])

    messages: list[list[int]] = []
    requests = [search("a"), search("slow"), search("b"), search("c")]
    async for together in answer_each(requests, one, lookup_pb2.SearchOutcome, lookup_pb2.SearchOutcomes, "searches"):
        messages.append([o.index for o in together.outcomes])
        release.set()
    assert messages == [[0, 2, 3], [1]], "the three quick ones in one message, the slow one sent after them"


async def test_no_message_grows_past_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    async def one(request: lookup_pb2.SearchRequest) -> lookup_pb2.SearchResponse:
        return lookup_pb2.SearchResponse(candidates=[lookup_pb2.CustomerSummary(external_id="x" * 600)])

    monkeypatch.setattr(each, "MESSAGE_BYTES", 1000)
    requests = [search(str(i)) for i in range(5)]
    sizes = [
        [o.index for o in together.outcomes]
        async for together in answer_each(requests, one, lookup_pb2.SearchOutcome, lookup_pb2.SearchOutcomes, "searches")
    ]
    assert sorted(i for message in sizes for i in message) == [0, 1, 2, 3, 4]
    assert all(len(message) == 1 for message in sizes), "two outcomes of 600 bytes would pass 1000: one a message"
