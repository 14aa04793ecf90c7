"""A client-side limiter that keeps a vendor key under its published limits.

Several windows at once (ReturnLogic: 2 requests per second and 120 per
minute per key), shared by every call the process makes with one key. A call
that would have to wait longer than its deadline allows fails at once with
RESOURCE_EXHAUSTED and the delay, instead of sleeping past the deadline.
What the vendor itself says (a 429 and its headers) is handled by
``VendorHTTP``'s rate-limit policy on top of this.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque

from linkmesh_core.errors import rate_limited
from linkmesh_core.outcome import note_wait


class SlidingWindowLimiter:
    def __init__(self, vendor: str, windows: list[tuple[int, float]], margin: float = 0.1) -> None:
        """``windows``: (requests, seconds) pairs, e.g. ``[(2, 1.0), (120, 60.0)]``. Each window is
        widened by ``margin`` seconds: the vendor counts arrivals, which lag our departures."""
        self.vendor = vendor
        self.windows = [(limit, seconds + margin) for limit, seconds in windows]
        self._sent: dict[str, deque[float]] = {}
        self._horizon = max(seconds for _, seconds in self.windows)

    def wait_time(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may send again (0: now)."""
        now = time.monotonic() if now is None else now
        sent = self._sent.setdefault(key, deque())
        while sent and now - sent[0] >= self._horizon:
            sent.popleft()
        wait = 0.0
        for limit, seconds in self.windows:
            recent = [t for t in sent if now - t < seconds]  # reserved slots lie ahead of now and count too
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + seconds - now)
        return wait

    def reserve(self, key: str, time_left: float, not_before: float = 0.0) -> float:
        """Reserves the key's next free slot, no earlier than ``not_before`` (monotonic), and
        answers its time; fails at once with the delay when the slot lies beyond ``time_left``.
        A slot later than the windows ask keeps to them: only fewer requests lie before it."""
        now = time.monotonic()
        slot = max(now + self.wait_time(key, now), not_before)
        if slot - now >= time_left:
            wait = slot - now
            raise rate_limited(f"{self.vendor} rate limit for this key; retry in {wait:.1f}s", retry_after=round(wait, 3))
        bisect.insort(self._sent.setdefault(key, deque()), slot)
        return slot

    async def acquire(self, key: str, time_left: float) -> float:
        """Reserves the key's next free slot and waits for it, or fails at once with the
        delay when the slot lies beyond ``time_left``; answers the slot's time, to pass
        to ``completed``. The reservation is made before waiting (no lock is held while
        sleeping), so every caller knows at once when its turn comes."""
        slot = self.reserve(key, time_left)
        wait = slot - time.monotonic()
        if wait > 0:
            note_wait(wait)
            await asyncio.sleep(wait)
        return slot

    def completed(self, key: str, slot: float) -> None:
        """The request of ``slot`` got its answer: count it from now. The vendor
        counted it when it arrived, somewhere between sending and answering, so
        the answer's time is the safe one however long the request travelled."""
        sent = self._sent.get(key)
        if sent is None:
            return
        try:
            sent.remove(slot)
        except ValueError:
            return
        sent.append(time.monotonic())
        self._sent[key] = deque(sorted(sent))
