"""Long-lived gRPC client channels with retries through service config.

A channel is created once per target and closed on shutdown. Only reads are
retried by gRPC itself: the methods the contract marks with an
``idempotency_level`` (NO_SIDE_EFFECTS or IDEMPOTENT). A write (RunAction,
CreateCustomer, LinkCustomer, ...) is never retried by the channel. And since
every linkmesh server answers its own errors with a retry pushback that forbids
retries (``linkmesh_core.errors.NO_RETRY``), a read is retried only when the
transport failed (the peer was restarting, a connection broke), never because a
vendor behind the peer failed: one layer retries vendor failures, the one
nearest the vendor. Reconnection after a peer restarts is quick, and every call
carries its own deadline set by the caller. Calls to a ``dns:///`` target are balanced
round-robin over every address it resolves to (the replicas behind a headless Service),
and calls to an address list (``ipv4:host:port,host:port``) over every address in it.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import ServiceDescriptor
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import adaptor_pb2, admin_pb2, auth_pb2, customers_pb2, privacy_pb2

from linkmesh_core.request_context import outbound_metadata
from linkmesh_core.tls import tls_from_env

SERVICES: tuple[ServiceDescriptor, ...] = (
    lookup_pb2.DESCRIPTOR.services_by_name["LookupService"],
    customers_pb2.DESCRIPTOR.services_by_name["CustomerService"],
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"],
    auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
    adaptor_pb2.DESCRIPTOR.services_by_name["AdaptorService"],
    privacy_pb2.DESCRIPTOR.services_by_name["PrivacyService"],
)
SAFE_LEVELS = (descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS, descriptor_pb2.MethodOptions.IDEMPOTENT)


def retryable_methods(services: tuple[ServiceDescriptor, ...] = SERVICES) -> list[tuple[str, str]]:
    """(service, method) of every RPC the contract declares safe to repeat."""
    out = []
    for service in services:
        for method in service.methods:
            if method.GetOptions().idempotency_level in SAFE_LEVELS:
                out.append((service.full_name, method.name))
    return out


RETRY_POLICY = {
    "methodConfig": [
        {
            "name": [{"service": s, "method": m} for s, m in retryable_methods()],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.1s",
                "maxBackoff": "0.5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}
RETRY_SERVICE_CONFIG = json.dumps(RETRY_POLICY)
# A ``dns:///`` target (a Kubernetes headless Service: ``dns:///connector-bigcommerce:50061``)
# names every replica: calls spread round-robin over them, and a replica that goes away is
# dropped when its connection fails (the name is resolved again), so the channel recovers
# without a restart. A plain ``host:port`` names one server and keeps gRPC's pick_first,
# which reconnects on the next call after that server restarts instead of failing it fast.
BALANCED_SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}], **RETRY_POLICY})


def service_config(target: str) -> str:
    """Round-robin for a target that names several replicas: a ``dns:`` name, or an address
    list (``ipv4:127.0.0.1:50061,127.0.0.1:50071``)."""
    return BALANCED_SERVICE_CONFIG if target.startswith(("dns:", "ipv4:", "ipv6:")) else RETRY_SERVICE_CONFIG


def open_channel(target: str) -> grpc.aio.Channel:
    """A channel to ``target``: mutual TLS with this service's certificate when
    ``LINKMESH_TLS_*`` are set (``linkmesh_core.tls``), plain text otherwise."""
    tls = tls_from_env()
    options = [
        ("grpc.service_config", service_config(target)),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", 16 * 1024 * 1024),
        ("grpc.keepalive_time_ms", 30_000),
        # A restarted peer is reachable again within a second, not after
        # gRPC's default back-off of up to two minutes.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
    if tls is not None:
        return ContextChannel(grpc.aio.secure_channel(target, tls.channel_credentials(), options=options))
    return ContextChannel(grpc.aio.insecure_channel(target, options=options))


class _WithContext:
    """One method of a ``ContextChannel``: each call carries the request's context."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __call__(self, request: Any = None, *, metadata: Any = None, **kw: Any) -> Any:
        return self._inner(request, metadata=outbound_metadata(metadata, request), **kw)


class ContextChannel(grpc.aio.Channel):
    """A channel whose calls carry the request id and the verified actor bound where they are
    made (``request_context.outbound_metadata``); generated stubs use it as any channel."""

    def __init__(self, inner: grpc.aio.Channel) -> None:
        self._inner = inner

    async def __aenter__(self) -> ContextChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inner.close(None)

    async def close(self, grace: float | None = None) -> None:
        await self._inner.close(grace)

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self._inner.get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self._inner.wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self._inner.channel_ready()

    def unary_unary(
        self, method: str, request_serializer: Any = None, response_deserializer: Any = None, _registered_method: Any = False
    ) -> Any:
        return _WithContext(self._inner.unary_unary(method, request_serializer, response_deserializer, _registered_method))

    def unary_stream(
        self, method: str, request_serializer: Any = None, response_deserializer: Any = None, _registered_method: Any = False
    ) -> Any:
        return _WithContext(self._inner.unary_stream(method, request_serializer, response_deserializer, _registered_method))

    def stream_unary(
        self, method: str, request_serializer: Any = None, response_deserializer: Any = None, _registered_method: Any = False
    ) -> Any:
        return _WithContext(self._inner.stream_unary(method, request_serializer, response_deserializer, _registered_method))

    def stream_stream(
        self, method: str, request_serializer: Any = None, response_deserializer: Any = None, _registered_method: Any = False
    ) -> Any:
        return _WithContext(self._inner.stream_stream(method, request_serializer, response_deserializer, _registered_method))
