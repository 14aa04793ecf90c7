"""SearchEach: several apps' searches in one Lookup call, each answered or failed on its own.

The profile service sends together the searches of one request that reach the same connector
(several stores of one vendor, several custom adaptors): one gRPC exchange instead of one per
app. Each search runs as its own Search would, concurrently, under a vendor ledger of its own,
so its failure says what its own call would have said (``NOT_SENT`` when it only read), and
is sent back as that call's status the moment it is done: one app's failure is never another's,
and a slow one holds back no other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.outcome import current_ledger, open_ledger, settle
from linkmesh_core.request_context import current_request_id

log = structlog.get_logger()

# More than a profile service ever sends at once (one per active app of the connector's type).
MAX_SEARCHES = 100

OneSearch = Callable[[lookup_pb2.SearchRequest], Awaitable[lookup_pb2.SearchResponse]]


async def search_each(request: lookup_pb2.SearchEachRequest, one: OneSearch) -> AsyncIterator[lookup_pb2.SearchOutcome]:
    """Every search of ``request`` through ``one`` (what Search runs), at once; each outcome
    yielded the moment it is done, with its index."""
    if len(request.searches) > MAX_SEARCHES:
        raise invalid_argument(
            f"at most {MAX_SEARCHES} searches in one call", {"searches": f"{len(request.searches)} given, at most {MAX_SEARCHES}"}
        )
    whole = current_ledger()
    if whole is not None:
        for search in request.searches:
            whole.note_app(search.app.app_id)  # the call's log line names every app, ended or not

    async def run(index: int, search: lookup_pb2.SearchRequest) -> lookup_pb2.SearchOutcome:
        ledger = open_ledger()  # in this search's own task: what it alone sent
        ledger.note_app(search.app.app_id)
        try:
            return lookup_pb2.SearchOutcome(index=index, answer=await one(search))
        except ServiceError as err:
            settle(err, ledger)
            log.info("search_failed", app_id=search.app.app_id, code=err.code.name, error=err.message)
            return lookup_pb2.SearchOutcome(index=index, error=err.to_rpc_status())
        except Exception:
            log.exception("search_failed", app_id=search.app.app_id)
            internal = ServiceError(grpc.StatusCode.INTERNAL, f"internal error (request id {current_request_id()})")
            return lookup_pb2.SearchOutcome(index=index, error=internal.to_rpc_status())
        finally:
            if whole is not None:
                whole.absorb(ledger)

    tasks = [asyncio.create_task(run(i, s)) for i, s in enumerate(request.searches)]
    try:
        for done in asyncio.as_completed(tasks):
            yield await done
    finally:
        for task in tasks:
            task.cancel()  # the caller went away: what is left is not waited for
