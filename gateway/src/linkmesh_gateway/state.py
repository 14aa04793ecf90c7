"""Typed application state (``web.AppKey``)."""

from __future__ import annotations

from aiohttp import web
from grpc_health.v1 import health_pb2_grpc
from linkmesh.profile.v1 import profile_pb2_grpc

from linkmesh_gateway.config import Settings
from linkmesh_gateway.oidc import OidcVerifier

SETTINGS = web.AppKey("settings", Settings)
TOKENS = web.AppKey("tokens", dict)
PROFILE = web.AppKey("profile", profile_pb2_grpc.ProfileServiceStub)
PROFILE_HEALTH = web.AppKey("profile_health", health_pb2_grpc.HealthStub)
OIDC = web.AppKey("oidc", OidcVerifier)
