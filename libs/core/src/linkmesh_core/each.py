"""SearchEach and FetchEach: several apps' lookups in one Lookup call, each answered or failed on
its own.

The profile service sends together the lookups of one request that reach the same connector
(several stores of one vendor, several custom adaptors): one gRPC exchange instead of one per
app. Each runs as its own Search or Fetch would, concurrently, under a vendor ledger of its own,
so its failure says what its own call would have said (``NOT_SENT`` when it only read), and is
sent back as that call's status the moment it is done, in one message with the others done at
the same time: one app's failure is never another's, and a slow one holds back no other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.outcome import current_ledger, open_ledger, settle
from linkmesh_core.request_context import current_request_id

log = structlog.get_logger()

# More than a profile service ever sends at once (one per active app of the connector's type).
MAX_LOOKUPS = 100
# Outcomes done together share a message up to this size (an outcome larger goes alone), well
# under the channels' 16 MiB a message.
MESSAGE_BYTES = 1 << 20

Request = TypeVar("Request", lookup_pb2.SearchRequest, lookup_pb2.FetchRequest)
Answer = TypeVar("Answer", lookup_pb2.SearchResponse, lookup_pb2.FetchResponse)
Outcome = TypeVar("Outcome", lookup_pb2.SearchOutcome, lookup_pb2.FetchOutcome)
Outcomes = TypeVar("Outcomes", lookup_pb2.SearchOutcomes, lookup_pb2.FetchOutcomes)


async def answer_each(
    requests: Sequence[Request],
    one: Callable[[Request], Awaitable[Answer]],
    outcome: Callable[..., Outcome],
    outcomes: Callable[..., Outcomes],
    field: str,
) -> AsyncIterator[Outcomes]:
    """Every one of ``requests`` through ``one`` (what Search or Fetch runs), at once; each
    ``outcome`` (the message: SearchOutcome for SearchResponse answers, FetchOutcome for
    FetchResponse ones) yielded the moment it is done, with its index, in ``outcomes`` with those
    done at the same time. ``field``: the request's list."""
    if len(requests) > MAX_LOOKUPS:
        raise invalid_argument(f"at most {MAX_LOOKUPS} lookups in one call", {field: f"{len(requests)} given, at most {MAX_LOOKUPS}"})
    whole = current_ledger()
    if whole is not None:
        for request in requests:
            whole.note_app(request.app.app_id)  # the call's log line names every app, ended or not

    async def run(index: int, request: Request) -> Outcome:
        app_id = request.app.app_id
        ledger = open_ledger()  # in this lookup's own task: what it alone sent
        ledger.note_app(app_id)
        try:
            return outcome(index=index, answer=await one(request))
        except ServiceError as err:
            settle(err, ledger)
            log.info("lookup_failed", app_id=app_id, code=err.code.name, error=err.message)
            return outcome(index=index, error=err.to_rpc_status())
        except Exception:
            log.exception("lookup_failed", app_id=app_id)
            internal = ServiceError(grpc.StatusCode.INTERNAL, f"internal error (request id {current_request_id()})")
            return outcome(index=index, error=internal.to_rpc_status())
        finally:
            if whole is not None:
                whole.absorb(ledger)

    tasks = [asyncio.create_task(run(i, r)) for i, r in enumerate(requests)]
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            together: list[Outcome] = []
            size = 0
            for ended in sorted((task.result() for task in done), key=lambda o: o.index):
                if together and size + ended.ByteSize() > MESSAGE_BYTES:
                    yield outcomes(outcomes=together)
                    together, size = [], 0
                together.append(ended)
                size += ended.ByteSize()
            yield outcomes(outcomes=together)
    finally:
        for task in tasks:
            task.cancel()  # the caller went away: what is left is not waited for
