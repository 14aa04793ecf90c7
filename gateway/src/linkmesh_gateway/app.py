"""``init_app``: the gateway application, its state and its long-lived clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web
from grpc_health.v1 import health_pb2_grpc
from linkmesh.profile.v1 import adaptor_pb2_grpc, admin_pb2_grpc, auth_pb2_grpc, customers_pb2_grpc, inbox_pb2_grpc, privacy_pb2_grpc

from linkmesh_core.channels import open_channel
from linkmesh_gateway.auth import KEY_CACHE, LIMITER, RateLimiter
from linkmesh_gateway.config import Settings
from linkmesh_gateway.key_cache import KeyCache
from linkmesh_gateway.middleware import authenticate, request_context
from linkmesh_gateway.oidc import OidcVerifier, ProviderUnavailable
from linkmesh_gateway.routes import setup_routes
from linkmesh_gateway.state import ADAPTOR, ADMIN, AUTH, CUSTOMERS, INBOX, OIDC, PRIVACY, PROFILE_HEALTH, SETTINGS, TOKENS

log = structlog.get_logger("linkmesh.gateway")


async def identity_provider(app: web.Application) -> AsyncIterator[None]:
    """Reads the provider's discovery document and keys at start-up (a provider that does not
    answer yet is asked again on the first token); closes its HTTP client on shutdown."""
    verifier = app[OIDC]
    try:
        await verifier.load_discovery()
        await verifier._key_for(None, "RS256")
    except ProviderUnavailable as exc:
        log.warning("oidc_provider_unavailable", issuer=verifier.config.issuer, error=str(exc))
    yield
    await verifier.close()


async def profile_client(app: web.Application) -> AsyncIterator[None]:
    """One channel to the profile service, opened at start-up, closed on shutdown."""
    channel = open_channel(app[SETTINGS].profile_addr)
    app[CUSTOMERS] = customers_pb2_grpc.CustomerServiceStub(channel)
    app[ADMIN] = admin_pb2_grpc.AdminServiceStub(channel)
    app[AUTH] = auth_pb2_grpc.AuthServiceStub(channel)
    app[ADAPTOR] = adaptor_pb2_grpc.AdaptorServiceStub(channel)
    app[INBOX] = inbox_pb2_grpc.InboxServiceStub(channel)
    app[PRIVACY] = privacy_pb2_grpc.PrivacyServiceStub(channel)
    app[PROFILE_HEALTH] = health_pb2_grpc.HealthStub(channel)
    yield
    await channel.close()


def init_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[request_context, authenticate], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[TOKENS] = settings.token_roles
    app[LIMITER] = RateLimiter(settings.rate_limit_per_minute, settings.replicas_max)
    app[KEY_CACHE] = KeyCache(settings.api_key_cache_s)
    app.cleanup_ctx.append(profile_client)
    oidc = settings.oidc
    if oidc is not None:
        app[OIDC] = OidcVerifier(oidc)
        app.cleanup_ctx.append(identity_provider)
    setup_routes(app)
    return app
