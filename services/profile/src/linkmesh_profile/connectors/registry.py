"""The one connector client of the profile service: a long-lived channel per connector type, and
the Lookup contract's RPCs as typed methods (an app's go through its circuit breaker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

import grpc
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc

from linkmesh_core.channels import open_channel
from linkmesh_core.circuit import CircuitBreakers
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.request_context import time_left
from linkmesh_profile.connectors.batching import Batches

if TYPE_CHECKING:
    from linkmesh.lookup.v1.lookup_pb2_grpc import LookupServiceAsyncStub

    from linkmesh_profile.model.app import App

DESCRIBE_TTL_S = 60.0
FIELD_NAMES = {
    lookup_pb2.LookupField.LOOKUP_FIELD_EMAIL: "email",
    lookup_pb2.LookupField.LOOKUP_FIELD_PHONE: "phone",
    lookup_pb2.LookupField.LOOKUP_FIELD_ORDER_NUMBER: "order_number",
}


def field_names(fields: list[int]) -> set[str]:
    return {FIELD_NAMES[lookup_pb2.LookupField.ValueType(f)] for f in fields if f in FIELD_NAMES}


@dataclass
class Connector:
    type: str
    target: str
    channel: grpc.aio.Channel
    stub: LookupServiceAsyncStub


Resp = TypeVar("Resp")
# Picks one RPC of a connector's stub: ``lambda s: s.Search``.
Rpc: TypeAlias = "Callable[[LookupServiceAsyncStub], Callable[..., Awaitable[Resp]]]"


class ConnectorRegistry:
    def __init__(self, targets: dict[str, str], timeout: float, breakers: CircuitBreakers | None = None) -> None:
        self.timeout = timeout
        self.breakers = breakers or CircuitBreakers()
        self._connectors = {
            t: Connector(t, target, ch := open_channel(target), cast("LookupServiceAsyncStub", lookup_pb2_grpc.LookupServiceStub(ch)))
            for t, target in targets.items()
        }
        self._describe: dict[str, tuple[float, lookup_pb2.DescribeResponse]] = {}
        self._searches: Batches[lookup_pb2.SearchRequest, lookup_pb2.SearchResponse] = Batches(
            "search",
            lambda t, request, timeout: self._call(t, lambda s: s.Search, request, timeout),
            lambda t, requests, timeout: self._stream(t, lambda s: s.SearchEach, lookup_pb2.SearchEachRequest(searches=requests), timeout),
        )
        self._fetches: Batches[lookup_pb2.FetchRequest, lookup_pb2.FetchResponse] = Batches(
            "fetch",
            lambda t, request, timeout: self._call(t, lambda s: s.Fetch, request, timeout),
            lambda t, requests, timeout: self._stream(t, lambda s: s.FetchEach, lookup_pb2.FetchEachRequest(fetches=requests), timeout),
        )

    @property
    def types(self) -> list[str]:
        return sorted(self._connectors)

    def get(self, connector_type: str) -> Connector:
        connector = self._connectors.get(connector_type)
        if connector is None:
            raise invalid_argument(f"unknown connector type {connector_type!r}", {"type": f"must be one of: {', '.join(self.types)}"})
        return connector

    async def _call(self, connector_type: str, rpc: Rpc[Resp], request: object, timeout: float | None = None) -> Resp:
        """One connector RPC within the caller's own deadline; failures come back as ServiceError."""
        stub = self.get(connector_type).stub
        try:
            return await rpc(stub)(request, timeout=time_left(timeout or self.timeout))
        except grpc.aio.AioRpcError as err:
            raise ServiceError.from_rpc_error(err, f"the {connector_type} connector") from None

    async def _stream(
        self, connector_type: str, rpc: Callable[[LookupServiceAsyncStub], Callable[..., Any]], request: object, timeout: float
    ) -> AsyncIterator[Any]:
        """A connector's streamed answer (SearchEach, FetchEach) as it comes; its failure as ServiceError."""
        call = rpc(self.get(connector_type).stub)(request, timeout=time_left(timeout))
        try:
            async for outcome in call:
                yield outcome
        except grpc.aio.AioRpcError as err:
            raise ServiceError.from_rpc_error(err, f"the {connector_type} connector") from None
        finally:
            call.cancel()  # a no-op once it ended; else no one reads it any more

    async def _for_app(self, app: App, rpc: Rpc[Resp], request: object, timeout: float | None = None) -> Resp:
        return await self._through_breaker(app, lambda: self._call(app.type, rpc, request, timeout))

    async def _through_breaker(self, app: App, send: Callable[[], Awaitable[Resp]]) -> Resp:
        """On behalf of an app, through the app's circuit breaker: an app known to be down
        answers at once (UNAVAILABLE, NOT_SENT, with the time to the next try)."""
        breaker = self.breakers.get(app.id, app.name or app.id)
        breaker.before_call()
        try:
            answer = await send()
        except ServiceError as err:
            breaker.record(err)
            raise
        except asyncio.CancelledError:
            breaker.release()
            raise
        breaker.record(None)
        return answer

    # The contract's RPCs, typed: every caller in the profile service reaches a connector through these.

    async def validate_app(self, connector_type: str, request: lookup_pb2.ValidateAppRequest) -> lookup_pb2.ValidateAppResponse:
        return await self._call(connector_type, lambda s: s.ValidateApp, request)

    async def search(self, app: App, request: lookup_pb2.SearchRequest) -> lookup_pb2.SearchResponse:
        """Sent with the request's other searches that reach the same connector (``batching``)."""
        timeout = time_left(self.timeout)
        return await self._through_breaker(app, lambda: self._searches.lookup(app.type, request, timeout))

    async def fetch(self, app: App, request: lookup_pb2.FetchRequest) -> lookup_pb2.FetchResponse:
        """Sent with the request's other fetches that reach the same connector (``batching``)."""
        timeout = time_left(self.timeout)
        return await self._through_breaker(app, lambda: self._fetches.lookup(app.type, request, timeout))

    async def run_action(self, app: App, request: lookup_pb2.RunActionRequest, timeout: float) -> lookup_pb2.RunActionResponse:
        return await self._for_app(app, lambda s: s.RunAction, request, timeout)

    async def action_form(self, app: App, request: lookup_pb2.GetActionFormRequest) -> lookup_pb2.ActionForm:
        return await self._for_app(app, lambda s: s.GetActionForm, request)

    async def resolve_action(self, app: App, request: lookup_pb2.ResolveActionRequest, timeout: float) -> lookup_pb2.ResolveActionResponse:
        return await self._for_app(app, lambda s: s.ResolveAction, request, timeout)

    async def list_changes(self, app: App, request: lookup_pb2.ListChangesRequest) -> lookup_pb2.ListChangesResponse:
        return await self._for_app(app, lambda s: s.ListChanges, request)

    # An app's subscriptions are an admin's write, not a lookup: outside the app's circuit (a
    # connector that has none answers at once, and says nothing of the vendor's health).

    async def subscribe(self, app: App, request: lookup_pb2.SubscribeRequest) -> lookup_pb2.SubscribeResponse:
        return await self._call(app.type, lambda s: s.Subscribe, request)

    async def unsubscribe(self, app: App, request: lookup_pb2.UnsubscribeRequest) -> lookup_pb2.UnsubscribeResponse:
        return await self._call(app.type, lambda s: s.Unsubscribe, request)

    async def read_delivery(self, app: App, request: lookup_pb2.ReadDeliveryRequest) -> lookup_pb2.ReadDeliveryResponse:
        """No vendor call (the connector reads what was sent): not through the app's circuit."""
        return await self._call(app.type, lambda s: s.ReadDelivery, request)

    async def describe(self, connector_type: str, *, fresh: bool = False) -> lookup_pb2.DescribeResponse:
        cached = self._describe.get(connector_type)
        if cached and not fresh and time.monotonic() - cached[0] < DESCRIBE_TTL_S:
            return cached[1]
        answer = await self._call(connector_type, lambda s: s.Describe, lookup_pb2.DescribeRequest(), timeout=min(self.timeout, 3.0))
        self._describe[connector_type] = (time.monotonic(), answer)
        return answer

    async def describe_all(self) -> dict[str, lookup_pb2.DescribeResponse | ServiceError]:
        """Asks every connector now, so the answer says which ones are up."""

        async def one(t: str) -> lookup_pb2.DescribeResponse | ServiceError:
            try:
                return await self.describe(t, fresh=True)
            except ServiceError as err:
                return err

        answers = await asyncio.gather(*(one(t) for t in self.types))
        return dict(zip(self.types, answers, strict=True))

    async def close(self) -> None:
        await asyncio.gather(*(c.channel.close() for c in self._connectors.values()))
