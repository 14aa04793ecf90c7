"""Request context, authentication and error mapping for every request."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

import grpc
import structlog
from aiohttp import web

from linkmesh_core.actor import bind_actor
from linkmesh_core.errors import ServiceError
from linkmesh_core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from linkmesh_core.outcome import open_ledger
from linkmesh_core.request_context import REQUEST_ID_KEY, new_request_id
from linkmesh_gateway.auth import CALLER, LIMITER, ROLE, caller_of
from linkmesh_gateway.errors import ApiError, error_response, from_service_error
from linkmesh_gateway.oidc import OidcVerifier
from linkmesh_gateway.openapi import query_parameters
from linkmesh_gateway.responses import json_response
from linkmesh_gateway.state import OIDC, SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = structlog.get_logger("linkmesh.gateway")
PUBLIC_PATHS = {"/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/auth/config"}
ROLES_KEY = "roles"  # route handlers declare their allowed roles with @allow(...)


def content_security_policy(verifier: OidcVerifier | None, frame_origins: list[str] | None = None) -> str:
    """Strict: this origin only (no inline script, no eval), plus the identity provider the
    console signs in with; framed only by the origins an admin lists (else never)."""
    connect = " ".join(["'self'", *(verifier.origins() if verifier else [])])
    ancestors = " ".join(frame_origins) if frame_origins else "'none'"
    return f"default-src 'self'; connect-src {connect}; frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'; object-src 'none'"


def allow(*roles: str) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, ROLES_KEY, frozenset(roles))
        return handler

    return mark


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Binds a request id, maps errors to the JSON error body, logs one line per request."""
    request_id = request.headers.get("X-Request-Id") or new_request_id()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, method=request.method, path=request.path)
    started = time.perf_counter()
    ledger = open_ledger()  # the apps and profile calls this request made, for its canonical line
    app_in_path = request.match_info.get("app_id", "")
    ledger.note_app(app_in_path)
    try:
        try:
            response = await handler(request)
        except ServiceError as err:
            raise from_service_error(err) from None
        except grpc.aio.AioRpcError as err:
            raise from_service_error(ServiceError.from_rpc_error(err, "the profile service")) from None
    except ApiError as err:
        response = err.response(request)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(err.status, "http_error")
        headers = {"Allow": err.headers["Allow"]} if "Allow" in err.headers else None  # 405 says what is allowed
        if request.path.startswith("/gladly/"):  # a lookup adaptor's caller reads the protocol's error shape
            response = json_response({"errors": [{"message": err.reason}]}, status=err.status, headers=headers)
        else:
            response = error_response(request, err.status, code, err.reason, headers=headers)
    except Exception:
        log.exception("request_failed")
        response = error_response(request, 500, "internal", f"internal error (request id {request_id})")
    response.headers[REQUEST_ID_KEY] = request_id
    settings = request.app.get(SETTINGS)
    response.headers.setdefault(
        "Content-Security-Policy", content_security_policy(request.app.get(OIDC), settings.frame_origins if settings else None)
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    elapsed = time.perf_counter() - started
    log.info("http_request", status=response.status, role=request.get(ROLE), duration_ms=round(elapsed * 1000, 2), **ledger.summary())
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    HTTP_REQUESTS.labels(route, request.method, str(response.status)).inc()
    HTTP_LATENCY.labels(route, request.method).observe(elapsed)
    return response


def refuse_unknown_query(request: web.Request) -> None:
    """A query parameter the route does not document is refused, naming it (400)."""
    resource = request.match_info.route.resource
    known = query_parameters().get((resource.canonical if resource is not None else "", request.method))
    if known is None:
        return
    unknown = sorted(set(request.query) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ApiError(
            400,
            "invalid_argument",
            f"unknown query parameter {', '.join(unknown)} (this route takes: {allowed})",
            {name: "is not a parameter of this route" for name in unknown},
        )


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``Authorization: Bearer <token>`` (see ``auth``); the caller's role must be one the route
    allows, and its rate limit not spent. Binds the verified actor for every call made here."""
    if request.path in PUBLIC_PATHS or not request.path.startswith("/api/"):
        return await handler(request)
    caller = await caller_of(request)
    role = caller.actor.role
    bind_actor(caller.actor)
    structlog.contextvars.bind_contextvars(actor=caller.actor.id)
    request[CALLER] = caller
    request[ROLE] = role
    wait = request.app[LIMITER].take(caller.actor.id, caller.rate_limit_per_minute)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests from {caller.actor.name}; try again in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    if request.match_info.http_exception is not None:  # no such route or method: 404 / 405, whoever asks
        return await handler(request)
    refuse_unknown_query(request)
    allowed = getattr(request.match_info.handler, ROLES_KEY, None)
    if allowed is None:  # fail closed: a route that declares no roles is open to none
        log.error("route_declares_no_roles", path=request.path)
        raise ApiError(403, "forbidden", "this route declares no roles, so no role may use it")
    if role not in allowed:
        raise ApiError(403, "forbidden", f"the {role} role may not do this (allowed: {', '.join(sorted(allowed))})")
    return await handler(request)
