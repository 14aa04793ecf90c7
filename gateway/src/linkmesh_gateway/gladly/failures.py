"""The status of each failure a served adaptor answers, in the protocol's error shape
(``{"errors": [{"message"} | {"attr", "detail"}]}``).

The profile service answers in gRPC codes; what they mean to a caller of the protocol depends
on what was asked:
- verifying the request: UNAUTHENTICATED is the caller's (401: missing, a clock problem, does
  not verify, a replay);
- a lookup: NOT_FOUND is an answer (200 with no results); the vendor refusing the app's
  credentials is linkmesh's problem, not the caller's (502); an app inactive or no longer
  served is unavailable (503);
- an action's form: no such action is 404, an app inactive or with actions off 406;
- an action's run: ``200 {message, detail}`` is done; ``400`` names what to correct (nothing
  ran); ``406`` is a refusal; ``429`` a rate limit (nothing was sent). An outcome that is unknown
  (the vendor may have acted) answers ``502`` (``503`` while the first attempt with that
  correlation id still runs), so a caller never mistakes it for a refusal it may simply retry.
A failure gRPC made up (the profile service did not answer) is 503, or 504 past the budget;
on an action's run it says that the outcome is unknown.
"""

from __future__ import annotations

import math
from typing import Any

import grpc
from aiohttp import web

from linkmesh_core.errors import OUTCOME_UNKNOWN, ServiceError
from linkmesh_core.gladly_signing import compact_json

Code = grpc.StatusCode
LOOKUP_STATUS = {
    Code.INVALID_ARGUMENT: 400,
    Code.FAILED_PRECONDITION: 503,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.DEADLINE_EXCEEDED: 504,
    Code.UNAUTHENTICATED: 502,
    Code.PERMISSION_DENIED: 502,
}
NOTHING_SENT = (Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL, Code.UNKNOWN)


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=compact_json(body), content_type="application/json", headers=headers)


def refusal(status: int, message: str, retry_after: float | None = None) -> web.Response:
    headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None and status in (429, 503) else None
    return answer(status, {"errors": [{"message": message}]}, headers)


def unanswered(err: ServiceError, *, acting: bool = False) -> web.Response:
    """The profile service did not answer (gRPC made the error up)."""
    late = err.code == Code.DEADLINE_EXCEEDED
    message = "linkmesh did not answer within the protocol's 15 s budget" if late else "linkmesh did not answer"
    if acting:
        message += "; the action's outcome is unknown: check the order before trying again"
    return refusal(504 if late else 503, message)


def verify_failure(err: ServiceError) -> web.Response:
    if err.foreign:
        return unanswered(err)
    if err.code == Code.UNAUTHENTICATED:
        return refusal(401, err.message)
    return refusal(LOOKUP_STATUS.get(err.code, 503), err.message, err.retry_after)


def lookup_failure(err: ServiceError) -> web.Response:
    if err.foreign:
        return unanswered(err)
    if err.code == Code.NOT_FOUND:
        return answer(200, {"results": []})
    return refusal(LOOKUP_STATUS.get(err.code, 503), err.message, err.retry_after)


def form_failure(err: ServiceError) -> web.Response:
    if err.foreign:
        return unanswered(err)
    if err.code == Code.INVALID_ARGUMENT:
        return refusal(404, err.message)
    if err.code == Code.FAILED_PRECONDITION:
        return refusal(406, err.message)
    return run_failure(err)


def run_failure(err: ServiceError) -> web.Response:
    if err.foreign:
        return unanswered(err, acting=True)
    if err.outcome == OUTCOME_UNKNOWN:
        return refusal(502, err.message)
    if err.code == Code.ABORTED:  # the first attempt with this correlation id runs still, or its outcome is unknown
        return refusal(503, err.message, err.retry_after)
    if err.code == Code.INVALID_ARGUMENT:
        if set(err.fields) == {"action"}:
            return refusal(404, err.message)  # no such action at this URL
        errors = [
            {"attr": f.removeprefix("params."), "detail": d} if f.startswith("params.") else {"message": f"{f}: {d}"}
            for f, d in err.fields.items()
        ]
        return answer(400, {"errors": errors or [{"message": err.message}]})
    if err.code == Code.RESOURCE_EXHAUSTED:
        return refusal(429, err.message, err.retry_after)
    if err.code in NOTHING_SENT:
        return refusal(503, err.message, err.retry_after)  # nothing reached the vendor (or it would say OUTCOME_UNKNOWN): try again later
    return refusal(406, err.message)
