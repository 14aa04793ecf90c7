"""Mutual TLS between linkmesh's services (off unless configured).

Every service reads the same variables:

- ``LINKMESH_TLS_CERT``, ``LINKMESH_TLS_KEY``: files with this service's certificate (PEM,
  chain allowed) and private key. Its servers present it, its clients present it.
- ``LINKMESH_TLS_CA``: the file of the CA certificates this service trusts: a peer must
  present a certificate signed by one of them, both ways.
- ``LINKMESH_TLS_ALLOWED_CLIENTS``: the names (certificate common name or DNS subject
  alternative name) of the clients this service's servers answer, comma-separated: the profile
  service answers ``gateway``, each connector only ``profile``. Empty: any client whose
  certificate the CA signed. The health service answers any such client, so probes and the
  image's health check can use the service's own certificate.

Set all of the first three or none; with none, gRPC runs in plain text (``make run``, tests).
A client's verified name becomes the actor of a call that names none (a service acting for
itself); the actor a trusted client forwards (the gateway's verified person) is believed only
because the client is verified.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

ENV_CERT, ENV_KEY, ENV_CA, ENV_ALLOWED = "LINKMESH_TLS_CERT", "LINKMESH_TLS_KEY", "LINKMESH_TLS_CA", "LINKMESH_TLS_ALLOWED_CLIENTS"
ENV_NAMES = (ENV_CERT, ENV_KEY, ENV_CA, ENV_ALLOWED)
OPEN_SERVICES = ("/grpc.health.v1.Health/",)


class TlsConfigError(Exception):
    """The TLS variables are incomplete or name files that cannot be read; says which."""


@dataclass(frozen=True)
class Tls:
    cert: bytes
    key: bytes
    ca: bytes
    allowed_clients: frozenset[str]
    names: tuple[str, ...]  # this service's own names, from its certificate

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert)


def certificate_names(pem: bytes) -> tuple[str, ...]:
    """The common name and DNS names of the first certificate in ``pem``."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_pem_x509_certificate(pem)
    names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        names += cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        pass
    return tuple(dict.fromkeys(names))


def _read(name: str, environ: dict[str, str]) -> bytes:
    path = Path(environ[name])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{name}={path}: cannot be read ({exc.strerror or exc})") from None
    if b"-----BEGIN " not in data:
        raise TlsConfigError(f"{name}={path}: not a PEM file")
    return data


def tls_from(environ: dict[str, str]) -> Tls | None:
    given = [n for n in (ENV_CERT, ENV_KEY, ENV_CA) if environ.get(n)]
    if not given:
        if environ.get(ENV_ALLOWED):
            raise TlsConfigError(f"{ENV_ALLOWED} needs {ENV_CERT}, {ENV_KEY} and {ENV_CA}: without TLS no client has a verified name")
        return None
    missing = [n for n in (ENV_CERT, ENV_KEY, ENV_CA) if n not in given]
    if missing:
        raise TlsConfigError(f"mutual TLS needs {', '.join(missing)} too (set {ENV_CERT}, {ENV_KEY} and {ENV_CA}, or none)")
    cert = _read(ENV_CERT, environ)
    try:
        names = certificate_names(cert)
    except ValueError as exc:
        raise TlsConfigError(f"{ENV_CERT}={environ[ENV_CERT]}: not a certificate ({exc})") from None
    allowed = frozenset(n.strip() for n in environ.get(ENV_ALLOWED, "").split(",") if n.strip())
    return Tls(cert, _read(ENV_KEY, environ), _read(ENV_CA, environ), allowed, names)


@functools.cache
def tls_from_env() -> Tls | None:
    """This process's TLS settings (read once; raises TlsConfigError naming the variable)."""
    return tls_from(dict(os.environ))


def peer_names(context: grpc.aio.ServicerContext) -> list[str]:
    """The verified names of the client's certificate (none without TLS)."""
    auth = context.auth_context() or {}
    if auth.get("transport_security_type") != [b"ssl"]:
        return []
    values = [*auth.get("x509_common_name", []), *auth.get("x509_subject_alternative_name", [])]
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


class PeerCheckInterceptor(grpc.aio.ServerInterceptor):
    """Answers only clients whose verified certificate names one of ``allowed`` (the health
    service: any client the CA signed). The TLS handshake has already refused the rest."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or not self.allowed or method.startswith(OPEN_SERVICES):
            return handler
        allowed = self.allowed

        async def refuse(context: grpc.aio.ServicerContext) -> bool:
            names = peer_names(context)
            if any(n in allowed for n in names):
                return False
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"this service answers {', '.join(sorted(allowed))}; the client's certificate names {', '.join(names) or 'nothing'}",
            )
            return True

        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await refuse(context)
                return await inner_uu(request, context)

            return grpc.unary_unary_rpc_method_handler(unary_unary, handler.request_deserializer, handler.response_serializer)

        def streaming(inner: Callable[..., Any]) -> Callable[..., Any]:
            async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await refuse(context)
                async for answer in inner(request, context):
                    yield answer

            return guarded

        if handler.stream_stream is not None:  # server reflection
            return grpc.stream_stream_rpc_method_handler(
                streaming(handler.stream_stream), handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                streaming(handler.unary_stream), handler.request_deserializer, handler.response_serializer
            )
        return handler
