"""Single flight: concurrent callers asking for the same key share one call.

The first caller runs the work; callers arriving while it runs await the same
result (or exception) instead of repeating it. A caller that is cancelled does
not cancel the shared work for the others.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._inflight: dict[Hashable, asyncio.Task[T]] = {}

    def __len__(self) -> int:
        return len(self._inflight)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._inflight

    def start(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> tuple[asyncio.Task[T], bool]:
        """The key's running work, started now if none runs (without yielding to the event
        loop, so a caller can start several together), and whether this call started it."""
        task = self._inflight.get(key)
        leader = task is None
        if task is None:
            task = asyncio.ensure_future(work())
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._forget, key))
        return task, leader

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The shared result, and whether this caller started the work."""
        task, leader = self.start(key, work)
        return await asyncio.shield(task), leader

    def _forget(self, key: Hashable, task: asyncio.Task[T]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved, so an unawaited failure is not logged as lost
