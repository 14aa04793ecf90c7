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

Then the same bare exchanges paced as at one caller in the mesh: the server in a process of its
own, one call at a time, ``--gaps`` milliseconds apart, the server's CPU and the client's apart.
A process woken after it idled pays more for the same work (caches and predictors cold after
other processes ran, the scheduler's wake-up), the more the longer it idled: at one caller every
process of the mesh idles between its calls, so its figures stand on this floor, not the
back-to-back one.

    .venv/bin/python bench/grpc_floor.py [--calls 3000] [--repeats 5] [--gaps 0,5,80] [--paced-calls 150]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import structlog
import uvloop
from aiohttp import web
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from pymongo import AsyncMongoClient

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


async def _http_server() -> tuple[web.AppRunner, int]:
    """An aiohttp server answering ``GET /health`` with a small JSON body, and its port."""
    app = web.Application()

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"status": "SERVING"})

    app.router.add_get("/health", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


async def http_per_call(calls: int, concurrency: int = 1) -> float:
    """CPU seconds per aiohttp GET and JSON answer, client and server together."""
    runner, port = await _http_server()
    try:
        async with aiohttp.ClientSession() as session:

            async def one() -> None:
                async with session.get(f"http://127.0.0.1:{port}/health", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    await resp.json()

            return await cpu_per_call(one, calls, concurrency)
    finally:
        await runner.cleanup()


async def database_per_call(uri: str, calls: int, concurrency: int = 1) -> float:
    """The client's CPU seconds per ``find_one`` by ``_id`` (PyMongo's async client, as the profile
    service uses it): the least a database call costs the process that makes it, the server's
    work being in its own process."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True, timeoutMS=5000)
    try:
        things = client["linkmesh_bench_floor"]["things"]
        await things.replace_one({"_id": 1}, {"name": "floor"}, upsert=True)
        return await cpu_per_call(lambda: things.find_one({"_id": 1}), calls, concurrency)
    finally:
        await client.drop_database("linkmesh_bench_floor")
        await client.close()


async def _serve(kind: str) -> None:
    """The bare server of a paced measurement, in a process of its own: prints its port, then
    answers each line on stdin with the CPU seconds it has used (every thread, microseconds) and
    the times its threads went to sleep and were woken (voluntary context switches)."""
    if kind == "grpc":
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
    else:
        runner, port = await _http_server()  # kept (a local) while the server answers
    print(port, flush=True)
    done = asyncio.get_running_loop().create_future()

    def answer_cpu() -> None:  # a thread: reading stdin wakes nothing else in the server
        for _ in sys.stdin:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            print(usage.ru_utime + usage.ru_stime, usage.ru_nvcsw, flush=True)
        done.get_loop().call_soon_threadsafe(done.set_result, None)

    threading.Thread(target=answer_cpu, daemon=True).start()
    await done


@dataclass
class Paced:
    """CPU seconds per call of each end, one call at a time ``gap_s`` apart, and the times the
    server's threads slept and were woken per call."""

    gap_s: float
    server: float
    client: float
    server_wakes: float

    @property
    def call(self) -> float:
        return self.server + self.client


async def paced_per_call(kind: str, gap_s: float, calls: int) -> Paced:
    """A bare ``kind`` exchange ("grpc" or "http") with the server in its own process, one call
    at a time, each after ``gap_s`` of idling (the client's CPU includes its wake-up from that
    idling, as a process of the mesh wakes to a request before it calls on)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", kind, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    async def server_use() -> tuple[float, int]:
        stdin.write(b"cpu\n")
        await stdin.drain()
        cpu, wakes = (await stdout.readline()).split()
        return float(cpu), int(wakes)

    port = int(await stdout.readline())
    try:
        async with aiohttp.ClientSession() as session:
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
            stub = health_pb2_grpc.HealthStub(channel)

            async def call() -> None:
                if kind == "grpc":
                    await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    return
                async with session.get(f"http://127.0.0.1:{port}/health", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    await resp.json()

            for _ in range(500):  # warm: a new server's first calls cost more
                await call()
            (server, wakes), client = await server_use(), time.process_time()
            for _ in range(calls):
                await asyncio.sleep(gap_s)
                await call()
            (server_after, wakes_after), client = await server_use(), time.process_time() - client
            await channel.close()
        return Paced(gap_s, (server_after - server) / calls, client / calls, (wakes_after - wakes - 1) / calls)
    finally:
        stdin.close()
        await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gaps", default="0,5,80", help="milliseconds between paced calls")
    parser.add_argument("--paced-calls", type=int, default=150)
    parser.add_argument("--serve", choices=("grpc", "http"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        uvloop.run(_serve(args.serve))
        return
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
    print(f"\nPaced: the server in its own process, one call at a time, {args.paced_calls} calls; CPU per call")
    for gap_ms in (float(g) for g in args.gaps.split(",")):
        for kind, name in (("grpc", "bare grpc.aio"), ("http", HTTP)):
            paced = uvloop.run(paced_per_call(kind, gap_ms / 1000, args.paced_calls))
            print(
                f"  {name:<26} {gap_ms:4.0f} ms apart: server {paced.server * 1e6:5.0f} us, client {paced.client * 1e6:5.0f} us, "
                f"together {paced.call * 1e6:5.0f} us = {paced.call / floor:4.2f}x the back-to-back floor; "
                f"the server's threads woken {paced.server_wakes:.1f} times a call"
            )


if __name__ == "__main__":
    main()
