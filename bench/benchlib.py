"""Helpers the benchmarks share: process CPU time, percentiles, a closed-loop load driver."""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The sandboxes' rate limits lifted, so a benchmark measures the mesh, not a vendor's budget.
NO_VENDOR_LIMITS = {
    "SANDBOX_RATE_LIMIT_QUOTA": "100000000",
    "SANDBOX_RATE_LIMIT_PER_SECOND": "100000",
    "SANDBOX_RATE_LIMIT_PER_MINUTE": "100000000",
}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


WAITED = re.compile(r"^linkmesh_db_request_seconds_total ([0-9.e+-]+)$", re.M)


def db_waited(metrics_port: str) -> float:
    """Seconds the profile service's requests have waited on the database so far (its /metrics
    on ``metrics_port``, ``PROFILE_METRICS_PORT``): the embedded server's share of a request's
    time, which a real MongoDB shrinks."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
        found = WAITED.search(resp.read().decode())
    return float(found.group(1)) if found else 0.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Load:
    done: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.done / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


async def closed_loop(
    call: Callable[[int], Awaitable[object]], concurrency: int, *, seconds: float | None = None, total: int | None = None
) -> Load:
    """``concurrency`` workers call ``call(i)`` back to back, for ``seconds`` or ``total`` calls."""
    latencies: list[float] = []
    counter = iter(range(10**12))
    started = time.perf_counter()
    stop_at = started + seconds if seconds else float("inf")

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            i = next(counter)
            if total is not None and i >= total:
                return
            t0 = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Load(len(latencies), time.perf_counter() - started, latencies)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"
