"""The retry rule of vendor requests, on its own: what is tried again, how often, how long."""

from __future__ import annotations

import asyncio

import pytest

from linkmesh_core import vendor_retry
from linkmesh_core.vendor_retry import Transient, backoff_s, with_retries


class Attempts:
    """An attempt that fails with the given failures in turn, then answers ``"ok"``."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.made = 0

    async def __call__(self) -> str:
        self.made += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


async def test_a_read_is_tried_again_after_transient_failures_and_answers() -> None:
    attempt = Attempts(Transient("HTTP 502"), Transient("timed out"))
    assert await with_retries(attempt, safe=True, max_attempts=3, within_s=10) == "ok"
    assert attempt.made == 3


async def test_attempts_stop_at_the_limit_and_the_last_failure_is_raised() -> None:
    attempt = Attempts(Transient("first"), Transient("second"), Transient("third"))
    with pytest.raises(Transient, match="second"):
        await with_retries(attempt, safe=True, max_attempts=2, within_s=10)
    assert attempt.made == 2


async def test_a_write_that_may_have_left_is_sent_once() -> None:
    attempt = Attempts(Transient("HTTP 502"))
    with pytest.raises(Transient):
        await with_retries(attempt, safe=False, max_attempts=3, within_s=10)
    assert attempt.made == 1


async def test_a_write_that_never_left_is_sent_again() -> None:
    attempt = Attempts(Transient("connection refused", not_sent=True), Transient("rate limited", not_sent=True))
    assert await with_retries(attempt, safe=False, max_attempts=3, within_s=10) == "ok"
    assert attempt.made == 3


async def test_no_attempt_starts_whose_pause_would_end_past_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    attempt = Attempts(Transient("HTTP 503"), Transient("HTTP 503"))
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, *args: object) -> None:
        pauses.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(vendor_retry.asyncio, "sleep", sleep)
    with pytest.raises(Transient):
        await with_retries(attempt, safe=True, max_attempts=5, within_s=0.05)  # the first pause is at least 0.1 s
    assert attempt.made == 1
    assert pauses == [], "no pause taken: the failure is answered at once (not timed: a loaded machine stalls)"


async def test_other_failures_are_not_retried() -> None:
    attempt = Attempts(ValueError("a bug"))
    with pytest.raises(ValueError):
        await with_retries(attempt, safe=True, max_attempts=3, within_s=10)
    assert attempt.made == 1


def test_the_pause_doubles_with_jitter_and_stays_under_a_second() -> None:
    for attempt, low in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8)):
        pauses = [backoff_s(attempt) for _ in range(200)]
        assert all(low <= p <= min(low + 0.1, 1.0) for p in pauses), (attempt, min(pauses), max(pauses))
        assert len(set(pauses)) > 100  # jittered: replicas do not retry in step
    assert backoff_s(10) == 1.0
