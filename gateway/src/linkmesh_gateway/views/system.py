"""Health, readiness, the OpenAPI document, and who is calling."""

from __future__ import annotations

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2

from linkmesh_gateway.auth import CALLER
from linkmesh_gateway.middleware import allow
from linkmesh_gateway.openapi import document
from linkmesh_gateway.responses import json_response
from linkmesh_gateway.state import OIDC, PROFILE_HEALTH, SETTINGS
from linkmesh_gateway.views.common import ALL


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the profile service answers its health check as SERVING."""
    try:
        answer = await request.app[PROFILE_HEALTH].Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
    except grpc.aio.AioRpcError as err:
        return json_response({"status": "not_ready", "profile": err.code().name.lower()}, status=503)
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        return json_response({"status": "not_ready", "profile": "not_serving"}, status=503)
    return json_response({"status": "ready", "profile": "serving"})


async def openapi(request: web.Request) -> web.Response:
    return json_response(document())


async def auth_config(request: web.Request) -> web.Response:
    """Public: how the console signs in. ``oidc`` is null when no identity provider is set up
    (then people sign in with an API key, which always works)."""
    verifier = request.app.get(OIDC)
    oidc = await verifier.public_config() if verifier is not None and verifier.config.client_id else None
    return json_response(
        {"oidc": oidc, "api_keys": True, "frame_ancestors": request.app[SETTINGS].frame_origins}, headers={"Cache-Control": "no-store"}
    )


@allow(*ALL)
async def whoami(request: web.Request) -> web.Response:
    """The verified caller: what the console shows as signed in."""
    actor = request[CALLER].actor
    return json_response(
        {
            "kind": actor.kind,
            "id": actor.id,
            "name": actor.name,
            "role": actor.role,
            **({"on_behalf_of": actor.on_behalf_of} if actor.on_behalf_of else {}),
        }
    )
