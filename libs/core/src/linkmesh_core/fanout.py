"""Fan-out: run many independent calls at once, each with its own deadline.

One call failing or hanging never fails or delays the others beyond the
deadline: every call ends as a result or as a ``ServiceError`` failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import grpc
import structlog

from linkmesh_core.errors import ServiceError

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
log = structlog.get_logger("linkmesh.fanout")


@dataclass
class FanOutResult(Generic[K, T]):
    results: dict[K, T]
    failures: dict[K, ServiceError]


async def fan_out(calls: Mapping[K, Callable[[], Awaitable[T]]], timeout: float, peer: str = "the service") -> FanOutResult[K, T]:
    """Runs every call concurrently; each is cut off after ``timeout`` seconds.
    ``peer`` names who the calls go to, for a failure gRPC reports itself."""

    async def one(key: K, call: Callable[[], Awaitable[T]]) -> tuple[K, T | ServiceError]:
        try:
            async with asyncio.timeout(timeout):  # no task of its own, unlike wait_for on 3.11
                return key, await call()
        except ServiceError as err:
            return key, err
        except TimeoutError:
            return key, ServiceError(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout:g}s")
        except grpc.aio.AioRpcError as err:
            return key, ServiceError.from_rpc_error(err, peer)
        except Exception as err:  # a bug in one branch must not sink the others
            log.exception("fan_out_call_failed", key=str(key))
            return key, ServiceError(grpc.StatusCode.INTERNAL, f"internal error ({type(err).__name__})")

    outcomes = await asyncio.gather(*(one(k, c) for k, c in calls.items()))
    out: FanOutResult[K, T] = FanOutResult({}, {})
    for key, value in outcomes:
        if isinstance(value, ServiceError):
            out.failures[key] = value
        else:
            out.results[key] = value
    return out
