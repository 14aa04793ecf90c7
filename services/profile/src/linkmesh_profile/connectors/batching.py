"""The searches of one request that reach the same connector, sent in one call (SearchEach).

A search of every unlinked app reaches one connector once per app of its type (several stores
of one vendor, several custom adaptors): each a gRPC exchange of its own, most of a hop's CPU.
The searches one request starts together (in the same turn of the event loop) are sent as one
``SearchEach`` instead; each caller still gets its own answer or its own failure, as its own
``Search`` would have answered it, the moment the connector sends it (a slow store holds back no
other), and may give up on it alone (the call goes on for the others, and is cancelled once none
waits). A search alone, or with no request to belong to, goes as a
``Search``. A connector that answers ``SearchEach`` with UNIMPLEMENTED (one built without it) gets
each as a ``Search`` (nothing was searched), and is asked again after ``RETRY_BATCHING_S``.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_core.request_context import current_request_id

RETRY_BATCHING_S = 300.0

SendOne = Callable[[str, lookup_pb2.SearchRequest, float], Awaitable[lookup_pb2.SearchResponse]]
# A connector type's SearchEach: its outcomes as they come, within a timeout; a failure raised as ServiceError.
SendEach = Callable[[str, lookup_pb2.SearchEachRequest, float], AsyncIterator[lookup_pb2.SearchOutcome]]


@dataclass
class _Waiting:
    request: lookup_pb2.SearchRequest
    timeout: float
    answer: asyncio.Future[lookup_pb2.SearchResponse]


@dataclass
class _Batch:
    connector_type: str
    waiting: list[_Waiting] = field(default_factory=list)


class SearchBatches:
    """``send_one`` and ``send_each``: a connector type's Search and SearchEach, within a timeout;
    their failures raised as ``ServiceError``."""

    def __init__(self, send_one: SendOne, send_each: SendEach) -> None:
        self._send_one = send_one
        self._send_each = send_each
        self._open: dict[tuple[str, str], _Batch] = {}
        self._unbatched: dict[str, float] = {}  # connector type -> when it said UNIMPLEMENTED
        self._sending: set[asyncio.Task[None]] = set()

    async def search(self, connector_type: str, request: lookup_pb2.SearchRequest, timeout: float) -> lookup_pb2.SearchResponse:
        request_id = current_request_id()
        if not request_id or not self._batches(connector_type):
            return await self._send_one(connector_type, request, timeout)
        loop = asyncio.get_running_loop()
        key = (connector_type, request_id)
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = _Batch(connector_type)
            # After the searches started with this one have joined it; in this request's context.
            loop.call_soon(self._close, key, batch, context=contextvars.copy_context())
        waiting = _Waiting(request, timeout, loop.create_future())
        batch.waiting.append(waiting)
        return await waiting.answer

    def _batches(self, connector_type: str) -> bool:
        since = self._unbatched.get(connector_type)
        return since is None or time.monotonic() - since > RETRY_BATCHING_S

    def _close(self, key: tuple[str, str], batch: _Batch) -> None:
        if self._open.get(key) is batch:
            del self._open[key]
        waiting = [w for w in batch.waiting if not w.answer.done()]
        if not waiting:
            return
        task = asyncio.create_task(self._send(batch.connector_type, waiting))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

        def given_up(_: asyncio.Future[lookup_pb2.SearchResponse]) -> None:
            if all(w.answer.done() for w in waiting) and not task.done():
                task.cancel()  # no one waits for the answer any more

        for w in waiting:
            w.answer.add_done_callback(given_up)

    async def _send(self, connector_type: str, waiting: list[_Waiting]) -> None:
        if len(waiting) == 1:
            await _settle(waiting[0], self._send_one(connector_type, waiting[0].request, waiting[0].timeout))
            return
        request = lookup_pb2.SearchEachRequest(searches=[w.request for w in waiting])
        peer = f"the {connector_type} connector"
        answered = False
        try:
            async for outcome in self._send_each(connector_type, request, max(w.timeout for w in waiting)):
                answered = True
                if 0 <= outcome.index < len(waiting):
                    _answer(waiting[outcome.index], outcome, peer)
        except ServiceError as err:
            if err.code is grpc.StatusCode.UNIMPLEMENTED and not answered:
                self._unbatched[connector_type] = time.monotonic()
                await asyncio.gather(*(_settle(w, self._send_one(connector_type, w.request, w.timeout)) for w in waiting))
                return
            for w in waiting:
                _fail(w, err)  # those still waiting: the call's end is theirs
            return
        self._unbatched.pop(connector_type, None)
        for w in waiting:
            _fail(w, ServiceError(grpc.StatusCode.UNKNOWN, f"{peer} ended its answer without this search's outcome"))


def _answer(waiting: _Waiting, outcome: lookup_pb2.SearchOutcome, peer: str) -> None:
    kind = outcome.WhichOneof("outcome")
    if kind == "answer":
        if not waiting.answer.done():
            waiting.answer.set_result(outcome.answer)
    elif kind == "error" and outcome.error.code != grpc.StatusCode.OK.value[0]:
        _fail(waiting, ServiceError.from_rpc_status(outcome.error, peer))
    else:
        _fail(waiting, ServiceError(grpc.StatusCode.UNKNOWN, f"{peer} answered a search with neither an answer nor an error"))


def _fail(waiting: _Waiting, err: ServiceError) -> None:
    if not waiting.answer.done():
        # Each caller's own copy: it marks it (the app it was for, its trace).
        waiting.answer.set_exception(dataclasses.replace(err, fields=dict(err.fields)))


async def _settle(waiting: _Waiting, call: Awaitable[lookup_pb2.SearchResponse]) -> None:
    try:
        answer = await call
    except ServiceError as err:
        _fail(waiting, err)
    except Exception as exc:  # the caller's to see, as if it had called itself
        if not waiting.answer.done():
            waiting.answer.set_exception(exc)
    else:
        if not waiting.answer.done():
            waiting.answer.set_result(answer)
