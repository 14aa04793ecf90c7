"""An open profile's changes as Server-Sent Events (``text/event-stream``), so a console shows
what a vendor's change event (or another agent, or an action) wrote while it is open.

Authenticated like every API route (``Authorization: Bearer``: a console reads it with
``fetch``, which can send the header, not ``EventSource``, which cannot). Each ``revision``
event carries the profile's ``updated_at``; the first says how it stands now, so a console
that shows an older one reads it again at once. A comment every ``HEARTBEAT_S`` keeps proxies
from closing an idle stream and finds a reader that left; the stream ends after
``STREAM_S`` (and when the profile is gone), and a console opens it again.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import structlog
from aiohttp import web
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.request_context import REQUEST_ID_KEY, current_request_id
from linkmesh_gateway.middleware import allow
from linkmesh_gateway.serialize import to_json
from linkmesh_gateway.state import CUSTOMERS

log = structlog.get_logger("linkmesh.gateway")
HEARTBEAT_S = 15.0
STREAM_S = 30 * 60.0
HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # nginx (and ingresses built on it) pass each event on at once
}


def revision_event(revision: profile_pb2.CustomerRevision) -> bytes:
    data: dict[str, Any] = {"id": revision.id, "updated_at": None, "gone": revision.gone, **to_json(revision)}
    return f"event: revision\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _forward(call: Any, response: web.StreamResponse) -> None:
    """Writes each revision as it comes, and a heartbeat when none came for a while."""
    reading: asyncio.Task[Any] | None = None
    try:
        while True:
            reading = reading or asyncio.ensure_future(call.read())
            done, _ = await asyncio.wait({reading}, timeout=HEARTBEAT_S)
            if not done:
                await response.write(b": still here\n\n")
                continue
            revision, reading = reading.result(), None
            if revision is grpc.aio.EOF:
                return
            await response.write(revision_event(revision))
    finally:
        if reading is not None:
            reading.cancel()


@allow("agent", "admin")
async def watch_customer(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/customers/{customer_id}/changes``: the profile's revisions as they are written."""
    ask = profile_pb2.WatchCustomerRequest(id=request.match_info["customer_id"])
    call = request.app[CUSTOMERS].WatchCustomer(ask, timeout=STREAM_S)
    try:
        first = await call.read()  # a customer that does not exist is a 404 before the stream starts
    except BaseException:
        call.cancel()
        raise
    response = web.StreamResponse(headers={**HEADERS, REQUEST_ID_KEY: current_request_id() or "", "X-Content-Type-Options": "nosniff"})
    await response.prepare(request)
    try:
        if first is not grpc.aio.EOF:
            await response.write(revision_event(first))
            await _forward(call, response)
    except grpc.aio.AioRpcError as err:  # its time is up, or the profile service stopped: the console opens it again
        log.info("watch_ended", code=err.code().name)
    except ConnectionResetError:  # the reader left
        pass
    finally:
        call.cancel()
    return response
