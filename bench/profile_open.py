"""Benchmark: what opening a profile costs when its linked data is fresh.

Starts the whole stack, links one customer to all three demo systems (each
sandbox answering with a fixed latency), then measures in the same run:

- baseline: opening the profile when every app must be fetched again
  (the freshness window has passed);
- fresh:    opening it again within the freshness window (no vendor call);
- shared:   20 agents opening it at once when it is stale (one fetch per app, shared);
- each system's stale open alone, and less the time the profile service waited on the database
  (the embedded server takes milliseconds per operation; a real MongoDB a fraction of one);
- each system's stale open taken apart: the mesh's time before its first vendor request and
  after its last answer, its rounds of vendor calls, and the database operations of the open
  (the part a real MongoDB shrinks: the embedded server takes milliseconds per operation).

    .venv/bin/python bench/profile_open.py --rounds 10
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pymongo

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import db_waited

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import Stack

FRESHNESS_S = 1.0


def knobs(stack: Stack, vendor: str, body: dict) -> None:
    request = urllib.request.Request(
        f"{stack.sandbox_url(vendor)}/__sandbox/knobs",
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).read()


def vendor_requests(stack: Stack) -> int:
    total = 0
    for vendor in stack.vendors:
        with urllib.request.urlopen(f"{stack.sandbox_url(vendor)}/__sandbox/requests", timeout=5) as resp:
            total += len(json.loads(resp.read()))
    return total


def open_profile(stack: Stack, customer_id: str, refresh: str = "all") -> float:
    started = time.perf_counter()
    status, body = stack.api("GET", f"/api/v1/customers/{customer_id}?refresh={refresh}", role="agent")
    elapsed = time.perf_counter() - started
    if status != 200 or any(link["stale"] for link in body["links"]):
        raise RuntimeError(f"open failed: {status}")
    return elapsed


def linked_jane(stack: Stack, latency_ms: float) -> tuple[str, dict[str, str]]:
    """Jane linked to the three commerce systems, each then answering after ``latency_ms``:
    her customer id and each system's app id by name."""
    for app in stack.ensure_demo_apps():
        if app["type"] in ("lookup_adaptor", "shopify"):  # the three commerce systems, as in earlier runs
            stack.api("POST", f"/api/v1/apps/{app['id']}/deactivate")
    status, contact = stack.api("POST", "/api/v1/contacts", role="agent", body={"channel": "chat", "email": "jane.smith@example.com"})
    assert status == 200 and len(contact["linked"]) == 3, contact
    customer_id = contact["customer_id"]
    for vendor in stack.vendors:
        knobs(stack, vendor, {"latency_ms": latency_ms})
    links = stack.api("GET", f"/api/v1/customers/{customer_id}", role="agent")[1]["links"]
    return customer_id, {link["app_name"]: link["app_id"] for link in links}


def database_operations(stack: Stack) -> int:
    """Operations the database has served so far (serverStatus opcounters, every process)."""
    assert stack.mongo is not None
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(stack.mongo.uri, serverSelectionTimeoutMS=5000) as client:
        return sum(int(v) for v in client.admin.command("serverStatus")["opcounters"].values())


def traced_open(stack: Stack, customer_id: str, app_id: str, latency_ms: float) -> dict[str, float]:
    """One stale open of one app, taken apart: the time before its first vendor request reached
    the vendor, the vendor's rounds, the time after its last answer, and the database operations
    of the whole open (the mesh's part beside the vendor's, which a real MongoDB shrinks)."""
    time.sleep(FRESHNESS_S + 0.05)
    seen = {vendor: len(vendor_log(stack, vendor)) for vendor in stack.vendors}
    ops = database_operations(stack)
    started = time.time()
    elapsed = open_profile(stack, customer_id, refresh=app_id)
    ops = database_operations(stack) - ops - 1  # less the second serverStatus itself
    sent = sorted(r["at"] for vendor in stack.vendors for r in vendor_log(stack, vendor)[seen[vendor] :])
    rounds = 1 + sum(1 for a, b in zip(sent, sent[1:], strict=False) if b - a > latency_ms / 2000)
    return {
        "before": (sent[0] - started) * 1000,
        "after": (started + elapsed - sent[-1]) * 1000 - latency_ms,
        "rounds": rounds,
        "calls": len(sent),
        "ops": ops,
    }


def vendor_log(stack: Stack, vendor: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{stack.sandbox_url(vendor)}/__sandbox/requests", timeout=5) as resp:
        return list(json.loads(resp.read()))


def measure(stack: Stack, rounds: int, latency_ms: float) -> dict[str, Any]:
    customer_id, ids = linked_jane(stack, latency_ms)
    stale, fresh = [], []
    alone: dict[str, list[float]] = {name: [] for name in ids}
    waited: dict[str, list[float]] = {name: [] for name in ids}  # the profile's requests on the database
    port = stack.extra_env["PROFILE_METRICS_PORT"]
    for _ in range(rounds):
        time.sleep(FRESHNESS_S + 0.05)
        stale.append(open_profile(stack, customer_id))
        fresh.append(open_profile(stack, customer_id))
        for name, app_id in ids.items():  # each system read alone (only its app refreshed)
            time.sleep(FRESHNESS_S + 0.05)  # the last open's traces are written meanwhile, not counted here
            before_db = db_waited(port)
            alone[name].append(open_profile(stack, customer_id, refresh=app_id))
            waited[name].append(db_waited(port) - before_db)
    time.sleep(FRESHNESS_S + 0.05)
    before = vendor_requests(stack)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda _: open_profile(stack, customer_id), range(20)))
    shared_calls = vendor_requests(stack) - before
    time.sleep(FRESHNESS_S + 0.05)
    before = vendor_requests(stack)
    open_profile(stack, customer_id)
    one_open_calls = vendor_requests(stack) - before
    traced = {name: [traced_open(stack, customer_id, app_id, latency_ms) for _ in range(3)] for name, app_id in ids.items()}
    return {
        "stale": stale,
        "fresh": fresh,
        "alone": alone,
        "waited": waited,
        "shared_calls": shared_calls,
        "one_open_calls": one_open_calls,
        "traced": traced,
    }


def report(found: dict[str, Any], rounds: int, latency_ms: float) -> None:
    base, quick = statistics.median(found["stale"]), statistics.median(found["fresh"])
    print(f"vendor latency            {latency_ms:.0f} ms per call, 3 linked systems, {rounds} rounds")
    print(f"baseline  stale open      median {base * 1000:7.1f} ms")
    print(f"fresh     open in window  median {quick * 1000:7.1f} ms")
    print(f"ratio fresh / baseline    {quick / base:5.2f}")
    latency = latency_ms / 1000
    for name, times in sorted(found["alone"].items()):
        one, db = statistics.median(times), statistics.median(found["waited"][name])
        print(
            f"  {name:<22} alone   median {one * 1000:7.1f} ms  ({(one - quick) / latency:4.1f} vendor latencies); "
            f"the profile waited {db * 1000:4.1f} ms on the embedded database, less it {(one - db) / latency:4.2f} vendor latencies"
        )
    slowest = max(statistics.median(t) for t in found["alone"].values())
    print(
        f"stale open: {(base - quick) / latency:4.1f} vendor latencies, {base / slowest:5.2f}x the slowest system read alone "
        "(goal: within 2 vendor latencies of the slowest system)"
    )
    print("where one system's stale open goes (median of 3): before its first vendor request, the vendor's rounds, after its last answer")
    for name, opens in sorted(found["traced"].items()):
        mid = {key: statistics.median(o[key] for o in opens) for key in opens[0]}
        print(
            f"  {name:<22} before {mid['before']:5.1f} ms, {mid['rounds']:.0f} rounds of {mid['calls']:.0f} vendor calls, "
            f"after {mid['after']:5.1f} ms; {mid['ops']:.0f} database operations"
        )
    one_open, shared = found["one_open_calls"], found["shared_calls"]
    print(
        f"vendor calls: one stale open {one_open}, twenty concurrent stale opens {shared} "
        f"(ratio {shared / max(one_open, 1):.2f}; 20.00 would mean no sharing)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            base_dir=Path(tmp),
            extra_env={
                "PROFILE_FRESHNESS_S": str(FRESHNESS_S),
                "PROFILE_EVENTS_FRESHNESS_S": str(FRESHNESS_S),
                "PROFILE_METRICS_PORT": str(free_port()),
                "SANDBOX_RATE_LIMIT_QUOTA": "100000",
                "SANDBOX_RATE_LIMIT_PER_SECOND": "1000",
                "SANDBOX_RATE_LIMIT_PER_MINUTE": "100000",
            },
        )
        stack.start()
        try:
            found = measure(stack, args.rounds, args.latency_ms)
        finally:
            stack.stop()
    report(found, args.rounds, args.latency_ms)


if __name__ == "__main__":
    main()
