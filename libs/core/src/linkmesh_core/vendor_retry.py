"""The one retry rule of vendor requests: which failures are tried again, when, and how often.

A ``Transient`` failure (a 5xx, a timed-out attempt, a broken connection, a 429) is worth
another attempt if the request is safe to send again: a read, or a write that never left
(``not_sent``). The pause after attempt n is 0.1 s doubling, with up to 0.1 s of jitter so
replicas do not retry in step, never over 1 s; no attempt starts whose pause would end past
the deadline. A plain loop: it costs nothing on the way of a request that succeeds at once
(a general retry library spent about 23 us of CPU on each).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Transient(Exception):
    """A failure worth another attempt, if the request is safe to send again:
    a read, or a write that never reached the vendor (``not_sent``)."""

    def __init__(self, message: str, *, not_sent: bool = False, debug: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.not_sent = not_sent
        self.debug = debug


def backoff_s(attempt: int) -> float:
    """The pause after failed attempt ``attempt`` (1, 2, ...)."""
    return min(0.1 * 2 ** (attempt - 1) + random.uniform(0.0, 0.1), 1.0)


async def with_retries(attempt: Callable[[], Awaitable[T]], *, safe: bool, max_attempts: int, within_s: float) -> T:
    """``attempt``'s answer; a ``Transient`` failure of it is tried again while the request
    is safe to send again, attempts last (``max_attempts`` in all) and the pause ends within
    ``within_s`` of the first attempt's start. The last failure is raised as it was."""
    started = time.monotonic()
    attempts = 1
    while True:
        try:
            return await attempt()
        except Transient as exc:
            pause = backoff_s(attempts)
            if not (safe or exc.not_sent) or attempts >= max_attempts or time.monotonic() - started + pause >= within_s:
                raise
        await asyncio.sleep(pause)
        attempts += 1
