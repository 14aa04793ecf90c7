"""The profile's searches (and fetches) of one request that reach one connector go as one
SearchEach (FetchEach) call; each caller still gets its own answer or failure, as soon as the
connector sends it (``linkmesh_profile.connectors.batching``). The connector's end is tests/test_sdk.py's; the
whole mesh's, tests/e2e/test_mesh.py's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import structlog
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc

from linkmesh_core.errors import NOT_SENT, ServiceError, invalid_argument, unavailable
from linkmesh_core.metrics import RPC_REQUESTS
from linkmesh_core.request_context import RequestContextInterceptor
from linkmesh_profile.connectors import batching
from linkmesh_profile.connectors.batching import Batches
from linkmesh_profile.connectors.registry import ConnectorRegistry
from linkmesh_profile.model.app import App
from linkmesh_sandboxes.bigcommerce import data
from tests.inprocess import bigcommerce_app, bigcommerce_sandbox, bigcommerce_target


def search(app_id: str) -> lookup_pb2.SearchRequest:
    return lookup_pb2.SearchRequest(app=lookup_pb2.AppContext(app_id=app_id), emails=[f"{app_id}@example.com"])


def found(app_id: str) -> lookup_pb2.SearchResponse:
    return lookup_pb2.SearchResponse(candidates=[lookup_pb2.CustomerSummary(external_id=f"in-{app_id}")])


def one_outcome(outcome: lookup_pb2.SearchOutcome) -> lookup_pb2.SearchOutcomes:
    return lookup_pb2.SearchOutcomes(outcomes=[outcome])


@dataclass
class Connector:
    """Answers each search with a candidate named after its app, in the order ``order`` says;
    ``hold``: indexes answered only once ``release`` is set; ``errors``: in-band failures."""

    order: list[int] | None = None
    hold: set[int] = field(default_factory=set)
    errors: dict[int, ServiceError] = field(default_factory=dict)
    fail_after: int | None = None  # the call itself fails after this many outcomes
    fail_with: ServiceError | None = None
    unimplemented: bool = False
    broken: bool = False
    skip: set[int] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    ones: list[str] = field(default_factory=list)
    eaches: list[list[str]] = field(default_factory=list)
    cancelled: list[bool] = field(default_factory=list)

    async def one(self, connector_type: str, request: lookup_pb2.SearchRequest, timeout: float) -> lookup_pb2.SearchResponse:
        self.ones.append(request.app.app_id)
        await asyncio.sleep(0)
        return found(request.app.app_id)

    async def each(
        self, connector_type: str, searches: list[lookup_pb2.SearchRequest], timeout: float
    ) -> AsyncIterator[lookup_pb2.SearchOutcomes]:
        request = lookup_pb2.SearchEachRequest(searches=searches)
        self.eaches.append([s.app.app_id for s in request.searches])
        if self.broken:
            raise RuntimeError("a bug in the sending")
        try:
            if self.unimplemented:
                raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, "takes each search alone")
            for sent, i in enumerate(self.order or range(len(request.searches))):
                if sent == self.fail_after:
                    raise self.fail_with or unavailable("the connector went away")
                if i in self.skip:
                    continue
                if i in self.hold:
                    await self.release.wait()
                await asyncio.sleep(0)
                if i in self.errors:
                    yield one_outcome(lookup_pb2.SearchOutcome(index=i, error=self.errors[i].to_rpc_status()))
                else:
                    yield one_outcome(lookup_pb2.SearchOutcome(index=i, answer=found(request.searches[i].app.app_id)))
        except asyncio.CancelledError:
            self.cancelled.append(True)
            raise


def batches_of(connector: Connector) -> Batches[lookup_pb2.SearchRequest, lookup_pb2.SearchResponse]:
    return Batches("search", connector.one, connector.each)


async def in_request(request_id: str | None, *calls: Any) -> list[Any]:
    """``calls`` started together, as one request's fan-out starts them."""
    structlog.contextvars.clear_contextvars()
    if request_id:
        structlog.contextvars.bind_contextvars(request_id=request_id)
    return await asyncio.gather(*calls, return_exceptions=True)


async def test_one_requests_searches_of_one_connector_go_in_one_call_and_each_gets_its_own_answer() -> None:
    connector = Connector(order=[2, 0, 1])
    batches = batches_of(connector)
    answers = await in_request("r1", *(batches.lookup("bigcommerce", search(a), 5.0) for a in ("a", "b", "c")))
    assert answers == [found("a"), found("b"), found("c")]
    assert connector.eaches == [["a", "b", "c"]] and connector.ones == []


async def test_a_search_alone_a_search_of_no_request_and_other_requests_searches_go_on_their_own() -> None:
    connector = Connector()
    batches = batches_of(connector)
    assert await in_request("r1", batches.lookup("bigcommerce", search("a"), 5.0)) == [found("a")]
    assert connector.ones == ["a"] and connector.eaches == []
    await in_request(None, batches.lookup("bigcommerce", search("b"), 5.0), batches.lookup("bigcommerce", search("c"), 5.0))
    assert connector.ones == ["a", "b", "c"] and connector.eaches == [], "no request to belong to: each alone"

    async def under(request_id: str, app_id: str) -> lookup_pb2.SearchResponse:
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return await batches.lookup("bigcommerce", search(app_id), 5.0)

    await asyncio.gather(under("r2", "d"), under("r3", "e"), under("r2", "f"))
    assert connector.eaches == [["d", "f"]] and connector.ones[-1] == "e", "two requests' searches never share a call"
    await in_request("r4", batches.lookup("bigcommerce", search("g"), 5.0), batches.lookup("magento", search("h"), 5.0))
    assert connector.ones[-2:] == ["g", "h"], "nor two connectors"


async def test_a_slow_search_holds_back_no_other() -> None:
    connector = Connector(order=[1, 0], hold={0})  # the fast one sent first, the stream still open
    batches = batches_of(connector)
    structlog.contextvars.bind_contextvars(request_id="r1")
    slow = asyncio.ensure_future(batches.lookup("bigcommerce", search("slow"), 5.0))
    fast = asyncio.ensure_future(batches.lookup("bigcommerce", search("fast"), 5.0))
    assert await asyncio.wait_for(fast, 1.0) == found("fast")
    assert not slow.done()
    connector.release.set()
    assert await slow == found("slow")
    assert connector.eaches == [["slow", "fast"]]


async def test_each_failure_is_its_callers_own() -> None:
    refused = ServiceError(grpc.StatusCode.UNAUTHENTICATED, "the store refused the token", outcome=NOT_SENT, retry_after=2.5)
    bad = invalid_argument("the app's settings are invalid", {"store_hash": "is required"})
    connector = Connector(errors={0: refused, 2: bad})
    batches = batches_of(connector)
    answers = await in_request("r1", *(batches.lookup("bigcommerce", search(a), 5.0) for a in ("a", "b", "c")))
    first, second, third = answers
    assert isinstance(first, ServiceError) and isinstance(third, ServiceError) and second == found("b")
    assert (first.code, first.message, first.outcome, first.retry_after) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "the store refused the token",
        NOT_SENT,
        2.5,
    )
    assert (third.code, third.fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"store_hash": "is required"})


async def test_a_call_that_fails_fails_those_still_waiting_each_with_its_own_copy() -> None:
    connector = Connector(fail_after=1)
    batches = batches_of(connector)
    answers = await in_request("r1", *(batches.lookup("bigcommerce", search(a), 5.0) for a in ("a", "b", "c")))
    assert answers[0] == found("a"), "what came before the failure stands"
    second, third = answers[1:]
    assert isinstance(second, ServiceError) and isinstance(third, ServiceError)
    assert second.code == third.code == grpc.StatusCode.UNAVAILABLE and second is not third
    second.app_id, second.fields["x"] = "b", "marked"
    assert third.app_id == "" and third.fields == {}, "each caller marks its own"


async def test_a_connector_without_search_each_gets_each_search_alone_and_is_asked_again_later() -> None:
    connector = Connector(unimplemented=True)
    batches = batches_of(connector)
    answers = await in_request("r1", *(batches.lookup("custom", search(a), 5.0) for a in ("a", "b")))
    assert answers == [found("a"), found("b")] and connector.ones == ["a", "b"] and len(connector.eaches) == 1
    await in_request("r2", *(batches.lookup("custom", search(a), 5.0) for a in ("c", "d")))
    assert len(connector.eaches) == 1 and connector.ones[2:] == ["c", "d"], "not asked again at once"
    batches._unbatched["custom"] -= batching.RETRY_BATCHING_S + 1
    connector.unimplemented = False
    assert await in_request("r3", *(batches.lookup("custom", search(a), 5.0) for a in ("e", "f"))) == [found("e"), found("f")]
    assert connector.eaches[-1] == ["e", "f"], "an upgraded connector is batched again"


async def test_a_call_that_breaks_in_an_unforeseen_way_leaves_no_caller_waiting() -> None:
    connector = Connector(broken=True)
    batches = batches_of(connector)
    calls = (batches.lookup("bigcommerce", search(a), 5.0) for a in ("a", "b"))
    answers = await asyncio.wait_for(in_request("r1", *calls), 2.0)
    assert [type(a) for a in answers] == [RuntimeError, RuntimeError]


async def test_a_search_the_answer_left_out_is_unknown_not_lost() -> None:
    connector = Connector(skip={1})
    batches = batches_of(connector)
    answers = await in_request("r1", *(batches.lookup("bigcommerce", search(a), 5.0) for a in ("a", "b")))
    assert answers[0] == found("a")
    assert isinstance(answers[1], ServiceError) and answers[1].code == grpc.StatusCode.UNKNOWN
    assert "without this search's outcome" in answers[1].message


async def test_a_caller_may_give_up_alone_and_the_call_ends_when_none_waits() -> None:
    connector = Connector(hold={0, 1})
    batches = batches_of(connector)
    structlog.contextvars.bind_contextvars(request_id="r1")
    first = asyncio.ensure_future(batches.lookup("bigcommerce", search("a"), 5.0))
    second = asyncio.ensure_future(batches.lookup("bigcommerce", search("b"), 5.0))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0.01)
    assert connector.cancelled == [], "the other still waits"
    connector.release.set()
    assert await second == found("b")
    with pytest.raises(asyncio.CancelledError):
        await first

    connector = Connector(hold={0, 1})
    batches = batches_of(connector)
    calls = [asyncio.ensure_future(batches.lookup("bigcommerce", search(a), 5.0)) for a in ("c", "d")]
    await asyncio.sleep(0.01)
    for call in calls:
        call.cancel()
    await asyncio.sleep(0.01)
    assert connector.cancelled == [True], "no one waits: the call is cancelled"


class SearchOnly(lookup_pb2_grpc.LookupServiceServicer):
    """A connector written against the contract's generated base alone (another team's, an older
    SDK's): it serves Search and nothing of SearchEach."""

    def __init__(self) -> None:
        self.searched: list[str] = []

    async def Search(self, request: lookup_pb2.SearchRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.SearchResponse:
        self.searched.append(request.app.app_id)
        return found(request.app.app_id)


@pytest.mark.parametrize("interceptors", [[], [RequestContextInterceptor()]], ids=["bare", "linkmesh's interceptor"])
async def test_over_grpc_a_connector_without_search_each_answers_every_search(interceptors: list[grpc.aio.ServerInterceptor]) -> None:
    servicer = SearchOnly()  # type: ignore[abstract]  # what it leaves out is the point
    server = grpc.aio.server(interceptors=interceptors)
    lookup_pb2_grpc.add_LookupServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    registry = ConnectorRegistry({"custom": f"127.0.0.1:{port}"}, timeout=5.0)
    apps = [App(id=a, type="custom", name=a) for a in ("a", "b", "c")]
    try:
        answers = await in_request("r1", *(registry.search(app, search(app.id)) for app in apps))
        assert answers == [found("a"), found("b"), found("c")]
        assert sorted(servicer.searched) == ["a", "b", "c"]
    finally:
        await registry.close()
        await server.stop(0)


def served(rpc: str) -> float:
    """How many calls of ``rpc`` the in-process connectors (tests.inprocess) answered OK so far."""
    return float(RPC_REQUESTS.labels("", f"/linkmesh.lookup.v1.LookupService/{rpc}", "OK")._value.get())


async def test_over_grpc_an_sdk_connector_answers_one_requests_searches_in_one_call() -> None:
    """The profile's registry and the SDK's servicer, both real, over a real channel."""

    def asked(app_id: str, token: str = data.ACCESS_TOKEN) -> tuple[App, lookup_pb2.SearchRequest]:
        context = bigcommerce_app(sandbox.url, token)
        context.app_id = app_id
        return App(id=app_id, type="bigcommerce", name=app_id), lookup_pb2.SearchRequest(app=context, emails=["jane.smith@example.com"])

    before = served("SearchEach"), served("Search")
    async with bigcommerce_sandbox() as sandbox, bigcommerce_target() as target:
        registry = ConnectorRegistry({"bigcommerce": target}, timeout=5.0)
        try:
            answers = await in_request(
                "r1", *(registry.search(*asked(a)) for a in ("first", "second")), registry.search(*asked("refused", "no"))
            )
        finally:
            await registry.close()
        searches = [r for r in sandbox.requests if r["path"].endswith("/customers")]
    assert [c.external_id for c in answers[0].candidates] == ["101"] and answers[1] == answers[0]
    assert isinstance(answers[2], ServiceError) and answers[2].code == grpc.StatusCode.UNAUTHENTICATED
    assert answers[2].outcome == NOT_SENT, "a search only reads: the vendor did nothing"
    assert len(searches) == 3, searches
    assert (served("SearchEach") - before[0], served("Search") - before[1]) == (1, 0), "one call for the three"


async def test_over_grpc_one_requests_fetches_of_one_connector_go_in_one_call_too() -> None:
    """A refresh of a customer linked to several stores of one vendor: one FetchEach."""

    def asked(app_id: str, external_id: str) -> tuple[App, lookup_pb2.FetchRequest]:
        context = bigcommerce_app(sandbox.url)
        context.app_id = app_id
        return App(id=app_id, type="bigcommerce", name=app_id), lookup_pb2.FetchRequest(app=context, external_id=external_id)

    before = served("FetchEach"), served("Fetch")
    async with bigcommerce_sandbox() as sandbox, bigcommerce_target() as target:
        registry = ConnectorRegistry({"bigcommerce": target}, timeout=5.0)
        try:
            asks = (asked("first", "101"), asked("second", "102"), asked("third", "999"))
            answers = await in_request("r1", *(registry.fetch(app, request) for app, request in asks))
        finally:
            await registry.close()
    assert [a.customer.external_id for a in answers[:2]] == ["101", "102"]
    assert answers[0].customer.orders, "the customer whole: orders and all"
    assert isinstance(answers[2], ServiceError) and answers[2].code == grpc.StatusCode.NOT_FOUND and "999" in answers[2].message
    assert (served("FetchEach") - before[0], served("Fetch") - before[1]) == (1, 0), "one call for the three"
