"""Per-request context on both sides of a gRPC call.

Server side: ``RequestContextInterceptor`` takes the caller's ``x-request-id``
(or makes one), binds it into structlog's contextvars, turns ``ServiceError``
into a rich status, hides unexpected exceptions behind INTERNAL, and writes one
canonical log line per RPC (code, duration, the app it concerned, vendor and downstream
calls, rate-limit waits). Client side: ``outbound_metadata`` passes
the bound request id and actor on to the next hop.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog

from linkmesh_core.actor import ACTOR_METADATA, Actor, bind_actor, current_actor
from linkmesh_core.errors import ServiceError
from linkmesh_core.metrics import RPC_LATENCY, RPC_REQUESTS
from linkmesh_core.outcome import VendorLedger, current_ledger, open_ledger, settle
from linkmesh_core.tls import peer_names

REQUEST_ID_KEY = "x-request-id"
# Probes answer often; their canonical lines are debug-level.
QUIET_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
log = structlog.get_logger("linkmesh.rpc")
# The monotonic time by which the RPC being served must answer (None: no deadline).
_rpc_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("rpc_deadline", default=None)


def time_left(default: float, margin: float = 0.05) -> float:
    """Seconds an outbound call made while serving an RPC may take: the
    caller's remaining deadline less a margin to answer in, capped at ``default``."""
    deadline = _rpc_deadline.get()
    if deadline is None:
        return default
    return max(min(deadline - time.monotonic() - margin, default), 0.001)


def app_id_of(request: Any) -> str:
    """The app a contract request is made for: its ``app`` context (connectors) or its
    ``app_id`` (the profile service); empty when it names none."""
    app = getattr(request, "app", None)
    app_id = getattr(app, "app_id", "") if app is not None else ""
    if not isinstance(app_id, str) or not app_id:
        app_id = getattr(request, "app_id", "")
    return app_id if isinstance(app_id, str) else ""


def current_request_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")


def new_request_id() -> str:
    return uuid.uuid4().hex


ErrorMapper = Callable[[Exception], "ServiceError | None"]


def _bind_call(metadata: dict[str, Any], method: str, context: grpc.aio.ServicerContext) -> str:
    """Binds the call's request id, actor and deadline for everything it runs; answers the request id."""
    request_id = str(metadata.get(REQUEST_ID_KEY) or new_request_id())
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method)
    actor = Actor.decode(str(metadata.get(ACTOR_METADATA) or ""))
    if actor is None and (names := peer_names(context)):  # a verified service acting for itself
        actor = Actor(kind="service", id=f"service:{names[0]}", name=names[0])
    bind_actor(actor)
    if actor is not None:
        structlog.contextvars.bind_contextvars(actor=actor.id)
    remaining = context.time_remaining()
    _rpc_deadline.set(time.monotonic() + remaining if remaining is not None else None)
    return request_id


class RequestContextInterceptor(grpc.aio.ServerInterceptor):
    """``error_mappers`` turn a service's infrastructure exceptions (a database
    that is down, say) into a ServiceError with a meaningful code. ``expose_debug``:
    whether answers carry the vendor's raw answer (connectors, for the profile
    service's debugger) or not (services that answer people)."""

    def __init__(self, error_mappers: list[ErrorMapper] | None = None, service: str = "", *, expose_debug: bool = True) -> None:
        self._mappers = list(error_mappers or [])
        self._service = service
        self._expose_debug = expose_debug
        # Method -> (the service's handler, the handler wrapping it), made on the method's first call.
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def _map(self, exc: Exception) -> ServiceError | None:
        for mapper in self._mappers:
            mapped = mapper(exc)
            if mapped is not None:
                return mapped
        return None

    def _record(self, method: str, code: Any, message: str, elapsed: float, ledger: VendorLedger) -> None:
        """The call's canonical log line and its metrics."""
        code_name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        (log.debug if method.startswith(QUIET_PREFIXES) else log.info)(
            "rpc",
            code=code_name,
            error=message or None,
            duration_ms=round(elapsed * 1000, 2),
            **ledger.summary(),
        )
        RPC_REQUESTS.labels(self._service, method, code_name).inc()
        RPC_LATENCY.labels(self._service, method).observe(elapsed)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method: str = handler_call_details.method
        kept = self._wrapped.get(method)
        if kept is not None and kept[0] is handler:  # built once per method, not per call
            return kept[1]
        if inspect.isasyncgenfunction(handler.unary_stream):  # not one that writes with context.write
            wrapped = self._streaming(handler, method)
        elif handler.unary_unary is not None:
            wrapped = self._unary(handler, method)
        else:
            wrapped = handler
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _unary(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        """A unary call bound (request id, actor, deadline), its errors mapped, logged once."""
        inner = handler.unary_unary

        async def behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
            request_id = _bind_call(dict(context.invocation_metadata() or ()), method, context)
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            message = ""
            ledger = open_ledger()
            ledger.note_app(app_id_of(request))
            try:
                return await inner(request, context)
            except ServiceError as err:
                err = settle(err, ledger)
                code, message = err.code, err.message
                await context.abort_with_status(err.to_status(with_debug=self._expose_debug))
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except Exception as exc:
                mapped = self._map(exc)
                if mapped is not None:
                    code, message = mapped.code, mapped.message
                    log.warning("rpc_dependency_failed", error_type=type(exc).__name__)
                    await context.abort_with_status(mapped.to_status())
                code, message = grpc.StatusCode.INTERNAL, "internal error"
                log.exception("rpc_failed")
                await context.abort_with_status(ServiceError(code, f"internal error (request id {request_id})").to_status())
            finally:
                if code is grpc.StatusCode.OK and context.code() not in (None, grpc.StatusCode.OK):
                    code = context.code()
                self._record(method, code, message, time.perf_counter() - started, ledger)

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _streaming(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        """A server-streaming call, bound and logged as a unary one is (once, when it ends)."""
        inner = handler.unary_stream

        async def behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
            _bind_call(dict(context.invocation_metadata() or ()), method, context)
            started = time.perf_counter()
            code, message = grpc.StatusCode.OK, ""
            ledger = open_ledger()
            ledger.note_app(app_id_of(request))
            try:
                async for answer in inner(request, context):
                    yield answer
            except ServiceError as err:
                err = settle(err, ledger)
                code, message = err.code, err.message
                await context.abort_with_status(err.to_status(with_debug=self._expose_debug))
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            finally:
                self._record(method, code, message, time.perf_counter() - started, ledger)

        return grpc.unary_stream_rpc_method_handler(
            behaviour, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


def outbound_metadata(metadata: Any, request: Any) -> Any:
    """The metadata of a call made while serving a request: the bound request id and the
    verified actor added (unless the caller gave them), and the call counted on the request's
    ledger (its canonical line's downstream calls and apps). Used by every channel
    ``linkmesh_core.channels`` opens, on each call, without gRPC's interceptor machinery (its
    extra task per call cost the profile service about 60 us of CPU per connector call)."""
    ledger = current_ledger()  # the request being served, whose canonical line counts this call
    if ledger is not None:
        ledger.downstream_calls += 1
        ledger.note_app(app_id_of(request))
    request_id = current_request_id()
    actor = current_actor()
    if not request_id and actor is None:
        return metadata
    out = list(metadata or ())
    given = {k for k, _ in out}
    if request_id and REQUEST_ID_KEY not in given:
        out.append((REQUEST_ID_KEY, request_id))
    if actor is not None and ACTOR_METADATA not in given:
        out.append((ACTOR_METADATA, actor.encode()))
    return tuple(out)
