"""``init_app``: the gateway application, its state and its long-lived clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from grpc_health.v1 import health_pb2_grpc
from linkmesh.profile.v1 import profile_pb2_grpc

from linkmesh_core.channels import open_channel
from linkmesh_gateway.auth import LIMITER, RateLimiter
from linkmesh_gateway.config import Settings
from linkmesh_gateway.middleware import authenticate, request_context
from linkmesh_gateway.routes import setup_routes
from linkmesh_gateway.state import PROFILE, PROFILE_HEALTH, SETTINGS, TOKENS


async def profile_client(app: web.Application) -> AsyncIterator[None]:
    """One channel to the profile service, opened at start-up, closed on shutdown."""
    channel = open_channel(app[SETTINGS].profile_addr)
    app[PROFILE] = profile_pb2_grpc.ProfileServiceStub(channel)
    app[PROFILE_HEALTH] = health_pb2_grpc.HealthStub(channel)
    yield
    await channel.close()


def init_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[request_context, authenticate], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[TOKENS] = settings.token_roles
    app[LIMITER] = RateLimiter(settings.rate_limit_per_minute, settings.replicas_max)
    app.cleanup_ctx.append(profile_client)
    setup_routes(app)
    return app
