"""Vendor budgets, shared by every replica of a connector.

A vendor's limits belong to one of its keys, not to one of our processes: a
BigCommerce store's 150 requests per 30 s are shared by every app on the store,
a ReturnLogic key has 2 requests per second and 120 per minute wherever it is
used from. A budget is kept per bucket (one store, one API key, one Magento
base URL) and has two parts:

- windows: the (requests, seconds) pairs a vendor publishes, kept as a sliding
  log of request times (ReturnLogic: 2 per 1 s and 120 per 60 s);
- a block: a time before which no request may go, set from what the vendor
  answered (BigCommerce: "no requests left, the window resets in 4 s"; a 429's
  ``Retry-After``). For BigCommerce this is the budget: the store counts the
  requests of every app on it, so its own count is the only true one.

``LocalBudget`` keeps both in the process; ``shared_budget.SharedBudget`` keeps them in MongoDB for
every replica.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from linkmesh_core.errors import rate_limited
from linkmesh_core.rate_limit import SlidingWindowLimiter

log = structlog.get_logger("linkmesh.budget")

COLLECTION = "vendor_budgets"
MARGIN_S = 0.1  # the vendor counts arrivals, which lag our departures
KEEP_S = 60.0  # a bucket's document outlives its longest window by this much

Windows = Sequence[tuple[int, float]]


@dataclass
class Grant:
    """A reserved turn: ``wait`` seconds from now. ``slot`` identifies it to ``completed``."""

    key: str
    wait: float
    slot: float | None = None
    shared: bool = False
    # When the request may leave (this process's monotonic clock).
    departs: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.departs += self.wait


class Budget(Protocol):
    vendor: str

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def reserve(self, key: str, time_left: float) -> Grant:
        """The key's next turn, reserved; RESOURCE_EXHAUSTED (with the delay) at once when
        it comes later than ``time_left``."""

    async def completed(self, grant: Grant) -> None:
        """The request of ``grant`` got its answer (or failed): count it from now."""

    async def block(self, key: str, seconds: float) -> None:
        """The vendor said: no request on ``key`` for ``seconds``."""


def share_of(windows: Windows, replicas: int) -> list[tuple[int, float]]:
    """Each replica's part of ``windows`` when ``replicas`` replicas cannot coordinate: at
    most limit/replicas per window, or one per proportionally longer window."""
    if replicas <= 1:
        return list(windows)
    out = []
    for limit, seconds in windows:
        each = limit // replicas
        out.append((each, seconds) if each >= 1 else (1, seconds * replicas / limit))
    return out


def refused(vendor: str, wait: float) -> Exception:
    return rate_limited(f"{vendor} rate limit reached; retry in {wait:.1f}s", retry_after=round(wait, 3))


class LocalBudget:
    """The budget of one process: windows in a ``SlidingWindowLimiter``, blocks in a dict."""

    def __init__(self, vendor: str, windows: Windows = (), margin: float = MARGIN_S) -> None:
        self.vendor = vendor
        self.windows = list(windows)
        self._limiter = SlidingWindowLimiter(vendor, self.windows, margin=margin) if self.windows else None
        self._blocked: dict[str, float] = {}

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def reserve(self, key: str, time_left: float) -> Grant:
        now = time.monotonic()
        blocked = self._blocked.get(key, 0.0)
        if blocked - now >= time_left:
            raise refused(self.vendor, blocked - now)
        if self._limiter is None:
            return Grant(key, max(blocked - now, 0.0))
        slot = self._limiter.reserve(key, time_left, not_before=blocked)
        return Grant(key, max(slot - time.monotonic(), 0.0), slot)

    async def completed(self, grant: Grant) -> None:
        if self._limiter is not None and grant.slot is not None and not grant.shared:
            self._limiter.completed(grant.key, grant.slot)

    async def block(self, key: str, seconds: float) -> None:
        self._blocked[key] = max(self._blocked.get(key, 0.0), time.monotonic() + seconds)
