"""Errors at the HTTP edge: ``{"error": {"code", "message", "fields"}}``, or RFC 9457 problem
details (``application/problem+json``) to a caller whose Accept header asks for them.

Domain errors arrive as gRPC status from the profile service and map to HTTP
here, in one place.
"""

from __future__ import annotations

import math

import grpc
from aiohttp import web

from linkmesh_core.errors import OUTCOME_UNKNOWN, ServiceError
from linkmesh_gateway.responses import json_response

# gRPC code → HTTP status. UNAUTHENTICATED from below means a vendor refused an
# app's credentials (the caller's own auth is 401 "unauthorized" at this edge),
# so it is a bad gateway, not the caller's fault.
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.UNAUTHENTICATED: 502,
    grpc.StatusCode.PERMISSION_DENIED: 502,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNIMPLEMENTED: 501,
}


PROBLEM_JSON = "application/problem+json"
# A problem's type: a URI naming the error code (RFC 9457 3.1.1), stable like the code itself.
PROBLEM_TYPE = "urn:linkmesh:problem:"


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {})}}


def wants_problem(request: web.Request | None) -> bool:
    """Whether the caller asked for RFC 9457 problem details (``Accept: application/problem+json``)."""
    if request is None:
        return False
    return any(part.split(";")[0].strip().lower() == PROBLEM_JSON for part in request.headers.get("Accept", "").split(","))


def problem_body(status: int, code: str, message: str, fields: dict[str, str] | None, instance: str) -> dict[str, object]:
    """RFC 9457 problem details; ``code`` and ``fields`` (each bad field and why) are extension members."""
    return {
        "type": PROBLEM_TYPE + code,
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": message,
        "instance": instance,
        "code": code,
        "fields": dict(fields or {}),
    }


def error_response(
    request: web.Request | None,
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The error answer in the shape the caller asked for: the API's envelope, or problem details."""
    if wants_problem(request):
        assert request is not None
        return json_response(
            problem_body(status, code, message, fields, request.path), status=status, headers=headers, content_type=PROBLEM_JSON
        )
    return json_response(error_body(code, message, fields), status=status, headers=headers)


class ApiError(Exception):
    """An HTTP error the middleware renders with the API's JSON error body."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    def response(self, request: web.Request | None = None) -> web.Response:
        return error_response(request, self.status, self.code, self.message, self.fields, self.headers)


def invalid(fields: dict[str, str], message: str = "the request is invalid") -> ApiError:
    return ApiError(422, "invalid_argument", message, fields)


# An action the vendor may have carried out: its own code, and a status no client mistakes for
# "try again with a new key" (503/504). The same Idempotency-Key answers its outcome later.
OUTCOME_UNKNOWN_STATUS = 502
OUTCOME_UNKNOWN_CODE = "outcome_unknown"


def outcome_unknown(err: ServiceError) -> ApiError:
    """The answer for an action whose outcome is unknown, whoever failed: the connector (its
    message says what happened) or the profile service behind this gateway (gRPC made the
    error up: the action may have run there)."""
    if err.foreign:
        message = (
            f"{err.message}: the action may have run. Send it again with the same Idempotency-Key to learn its "
            "outcome; a new key could run it twice"
        )
    else:
        message = err.message
    headers = {"Retry-After": str(max(math.ceil(err.retry_after), 1))} if err.retry_after is not None else None
    return ApiError(OUTCOME_UNKNOWN_STATUS, OUTCOME_UNKNOWN_CODE, message, headers=headers)


def from_action_error(err: ServiceError) -> ApiError:
    """An action's failure: unknown when the service said so, and when gRPC made the error up
    after the request left (the profile service may have run it); otherwise as any error."""
    if err.foreign or err.outcome == OUTCOME_UNKNOWN:
        return outcome_unknown(err)
    return from_service_error(err)


def from_service_error(err: ServiceError) -> ApiError:
    if err.outcome == OUTCOME_UNKNOWN:
        return outcome_unknown(err)
    status = HTTP_STATUS.get(err.code, 500)
    if err.code == grpc.StatusCode.INVALID_ARGUMENT and err.fields:
        status = 422
    headers = {"Retry-After": str(max(math.ceil(err.retry_after), 1))} if err.retry_after is not None else None
    code = err.code.name.lower() if status != 500 else "internal"
    message = err.message if status != 500 else "internal error"
    return ApiError(status, code, message, err.fields, headers)
