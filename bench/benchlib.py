"""Helpers the benchmarks share: process CPU time, percentiles, a closed-loop load driver."""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from linkmesh_devstack.ports import free_port

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


PROFILE_COMMANDS = re.compile(r'^linkmesh_db_commands_total\{command="[^"]+"\} ([0-9.e+]+)$', re.M)


def profile_db_commands(metrics_port: str) -> float:
    """Database commands the profile service has sent so far, for requests and beside them (its
    /metrics on ``metrics_port``): its own client ends, the connectors' apart."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
        return sum(float(count) for count in PROFILE_COMMANDS.findall(resp.read().decode()))


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


async def per_call(
    call: Callable[[], Awaitable[object]], concurrency: int, rounds: int, counters: dict[str, Callable[[], float]]
) -> tuple[Load, dict[str, float]]:
    """A warm-up of ``max(concurrency, 10)`` calls, then ``rounds`` timed ones: their load, and how
    much each of ``counters`` (a process's CPU seconds, a server's command count) grew per timed
    call. Every counter is read after the warm-up, so a figure covers the calls the timings do."""
    await closed_loop(lambda i: call(), concurrency, total=max(concurrency, 10))
    before = {name: read() for name, read in counters.items()}
    load = await closed_loop(lambda i: call(), concurrency, total=rounds)
    return load, {name: (read() - before[name]) / load.done for name, read in counters.items()}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


class LocalIssuer:
    """An OpenID Connect provider's discovery document and keys, served on loopback from a
    thread of the benchmark (started before the stack, so the gateway finds it at start-up),
    and access tokens it signs: what a person signed in to the console sends."""

    def __init__(self, audience: str = "linkmesh") -> None:
        self.audience = audience
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**public, "kid": "bench", "use": "sig", "alg": "RS256"}]}
        started = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self._serve(started)), daemon=True).start()
        if not started.wait(10):
            raise RuntimeError("the benchmark's identity provider did not start")

    async def _serve(self, started: threading.Event) -> None:
        document = {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"}

        async def discovery(_: web.Request) -> web.Response:
            return web.json_response(document)

        async def keys(_: web.Request) -> web.Response:
            return web.json_response(self.jwks)

        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", discovery)
        app.router.add_get("/jwks", keys)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        started.set()
        await asyncio.Event().wait()

    def env(self) -> dict[str, str]:
        """The gateway's settings for this provider."""
        return {"GATEWAY_OIDC_ISSUER": self.issuer, "GATEWAY_OIDC_AUDIENCE": self.audience}

    def token(self, sub: str, role: str = "agent", lifetime_s: int = 3600) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "sub": sub, "iat": now, "exp": now + lifetime_s, "groups": [role]}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "bench"})
