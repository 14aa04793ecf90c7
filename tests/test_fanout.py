"""Fan-out: every call ends as a result or a failure of its own, within the timeout."""

from __future__ import annotations

import asyncio
import time

import grpc

from linkmesh_core.errors import ServiceError
from linkmesh_core.fanout import fan_out


async def test_each_call_ends_on_its_own_within_the_timeout() -> None:
    async def fast() -> str:
        return "fast"

    async def hangs() -> str:
        await asyncio.sleep(30)
        return "never"

    async def refused() -> str:
        raise ServiceError(grpc.StatusCode.UNAVAILABLE, "down")

    async def bug() -> str:
        raise KeyError("oops")

    started = time.monotonic()
    out = await fan_out({"a": fast, "b": hangs, "c": refused, "d": bug}, timeout=0.2)
    assert time.monotonic() - started < 2, "a call that hangs is cut off at the timeout"
    assert out.results == {"a": "fast"}
    assert {k: e.code for k, e in out.failures.items()} == {
        "b": grpc.StatusCode.DEADLINE_EXCEEDED,
        "c": grpc.StatusCode.UNAVAILABLE,
        "d": grpc.StatusCode.INTERNAL,
    }


async def test_a_cancelled_fan_out_cancels_its_calls() -> None:
    cancelled = asyncio.Event()

    async def hangs() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    task = asyncio.ensure_future(fan_out({"a": hangs}, timeout=30))
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert cancelled.is_set(), "the caller's cancellation reaches the call"
