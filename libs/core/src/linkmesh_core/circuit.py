"""Circuit breakers: a system known to be down answers its failure at once.

One breaker per key (an app). After ``threshold`` consecutive failures that say
the system is down or too slow (UNAVAILABLE, DEADLINE_EXCEEDED), the breaker
opens: calls fail at once with UNAVAILABLE, the time left before the next try
(``retry_after``) and ``NOT_SENT`` (nothing was sent, so an action's key is
free again). After ``cooldown_s`` one call is let through as a probe (half
open): its success closes the breaker, its failure opens it again. A refusal by
the vendor (a bad query, a rate limit, an unknown customer) is an answer, not
an outage, and closes the breaker like a success.

The state lives in each process (each replica learns on its own within a few
calls); it is exported as the ``linkmesh_circuit_open`` gauge and shown in the
lookup debugger.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from prometheus_client import Counter, Gauge

from linkmesh_core.errors import NOT_SENT, ServiceError, unavailable

TRIPPING = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
CIRCUIT_OPEN = Gauge("linkmesh_circuit_open", "1 while calls to an app are refused after repeated failures", ["app_id"])
CIRCUIT_TRIPS = Counter("linkmesh_circuit_trips_total", "Times an app's circuit opened", ["app_id"])
CIRCUIT_SHORT = Counter("linkmesh_circuit_short_circuited_total", "Calls answered at once because the app's circuit was open", ["app_id"])

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass
class Snapshot:
    state: str
    consecutive_failures: int
    last_error: str
    retry_in_s: float
    #: Wall-clock seconds of the last answer (a refusal is one) and of the last failure; 0: never.
    last_success_at: float = 0.0
    last_failure_at: float = 0.0


class CircuitBreaker:
    def __init__(
        self, key: str, name: str, *, threshold: int = 3, cooldown_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.key = key
        self.name = name
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._last_error = ""
        self._last_success_at = 0.0
        self._last_failure_at = 0.0

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        return HALF_OPEN if self._clock() - self._opened_at >= self.cooldown_s else OPEN

    def before_call(self) -> None:
        """Raises the fast failure when the system is known to be down; lets one probe through after the pause."""
        state = self.state
        if state == CLOSED:
            return
        if state == HALF_OPEN and not self._probing:
            self._probing = True
            return
        assert self._opened_at is not None
        wait = max(self._opened_at + self.cooldown_s - self._clock(), 0.0)
        CIRCUIT_SHORT.labels(self.key).inc()
        raise unavailable(
            f"{self.name} failed {self._failures} times in a row ({self._last_error}); it is not called again for {wait:.0f}s",
            retry_after=round(wait, 3) or 0.5,
            outcome=NOT_SENT,
        )

    def release(self) -> None:
        """A call it let through ended without an outcome (cancelled): the next one may probe."""
        self._probing = False

    def record(self, err: ServiceError | None) -> None:
        """The outcome of a call that ``before_call`` let through (None: it answered)."""
        self._probing = False
        if err is None or err.code not in TRIPPING:
            self._last_success_at = time.time()
            if self._opened_at is not None:
                CIRCUIT_OPEN.labels(self.key).set(0)
            self._failures, self._opened_at = 0, None
            return
        self._failures += 1
        self._last_error = err.message[:200]
        self._last_failure_at = time.time()
        if self._failures >= self.threshold:
            if self._opened_at is None:
                CIRCUIT_TRIPS.labels(self.key).inc()
            self._opened_at = self._clock()  # (re)opened: a failed probe starts a new pause
            CIRCUIT_OPEN.labels(self.key).set(1)

    def snapshot(self) -> Snapshot:
        wait = max(self._opened_at + self.cooldown_s - self._clock(), 0.0) if self._opened_at is not None else 0.0
        return Snapshot(self.state, self._failures, self._last_error, round(wait, 3), self._last_success_at, self._last_failure_at)


class CircuitBreakers:
    """One breaker per key, made on first use."""

    def __init__(self, *, threshold: int = 3, cooldown_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, key: str, name: str) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = CircuitBreaker(
                key, name, threshold=self.threshold, cooldown_s=self.cooldown_s, clock=self._clock
            )
        breaker.name = name
        return breaker

    def forget(self, key: str) -> None:
        """The key is gone (a deleted app): its breaker and its gauge go too."""
        if self._breakers.pop(key, None) is not None:
            try:
                CIRCUIT_OPEN.remove(key)
            except KeyError:  # never opened: no gauge to remove
                pass
