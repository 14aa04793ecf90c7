"""Typed application state (``web.AppKey``)."""

from __future__ import annotations

from aiohttp import web
from grpc_health.v1 import health_pb2_grpc
from linkmesh.profile.v1 import adaptor_pb2_grpc, admin_pb2_grpc, auth_pb2_grpc, customers_pb2_grpc, inbox_pb2_grpc, privacy_pb2_grpc

from linkmesh_gateway.config import Settings
from linkmesh_gateway.oidc import OidcVerifier

SETTINGS = web.AppKey("settings", Settings)
TOKENS = web.AppKey("tokens", dict)
# The profile service, one stub per audience (one channel under them all).
CUSTOMERS = web.AppKey("customers", customers_pb2_grpc.CustomerServiceStub)
ADMIN = web.AppKey("admin", admin_pb2_grpc.AdminServiceStub)
AUTH = web.AppKey("auth", auth_pb2_grpc.AuthServiceStub)
ADAPTOR = web.AppKey("adaptor", adaptor_pb2_grpc.AdaptorServiceStub)
INBOX = web.AppKey("inbox", inbox_pb2_grpc.InboxServiceStub)
PRIVACY = web.AppKey("privacy", privacy_pb2_grpc.PrivacyServiceStub)
PROFILE_HEALTH = web.AppKey("profile_health", health_pb2_grpc.HealthStub)
OIDC = web.AppKey("oidc", OidcVerifier)
