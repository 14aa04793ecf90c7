"""Domain errors and their mapping to gRPC status (with rich details) and back.

A service raises ``ServiceError`` (or a subclass); the gRPC interceptor turns it
into a status with a human message, a ``google.rpc.BadRequest`` detail naming
every bad field and a ``google.rpc.RetryInfo`` detail with the retry delay.
Clients turn an ``grpc.aio.AioRpcError`` back into a ``ServiceError`` with
``from_rpc_error`` so the edge can answer the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


@dataclass
class ServiceError(Exception):
    code: grpc.StatusCode
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def to_status(self) -> grpc.Status:
        details = []
        if self.fields:
            bad = error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in self.fields.items()
                ]
            )
            packed = any_pb2.Any()
            packed.Pack(bad)
            details.append(packed)
        if self.retry_after is not None:
            seconds = max(self.retry_after, 0.0)
            info = error_details_pb2.RetryInfo(
                retry_delay=duration_pb2.Duration(seconds=int(seconds), nanos=int((seconds % 1) * 1e9))
            )
            packed = any_pb2.Any()
            packed.Pack(info)
            details.append(packed)
        status = status_pb2.Status(code=self.code.value[0], message=self.message, details=details)
        return rpc_status.to_status(status)

    @classmethod
    def from_rpc_error(cls, err: grpc.aio.AioRpcError | grpc.RpcError) -> "ServiceError":
        code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN
        message = err.details() if callable(getattr(err, "details", None)) else str(err)
        fields: dict[str, str] = {}
        retry_after: float | None = None
        try:
            status = rpc_status.from_call(err)  # type: ignore[arg-type]
        except Exception:  # malformed or foreign details: keep code and message
            status = None
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
        return cls(code or grpc.StatusCode.UNKNOWN, message or "", fields, retry_after)


def invalid_argument(message: str, fields: dict[str, str] | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.INVALID_ARGUMENT, message, dict(fields or {}))


def not_found(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str, fields: dict[str, str] | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.ALREADY_EXISTS, message, dict(fields or {}))


def failed_precondition(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.FAILED_PRECONDITION, message)


def unavailable(message: str, retry_after: float | None = None) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAVAILABLE, message, retry_after=retry_after)


def resource_exhausted(message: str, retry_after: float | None) -> ServiceError:
    return ServiceError(grpc.StatusCode.RESOURCE_EXHAUSTED, message, retry_after=retry_after)


def deadline_exceeded(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.DEADLINE_EXCEEDED, message)


def unauthenticated(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAUTHENTICATED, message)
