"""Benchmark: many replicas, one budget.

Measured in one run, as ratios against a baseline of the same run:

1. What the shared vendor budget costs per vendor call. The same ReturnLogic call
   (``GET /v1/rmas``, sandbox limits lifted so no call waits its turn) through the
   connector's HTTP client with the budget kept in the process (baseline) and kept in
   MongoDB (``SharedBudget``): time per call, and database commands per call (what carries
   over to production: a real MongoDB answers each in well under a millisecond on a LAN).
2. Throughput of 1 vs 2 profile replicas: the whole stack with two profile services over
   one MongoDB; opening fresh profiles (no vendor call, the database read and the
   rendering) from 32 concurrent callers, first against one replica (baseline), then
   balanced round-robin over both. CPU per request of the profile processes is printed
   too: the embedded database is one process on this machine, so throughput here says
   less than the CPU a request costs the service itself.

    .venv/bin/python bench/replicas.py --calls 300 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
from benchlib import NO_VENDOR_LIMITS, closed_loop, cpu_seconds, ms
from linkmesh.profile.v1 import customers_pb2_grpc, profile_pb2
from pymongo import monitoring

from linkmesh_core.budget import LocalBudget
from linkmesh_core.channels import open_channel
from linkmesh_core.logging import configure_logging
from linkmesh_core.shared_budget import SharedBudget
from linkmesh_core.vendor_http import Deadline, VendorHTTP
from linkmesh_devstack.stack import Stack
from linkmesh_returnlogic.client import WINDOWS, ReturnLogicErrors, ReturnLogicRateLimit
from linkmesh_sandboxes.returnlogic.data import API_KEY


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("hello", "ismaster", "isMaster", "ping", "endSessions", "createIndexes"):
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def shared_turn_parts(uri: str, calls: int) -> tuple[float, float, float]:
    """Seconds of each database operation of a shared turn (take it, move it to the answer), and of a plain write for scale."""
    # Each database operation of a shared turn, on its own.
    shared = SharedBudget("ReturnLogic", [(10**6, 1.0), (10**7, 60.0)], uri, database="bench")
    await shared.start()
    try:
        reserve = completed = 0.0
        for _ in range(calls):
            t0 = time.perf_counter()
            grant = await shared.reserve("parts", 10.0)
            t1 = time.perf_counter()
            await shared.completed(grant)
            reserve, completed = reserve + t1 - t0, completed + time.perf_counter() - t1
        # The plainest write the same server takes, for scale: what carries over to production is
        # the number of round trips, each well under a millisecond on a real MongoDB.
        plain = shared._collection
        await plain.update_one({"_id": "plain"}, {"$set": {"n": 0}}, upsert=True)
        t0 = time.perf_counter()
        for _ in range(calls):
            await plain.find_one_and_update({"_id": "plain"}, {"$inc": {"n": 1}})
        plain_s = (time.perf_counter() - t0) / calls
    finally:
        await shared.close()
    return reserve, completed, plain_s


async def vendor_calls(stack: Stack, calls: int) -> None:
    url = f"{stack.sandbox_url('returnlogic')}/v1/rmas"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    assert stack.mongo is not None
    listener = Commands()
    monitoring.register(listener)  # counts the budget's own client, created after this
    budgets: dict[str, Any] = {
        "in-process budget (baseline)": LocalBudget("ReturnLogic", [(10**6, 1.0)]),
        "shared budget (MongoDB)": SharedBudget("ReturnLogic", [(10**6, 1.0), (10**7, 60.0)], stack.mongo.uri, database="bench"),
    }
    results: dict[str, tuple[float, float]] = {}
    for name, budget in budgets.items():
        http = VendorHTTP(
            "ReturnLogic", rate_limit=ReturnLogicRateLimit(), errors=ReturnLogicErrors(), budget=budget, allow_private_hosts=True
        )
        await http.start()
        try:
            for _ in range(20):  # warm: connections, the budget's document and index
                await http.request(
                    "GET", url, bucket="bench", deadline=Deadline.after(10), headers=headers, params={"email": "x@example.com"}
                )
            before = listener.count
            started = time.perf_counter()
            for _ in range(calls):
                await http.request(
                    "GET", url, bucket="bench", deadline=Deadline.after(10), headers=headers, params={"email": "x@example.com"}
                )
            elapsed = time.perf_counter() - started
            results[name] = (elapsed / calls, (listener.count - before) / calls)
        finally:
            await http.close()
    reserve, completed, plain_s = await shared_turn_parts(stack.mongo.uri, calls)
    base = results["in-process budget (baseline)"][0]
    print(f"\n1. Vendor budget cost per vendor call ({calls} sequential ReturnLogic calls each, windows {WINDOWS} in production)")
    for name, (per_call, commands) in results.items():
        print(f"   {name:30s} {ms(per_call)} per call   {per_call / base:5.2f}x   {commands:.2f} database commands per call")
    print(
        f"   added by sharing: {ms(results['shared budget (MongoDB)'][0] - base)} per vendor call on the embedded server "
        f"(take the turn {ms(reserve / calls)}, move it to the answer {ms(completed / calls)})"
    )
    print(f"   one plain findOneAndUpdate ($inc) on the same server: {ms(plain_s)}; the turn costs {reserve / calls / plain_s:.1f}x that")


async def profile_throughput(stack: Stack, seconds: float, concurrency: int) -> None:
    status, contact = await asyncio.to_thread(
        stack.api, "POST", "/api/v1/contacts", "agent", {"channel": "chat", "email": "jane.smith@example.com"}
    )
    assert status == 200, contact
    customer_id = contact["customer_id"]
    ports = stack.replica_ports["profile"]
    pids = [stack.services[Stack.replica_name("profile", i)].process.pid for i in range(len(ports))]  # type: ignore[union-attr]
    rows = []
    for label, target in (("1 replica (baseline)", f"127.0.0.1:{ports[0]}"), (f"{len(ports)} replicas, round-robin", Stack.target(ports))):
        channel = open_channel(target)
        stub = customers_pb2_grpc.CustomerServiceStub(channel)

        async def one(_: int, stub: customers_pb2_grpc.CustomerServiceStub = stub) -> None:
            await stub.GetCustomer(profile_pb2.GetCustomerRequest(id=customer_id), timeout=30)

        try:
            await closed_loop(one, concurrency, total=50)  # warm
            cpu_before = sum(cpu_seconds(p) for p in pids)
            load = await closed_loop(one, concurrency, seconds=seconds)
            cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
        except grpc.aio.AioRpcError as err:
            raise SystemExit(f"profile open failed: {err.code().name} {err.details()}") from None
        finally:
            await channel.close()
        rows.append((label, load, cpu / max(load.done, 1)))
    base = rows[0][1].per_second
    print(
        f"\n2. Profile opens (fresh, no vendor call), {concurrency} concurrent callers, {seconds:g} s each; "
        f"{os.cpu_count()} CPUs, one embedded MongoDB"
    )
    for label, load, cpu in rows:
        print(
            f"   {label:30s} {load.per_second:7.1f}/s  {load.per_second / base:5.2f}x   p50 {ms(load.p50)}   "
            f"p99 {ms(load.p99)}   profile CPU {ms(cpu)} per open"
        )


async def run(stack: Stack, args: argparse.Namespace) -> None:
    await vendor_calls(stack, args.calls)
    await profile_throughput(stack, args.seconds, args.concurrency)


def main() -> None:
    configure_logging("bench", "WARNING", False)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(base_dir=Path(tmp), replicas={"profile": 2}, extra_env={**NO_VENDOR_LIMITS, "PROFILE_FRESHNESS_S": "3600"})
        stack.start()
        try:
            stack.ensure_demo_apps()
            asyncio.run(run(stack, args))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
