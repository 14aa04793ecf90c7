"""What an action's failure means for its record and its idempotency key (the outcome rules).

A key is released only when the connector that held the request says, in linkmesh's own error
domain, that nothing state-changing reached the vendor (``NOT_SENT``); a definitive refusal is
kept as "failed"; anything else may have acted and is kept as "unknown".
"""

from __future__ import annotations

import hashlib
import json

import grpc
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import NOT_SENT, OUTCOME_UNKNOWN, ServiceError

DEFINITIVE = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.OUT_OF_RANGE,
}


def fingerprint(request: profile_pb2.RunActionRequest) -> str:
    body = {
        "app_id": request.app_id,
        "action": request.action,
        "order_id": request.order_id.strip(),
        "params": dict(sorted(request.params.items())),
        **({"form_url": request.form_url.strip()} if request.form_url.strip() else {}),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def settled_state(err: ServiceError) -> str | None:
    """What a failed action's record becomes: None (released: the connector said nothing
    reached the vendor), "failed" (its definitive refusal) or "unknown" (the vendor may have
    acted). An error gRPC made up (no linkmesh ErrorInfo) claims nothing: unknown, whatever
    its code."""
    if err.foreign or err.outcome == OUTCOME_UNKNOWN:
        return "unknown"
    if err.code in DEFINITIVE:
        return "failed"
    if err.outcome == NOT_SENT:
        return None
    return "unknown"


def unknown_outcome(message: str, retry_after: float | None = None) -> ServiceError:
    """The answer for an action whose outcome is unknown: gRPC UNKNOWN with the
    ``OUTCOME_UNKNOWN`` reason (the gateway's ``outcome_unknown``); never a code a client
    retries with a new key as if nothing had happened."""
    return ServiceError(grpc.StatusCode.UNKNOWN, message, retry_after=retry_after, outcome=OUTCOME_UNKNOWN)
