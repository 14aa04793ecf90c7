"""The circuit breaker's rules, on an injected clock."""

from __future__ import annotations

import grpc
import pytest

from linkmesh_core.circuit import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from linkmesh_core.errors import NOT_SENT, ServiceError, invalid_argument, resource_exhausted, unavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def down() -> ServiceError:
    return unavailable("BigCommerce is unavailable: connection failed")


def test_opens_after_consecutive_failures_and_answers_at_once() -> None:
    clock = Clock()
    breaker = CircuitBreaker("app1", "Store", threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record(down())
    assert breaker.state == CLOSED
    breaker.before_call()
    breaker.record(ServiceError(grpc.StatusCode.DEADLINE_EXCEEDED, "slow"))
    assert breaker.state == OPEN
    clock.now += 4
    with pytest.raises(ServiceError) as info:
        breaker.before_call()
    err = info.value
    assert err.code == grpc.StatusCode.UNAVAILABLE and err.outcome == NOT_SENT and err.retry_after == 6
    assert "Store failed 3 times in a row (slow)" in err.message
    snap = breaker.snapshot()
    assert (snap.state, snap.consecutive_failures, snap.retry_in_s) == (OPEN, 3, 6)


def test_after_the_pause_one_probe_goes_through_and_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker("app1", "Store", threshold=1, cooldown_s=10, clock=clock)
    breaker.before_call()
    breaker.record(down())
    clock.now += 10
    assert breaker.state == HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(ServiceError):
        breaker.before_call()  # only one at a time
    breaker.record(down())
    assert breaker.state == OPEN, "a failed probe starts a new pause"
    clock.now += 10
    breaker.before_call()
    breaker.record(None)
    assert breaker.state == CLOSED and breaker.snapshot().consecutive_failures == 0
    breaker.before_call()


def test_refusals_are_answers_not_outages() -> None:
    breaker = CircuitBreaker("app1", "Store", threshold=2, cooldown_s=10, clock=Clock())
    for err in (down(), invalid_argument("bad query"), down(), resource_exhausted("slow down", 1.0), down()):
        breaker.before_call()
        breaker.record(err)
    assert breaker.state == CLOSED, "the failures were never consecutive"


def test_a_cancelled_probe_lets_the_next_call_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker("app1", "Store", threshold=1, cooldown_s=1, clock=clock)
    breaker.before_call()
    breaker.record(down())
    clock.now += 1
    breaker.before_call()
    breaker.release()
    breaker.before_call()
