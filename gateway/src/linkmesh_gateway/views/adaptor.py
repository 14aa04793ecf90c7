"""Apps served as Gladly lookup adaptors: relayed to the profile service's AdaptorService."""

from __future__ import annotations

import math

import grpc
from aiohttp import web
from linkmesh.profile.v1 import profile_pb2

from linkmesh_gateway.auth import LIMITER
from linkmesh_gateway.state import ADAPTOR, SETTINGS

GLADLY_BUDGET_S = 14.0  # of the protocol's 15 s: the answer must reach the caller in time


async def gladly_lookup(request: web.Request) -> web.Response:
    """An app served as a Gladly Lookup Adaptor (its lookups, and its actions' forms and
    runs): relayed to the profile service as received (it verifies the signature over these
    exact bytes); no bearer token, the signature is the caller's proof."""
    settings = request.app[SETTINGS]
    wait = request.app[LIMITER].take(f"adaptor:{request.match_info['app_id']}", settings.adaptor_rate_limit_per_minute)
    if wait > 0:
        return web.json_response(
            {"errors": [{"message": f"too many requests to this adaptor; retry in {math.ceil(wait)} s"}]},
            status=429,
            headers={"Retry-After": str(math.ceil(wait))},
        )
    body = await request.read()
    try:
        answer = await request.app[ADAPTOR].ServeAdaptor(
            profile_pb2.ServeAdaptorRequest(
                app_id=request.match_info["app_id"],
                method=request.method,
                path=request.rel_url.raw_path,
                query=request.rel_url.raw_query_string,
                headers=dict(request.headers),
                body=body,
            ),
            timeout=GLADLY_BUDGET_S,
        )
    except grpc.aio.AioRpcError as err:
        late = err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        message = "linkmesh did not answer within the protocol's 15 s budget" if late else "linkmesh did not answer"
        if "action" in request.match_info and request.method == "POST":
            message += "; the action's outcome is unknown: check the order before trying again"
        return web.json_response({"errors": [{"message": message}]}, status=504 if late else 503)
    return web.Response(status=answer.status, body=answer.body, content_type="application/json")
