"""Domain errors and their mapping to gRPC status (with rich details) and back.

A service raises ``ServiceError`` (or a subclass); the gRPC interceptor turns it
into a status with a human message, a ``google.rpc.BadRequest`` detail naming
every bad field and a ``google.rpc.RetryInfo`` detail with the retry delay.
Clients turn an ``grpc.aio.AioRpcError`` back into a ``ServiceError`` with
``from_rpc_error`` so the edge can answer the same fields.

Two more details travel with an error:
- ``outcome`` (a ``google.rpc.ErrorInfo`` reason): for a request that may have
  changed a vendor's state, ``NOT_SENT`` says nothing reached the vendor (the
  caller may try again) and ``OUTCOME_UNKNOWN`` says the vendor may have acted
  (the caller must not repeat it blindly). No reason: nothing is claimed.
- ``debug``: the vendor's raw answer, for the lookup debugger only; an edge
  that answers people never shows it.
- ``app_id`` (``ErrorInfo`` metadata): the error is that app's system failing, not
  the request: a search of that app reports it as the app's failure.

Every error a linkmesh server answers is marked with the ``linkmesh`` domain, so
a client can tell it from one gRPC itself made up (a peer that could not be
reached, an answer too large for its metadata), whose message names internal
addresses and is replaced here. Such an error is ``foreign``: it claims nothing
about what the peer did, so an action that met one has an unknown outcome, and
only an explicit ``NOT_SENT`` in linkmesh's domain ever says nothing was sent.

Every text that travels in the details is cut by its UTF-8 bytes, not its
characters (a vendor's page in a legacy encoding decodes to U+FFFD, 3 bytes
each), so the whole status stays well under gRPC's 8 KiB metadata limit: an
error that overflowed it would arrive as the channel's own RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "linkmesh"
NOT_SENT: Final = "NOT_SENT"
OUTCOME_UNKNOWN: Final = "OUTCOME_UNKNOWN"
Outcome = Literal["NOT_SENT", "OUTCOME_UNKNOWN"]
# Trailing metadata that tells a gRPC client never to retry this answer by
# service config (gRFC A6 server pushback): an answer from the application is
# final; only transport failures are retried.
NO_RETRY = ("grpc-retry-pushback-ms", "-1")
# Byte budgets of the texts an error carries. It travels in gRPC trailing metadata (8 KiB by
# default): the message twice (grpc-message, percent-encoded, up to 3 bytes a byte; and in the
# details), the debug text, the fields (names and descriptions cut, the first ones listed, all
# of them within MAX_FIELDS_BYTES), so even an error about huge values stays near 5 KiB.
MAX_MESSAGE = 512
MAX_DEBUG = 1024
MAX_FIELD = 200
MAX_FIELDS = 20
MAX_FIELDS_BYTES = 1024
# What gRPC says when it could not reach the peer; these texts name addresses.
TRANSPORT_MESSAGES = {
    grpc.StatusCode.UNAVAILABLE: "could not be reached",
    grpc.StatusCode.DEADLINE_EXCEEDED: "did not answer in time",
    grpc.StatusCode.CANCELLED: "cancelled the call",
}


def clip(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, never inside a character."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - 3].decode("utf-8", "ignore") + "…"


def clip_fields(fields: dict[str, str]) -> list[tuple[str, str]]:
    """The first fields, each name and description clipped, all within MAX_FIELDS_BYTES."""
    out: list[tuple[str, str]] = []
    budget = MAX_FIELDS_BYTES
    for name, description in list(fields.items())[:MAX_FIELDS]:
        pair = (clip(name, MAX_FIELD), clip(description, MAX_FIELD))
        size = len(pair[0].encode()) + len(pair[1].encode())
        if size > budget:
            break
        budget -= size
        out.append(pair)
    return out


@dataclass
class ServiceError(Exception):
    code: grpc.StatusCode
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    outcome: Outcome | None = None
    debug: str = ""
    app_id: str = ""
    # Made up by gRPC (no linkmesh ErrorInfo): the peer may or may not have acted.
    foreign: bool = False
    # The lookup trace the profile service kept of this failure (its debugger shows it); never sent.
    trace: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def to_status(self, *, with_debug: bool = True) -> grpc.Status:
        converted = rpc_status.to_status(self.to_rpc_status(with_debug=with_debug))
        return _Status(converted.code, converted.details, (*converted.trailing_metadata, NO_RETRY))

    def to_rpc_status(self, *, with_debug: bool = True) -> status_pb2.Status:
        """The error as a ``google.rpc.Status``: what ``to_status`` sends in trailing metadata,
        and what an answer holding several outcomes (SearchEach) carries in its body."""
        details = []
        info = error_details_pb2.ErrorInfo(
            reason=self.outcome or "", domain=DOMAIN, metadata={"app_id": clip(self.app_id, MAX_FIELD)} if self.app_id else None
        )
        packed = any_pb2.Any()
        packed.Pack(info)
        details.append(packed)
        if self.debug and with_debug:
            packed = any_pb2.Any()
            packed.Pack(error_details_pb2.DebugInfo(detail=clip(self.debug, MAX_DEBUG)))
            details.append(packed)
        if self.fields:
            bad = error_details_pb2.BadRequest(
                field_violations=[error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in clip_fields(self.fields)]
            )
            packed = any_pb2.Any()
            packed.Pack(bad)
            details.append(packed)
        if self.retry_after is not None:
            seconds = max(self.retry_after, 0.0)
            info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=int(seconds), nanos=int((seconds % 1) * 1e9)))
            packed = any_pb2.Any()
            packed.Pack(info)
            details.append(packed)
        return status_pb2.Status(code=self.code.value[0], message=clip(self.message, MAX_MESSAGE), details=details)

    @classmethod
    def from_rpc_error(cls, err: grpc.aio.AioRpcError | grpc.RpcError, peer: str = "the service") -> ServiceError:
        """The error a linkmesh server answered; an error gRPC made up itself
        (``peer`` could not be reached) gets a message that names no address."""
        code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN
        message = err.details() if callable(getattr(err, "details", None)) else str(err)
        try:
            status = rpc_status.from_call(err)
        except Exception:  # malformed or foreign details: keep code and message
            status = None
        return cls._from_details(code, message, status, peer)

    @classmethod
    def from_rpc_status(cls, status: status_pb2.Status, peer: str = "the service") -> ServiceError:
        """The error a ``google.rpc.Status`` in an answer's body holds (``to_rpc_status``'s)."""
        code = _CODES.get(status.code, grpc.StatusCode.UNKNOWN)
        return cls._from_details(code, status.message, status, peer)

    @classmethod
    def _from_details(cls, code: grpc.StatusCode | None, message: str, status: status_pb2.Status | None, peer: str) -> ServiceError:
        fields: dict[str, str] = {}
        retry_after: float | None = None
        outcome: Outcome | None = None
        debug = ""
        app_id = ""
        ours = False
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    fields.update({v.field: v.description for v in bad.field_violations})
                elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                    info = error_details_pb2.RetryInfo()
                    detail.Unpack(info)
                    retry_after = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
                elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    error_info = error_details_pb2.ErrorInfo()
                    detail.Unpack(error_info)
                    if error_info.domain != DOMAIN:
                        continue
                    ours = True
                    if error_info.reason in (NOT_SENT, OUTCOME_UNKNOWN):
                        outcome = error_info.reason
                    app_id = error_info.metadata.get("app_id", "")
                elif detail.Is(error_details_pb2.DebugInfo.DESCRIPTOR):
                    debug_info = error_details_pb2.DebugInfo()
                    detail.Unpack(debug_info)
                    debug = debug_info.detail
        code = code or grpc.StatusCode.UNKNOWN
        if not ours:
            what = TRANSPORT_MESSAGES.get(code, "failed")
            return cls(code, f"{peer} {what} ({code.name})", foreign=True)
        return cls(code, message or "", fields, retry_after, outcome, debug, app_id)

    def public(self) -> ServiceError:
        """The same error without the vendor's raw answer (for people and other services)."""
        return ServiceError(
            self.code, self.message, dict(self.fields), self.retry_after, self.outcome, app_id=self.app_id, foreign=self.foreign
        )


_CODES = {c.value[0]: c for c in grpc.StatusCode}


class _Status(collections.namedtuple("_Status", ("code", "details", "trailing_metadata")), grpc.Status):
    pass


def invalid_argument(message: str, fields: dict[str, str] | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.INVALID_ARGUMENT, message, dict(fields or {}))


def not_found(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str, fields: dict[str, str] | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.ALREADY_EXISTS, message, dict(fields or {}))


def failed_precondition(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.FAILED_PRECONDITION, message)


def unavailable(message: str, retry_after: float | None = None, outcome: Outcome | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAVAILABLE, message, retry_after=retry_after, outcome=outcome)


def resource_exhausted(message: str, retry_after: float | None, outcome: Outcome | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.RESOURCE_EXHAUSTED, message, retry_after=retry_after, outcome=outcome)


def rate_limited(message: str, retry_after: float | None) -> ServiceError:
    """A rate limit refused the request (ours before sending it, or the vendor's 429 before
    acting): the vendor did not act, so an action's idempotency key may be used again."""
    return resource_exhausted(message, retry_after, NOT_SENT)


def deadline_exceeded(message: str, outcome: Outcome | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.DEADLINE_EXCEEDED, message, outcome=outcome)


def unauthenticated(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAUTHENTICATED, message)
