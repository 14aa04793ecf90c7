"""The vendors' change events (webhooks): one route for every app, whatever its vendor.

The gateway takes the delivery's exact bytes and headers to the profile service, whose app's
connector checks the vendor's signature; a good one is kept once and the vendor answered at
once (200), a bad one is 401 and nothing is kept. What the vendor reads of an answer is its
status: a 5xx makes it send the delivery again, which is what is wanted when it was not kept.
"""

from __future__ import annotations

import grpc
from aiohttp import web
from linkmesh.profile.v1 import inbox_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_gateway.responses import json_response
from linkmesh_gateway.state import INBOX

MAX_BODY = 1024 * 1024  # Shopify's largest payloads are well under this
RECEIVE_TIMEOUT_S = 5.0  # vendors wait 5 s (Shopify) to 10 s for an answer
STATUS = {"UNAUTHENTICATED": 401, "NOT_FOUND": 404, "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 409}


def refused(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status=status)


async def receive_event(request: web.Request) -> web.Response:
    """``POST /webhooks/v1/apps/{app_id}``: one delivery, kept once, answered at once."""
    if (request.content_length or 0) > MAX_BODY:
        return refused(413, "too_large", f"a delivery is at most {MAX_BODY} bytes")
    body = await request.read()
    delivery = inbox_pb2.Delivery(app_id=request.match_info["app_id"], headers=dict(request.headers), body=body)
    try:
        received = await request.app[INBOX].Receive(delivery, timeout=RECEIVE_TIMEOUT_S)
    except grpc.aio.AioRpcError as err:
        e = ServiceError.from_rpc_error(err, "linkmesh")
        status = STATUS.get(e.code.name, 503)
        message = e.message if status != 503 else "not kept now; send it again"
        return refused(status, e.code.name.lower(), message)
    return json_response({"received": True, "event_id": received.event_id, "duplicate": received.duplicate})
