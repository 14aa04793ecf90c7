"""Benchmark: the gRPC floor per call, and what linkmesh's own call plumbing adds to it.

One process, one event loop (uvloop, as the services run), a health check answered over
loopback, sequential calls; CPU microseconds per call (client and server together, from
``time.process_time``), median of ``--repeats`` runs of ``--calls`` calls:

- floor: a bare ``grpc.aio`` channel and server;
- mesh channel: the channel every linkmesh client opens (``channels.open_channel``: the
  request id and actor carried on each call, the call counted on the request's ledger);
- mesh channel and server: with the server's request-context interceptor too (binding the
  request's context, the canonical log line rendered as JSON, metrics);
- HTTP/1.1 for comparison: the same exchange as an aiohttp GET answered with a small JSON body
  by an aiohttp server (what a connector's vendor request and the gateway's own request cost at
  the least): the transport's share of a call, gRPC's against plain HTTP's.

Each is printed as a ratio to the floor measured in the same run.

    .venv/bin/python bench/grpc_floor.py [--calls 3000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import grpc
import structlog
import uvloop
from aiohttp import web
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from linkmesh_core import logging as linkmesh_logging
from linkmesh_core.channels import open_channel
from linkmesh_core.request_context import RequestContextInterceptor

HTTP = "HTTP/1.1 (aiohttp, JSON)"


def quiet_json_logs() -> None:
    """Logging as the services configure it (JSON lines), written to /dev/null."""
    linkmesh_logging._state["out"] = linkmesh_logging._Out(os.open(os.devnull, os.O_WRONLY))  # stderr left alone
    linkmesh_logging.configure_logging("bench", json_logs=True)
    sys.excepthook = sys.__excepthook__  # a failure of the benchmark itself is shown, not logged to /dev/null


async def cpu_per_call(call: Callable[[], Awaitable[Any]], calls: int, concurrency: int) -> float:
    """CPU seconds per ``call`` (after 200 to warm up), ``concurrency`` of them in flight."""

    async def worker(n: int) -> None:
        for _ in range(n):
            await call()

    await worker(200)
    started = time.process_time()
    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    return (time.process_time() - started) / (calls // concurrency * concurrency)


async def per_call(calls: int, mesh_channel: bool, interceptor: bool, concurrency: int = 1) -> float:
    """CPU seconds per call, client and server together, ``concurrency`` calls in flight."""
    server = grpc.aio.server(interceptors=[RequestContextInterceptor(service="bench")] if interceptor else [])
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    target = f"127.0.0.1:{port}"
    channel = open_channel(target) if mesh_channel else grpc.aio.insecure_channel(target)
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest()
    structlog.contextvars.bind_contextvars(request_id="0123456789abcdef0123456789abcdef")
    try:
        return await cpu_per_call(lambda: stub.Check(request, timeout=5), calls, concurrency)
    finally:
        await channel.close()
        await server.stop(0)


async def http_per_call(calls: int, concurrency: int = 1) -> float:
    """CPU seconds per aiohttp GET and JSON answer, client and server together."""
    app = web.Application()

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"status": "SERVING"})

    app.router.add_get("/health", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:

            async def one() -> None:
                async with session.get(f"http://127.0.0.1:{port}/health", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    await resp.json()

            return await cpu_per_call(one, calls, concurrency)
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    quiet_json_logs()
    kinds = {"floor (bare grpc.aio)": (False, False), "mesh channel": (True, False), "mesh channel and server": (True, True)}
    runs: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.repeats):  # interleaved, so a slower moment of the machine touches every kind
        for kind, (channel, interceptor) in kinds.items():
            runs[kind].append(uvloop.run(per_call(args.calls, channel, interceptor)))
        runs.setdefault(HTTP, []).append(uvloop.run(http_per_call(args.calls)))
    floor = statistics.median(runs["floor (bare grpc.aio)"])
    print(f"CPU per unary call, client and server in one process, median of {args.repeats} x {args.calls} calls")
    for kind, values in runs.items():
        value = statistics.median(values)
        print(f"  {kind:<26} {value * 1e6:6.0f} us   {value / floor:4.2f}x the floor")


if __name__ == "__main__":
    main()
