"""The lookups of one request that reach the same connector, sent in one call (SearchEach, FetchEach).

A search of every unlinked app reaches one connector once per app of its type (several stores
of one vendor, several custom adaptors), and so does a refresh of a customer linked to several:
each a gRPC exchange of its own, most of a hop's CPU. The lookups of one kind one request starts
together (in the same turn of the event loop) are sent as one ``SearchEach`` or ``FetchEach``
instead; each caller still gets its own answer or its own failure, as its own ``Search`` or
``Fetch`` would have answered it, the moment the connector sends it (a slow store holds back no
other), and may give up on it alone (the call goes on for the others, and is cancelled once none
waits). A lookup alone, or with no request to belong to, goes on its own. A connector that
answers the batched call with UNIMPLEMENTED (one built without it) gets each on its own (nothing
was looked up), and is asked again after ``RETRY_BATCHING_S``.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_core.request_context import current_request_id

RETRY_BATCHING_S = 300.0

Request = TypeVar("Request", lookup_pb2.SearchRequest, lookup_pb2.FetchRequest)
Answer = TypeVar("Answer", lookup_pb2.SearchResponse, lookup_pb2.FetchResponse)
Outcome = lookup_pb2.SearchOutcome | lookup_pb2.FetchOutcome
Outcomes = lookup_pb2.SearchOutcomes | lookup_pb2.FetchOutcomes
# A connector type's lookup on its own, within a timeout; a failure raised as ServiceError.
SendOne = Callable[[str, Request, float], Awaitable[Answer]]
# A connector type's batched call: its outcomes as they come (those done together in one
# message), within a timeout; a failure raised as ServiceError.
SendEach = Callable[[str, list[Request], float], AsyncIterator[Outcomes]]


@dataclass
class _Waiting(Generic[Request, Answer]):
    request: Request
    timeout: float
    answer: asyncio.Future[Answer]


@dataclass
class _Batch(Generic[Request, Answer]):
    connector_type: str
    waiting: list[_Waiting[Request, Answer]] = field(default_factory=list)


class Batches(Generic[Request, Answer]):
    """``send_one`` and ``send_each``: a connector type's lookup (Search, Fetch) and its batched
    form (SearchEach, FetchEach); ``kind``: what one is called in messages ("search")."""

    def __init__(self, kind: str, send_one: SendOne[Request, Answer], send_each: SendEach[Request]) -> None:
        self._kind = kind
        self._send_one: SendOne[Request, Answer] = send_one
        self._send_each: SendEach[Request] = send_each
        self._open: dict[tuple[str, str], _Batch[Request, Answer]] = {}
        self._unbatched: dict[str, float] = {}  # connector type -> when it said UNIMPLEMENTED
        self._sending: set[asyncio.Task[None]] = set()

    async def lookup(self, connector_type: str, request: Request, timeout: float) -> Answer:
        request_id = current_request_id()
        if not request_id or not self._batches(connector_type):
            return await self._send_one(connector_type, request, timeout)
        loop = asyncio.get_running_loop()
        key = (connector_type, request_id)
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = _Batch(connector_type)
            # After the lookups started with this one have joined it; in this request's context.
            loop.call_soon(self._close, key, batch, context=contextvars.copy_context())
        waiting: _Waiting[Request, Answer] = _Waiting(request, timeout, loop.create_future())
        batch.waiting.append(waiting)
        return await waiting.answer

    def _batches(self, connector_type: str) -> bool:
        since = self._unbatched.get(connector_type)
        return since is None or time.monotonic() - since > RETRY_BATCHING_S

    def _close(self, key: tuple[str, str], batch: _Batch[Request, Answer]) -> None:
        if self._open.get(key) is batch:
            del self._open[key]
        waiting = [w for w in batch.waiting if not w.answer.done()]
        if not waiting:
            return
        task = asyncio.create_task(self._send(batch.connector_type, waiting))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

        def given_up(_: asyncio.Future[Answer]) -> None:
            if all(w.answer.done() for w in waiting) and not task.done():
                task.cancel()  # no one waits for the answer any more

        for w in waiting:
            w.answer.add_done_callback(given_up)

    async def _send(self, connector_type: str, waiting: list[_Waiting[Request, Answer]]) -> None:
        """Every caller's future ends, whatever happens to the call: no caller is left waiting."""
        try:
            await self._send_batch(connector_type, waiting)
        except asyncio.CancelledError:
            for w in waiting:
                w.answer.cancel()  # no-op for those answered
            raise
        except Exception as exc:  # a bug: each caller sees it, as if it had called itself
            for w in waiting:
                if not w.answer.done():
                    w.answer.set_exception(exc)

    async def _send_batch(self, connector_type: str, waiting: list[_Waiting[Request, Answer]]) -> None:
        if len(waiting) == 1:
            await _settle(waiting[0], self._send_one(connector_type, waiting[0].request, waiting[0].timeout))
            return
        peer = f"the {connector_type} connector"
        answered = False
        try:
            async for together in self._send_each(connector_type, [w.request for w in waiting], max(w.timeout for w in waiting)):
                answered = True
                for outcome in together.outcomes:
                    if 0 <= outcome.index < len(waiting):
                        self._answer(waiting[outcome.index], outcome, peer)
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
            _fail(w, ServiceError(grpc.StatusCode.UNKNOWN, f"{peer} ended its answer without this {self._kind}'s outcome"))

    def _answer(self, waiting: _Waiting[Request, Answer], outcome: Outcome, peer: str) -> None:
        kind = outcome.WhichOneof("outcome")
        if kind == "answer":
            if not waiting.answer.done():
                waiting.answer.set_result(cast("Answer", outcome.answer))
        elif kind == "error" and outcome.error.code != grpc.StatusCode.OK.value[0]:
            _fail(waiting, ServiceError.from_rpc_status(outcome.error, peer))
        else:
            _fail(waiting, ServiceError(grpc.StatusCode.UNKNOWN, f"{peer} answered a {self._kind} with neither an answer nor an error"))


def _fail(waiting: _Waiting[Request, Answer], err: ServiceError) -> None:
    if not waiting.answer.done():
        # Each caller's own copy: it marks it (the app it was for, its trace).
        waiting.answer.set_exception(dataclasses.replace(err, fields=dict(err.fields)))


async def _settle(waiting: _Waiting[Request, Answer], call: Awaitable[Answer]) -> None:
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
