"""Benchmark: a customer of several stores of one vendor, refreshed, and searched for.

A merchant with several BigCommerce stores (brands, regions) has one app per store, all served by
the one BigCommerce connector. Starts the whole stack with the vendors answering at once, makes
``--stores`` BigCommerce apps (each on the demo store, so Jane is in every one), then measures in
the same run, one request after another, each process's CPU milliseconds per request:

- a stale open (every link fetched again) of Jane linked to one store: the baseline;
- the same of Jane linked to every store;
- a search of all apps for Jane, with one store active and with every store active.

Each row with several stores is printed as its CPU per store against the baseline's: 1.00 means
every store costs the mesh what one alone does; below it, what the stores share (the profile
sends one request's lookups of one connector together: SearchEach, FetchEach).

    .venv/bin/python bench/several_stores.py [--stores 4] [--requests 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import NO_VENDOR_LIMITS, cpu_seconds, percentile

from linkmesh_devstack.stack import Stack

JANE = "jane.smith@example.com"
NAMES = ("gateway", "profile", "connector-bigcommerce", "database")


def make_stores(stack: Stack, count: int) -> list[str]:
    """The demo BigCommerce app and ``count - 1`` more on its store; every other app inactive."""
    apps = stack.ensure_demo_apps()
    demo = next(a for a in apps if a["type"] == "bigcommerce")
    for app in apps:
        if app["type"] != "bigcommerce":
            stack.api("POST", f"/api/v1/apps/{app['id']}/deactivate")
    ids = [demo["id"]]
    for i in range(count - 1):
        payload = next(p for p in stack.demo_apps() if p["type"] == "bigcommerce")
        status, app = stack.api("POST", "/api/v1/apps", body={**payload, "name": f"store-{i}", "auto_link_fields": []})
        assert status == 201, app
        ids.append(app["id"])
    return ids


def linked(stack: Stack, app_ids: list[str], email: str, external_id: str = "101") -> str:
    status, customer = stack.api("POST", "/api/v1/customers", role="agent", body={"emails": [email]})
    assert status == 201, customer
    for app_id in app_ids:
        status, body = stack.api(
            "POST", f"/api/v1/customers/{customer['id']}/links", role="agent", body={"app_id": app_id, "external_customer_id": external_id}
        )
        assert status == 201, body
    return str(customer["id"])


def measured(stack: Stack, count: int, request: tuple[str, str, dict[str, Any] | None]) -> tuple[float, dict[str, float]]:
    """p50 wall seconds of ``request`` and each process's CPU milliseconds per request."""
    pids = {name: stack.services[name].process.pid for name in NAMES[:-1]}  # type: ignore[union-attr]
    assert stack.mongo is not None and stack.mongo.process is not None, "the embedded server (a process to measure)"
    pids["database"] = stack.mongo.process.pid
    method, path, body = request

    def once() -> float:
        started = time.perf_counter()
        status, answer = stack.api(method, path, role="agent", body=body)
        assert status == 200 and not answer.get("failures") and not any(link.get("stale") for link in answer.get("links", [])), answer
        return time.perf_counter() - started

    for _ in range(5):  # warm
        once()
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    walls = [once() for _ in range(count)]
    return percentile(walls, 50), {name: (cpu_seconds(pid) - before[name]) * 1000 / count for name, pid in pids.items()}


def row(name: str, stores: int, wall: float, used: dict[str, float], base: dict[str, float] | None) -> None:
    total = sum(used.values())
    share = f"   per store {total / stores / sum(base.values()):4.2f}x one store's" if base else ""
    cpu = "  ".join(f"{k} {v:5.2f}" for k, v in used.items())
    print(f"  {name:<34} p50 {wall * 1000:6.1f} ms   CPU {total:6.2f} ms: {cpu}{share}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=4)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(base_dir=Path(tmp), extra_env={"PROFILE_FRESHNESS_S": "0", "PROFILE_EVENTS_FRESHNESS_S": "0", **NO_VENDOR_LIMITS})
        stack.start()
        try:
            stores = make_stores(stack, args.stores)
            one = linked(stack, stores[:1], "one-store@example.com", "102")  # John Doe: Jane is the other's, in every store
            every = linked(stack, stores, "every-store@example.com")
            searcher = linked(stack, [], "searcher@example.com")
            print(f"{args.stores} BigCommerce stores, vendors at 0 ms, {args.requests} requests per row, one after another")
            print(" a stale open (every link fetched again)")
            wall, base = measured(stack, args.requests, ("GET", f"/api/v1/customers/{one}", None))
            row("linked to one store (baseline)", 1, wall, base, None)
            wall, used = measured(stack, args.requests, ("GET", f"/api/v1/customers/{every}", None))
            row(f"linked to {args.stores} stores", args.stores, wall, used, base)
            print(" a search of all apps")
            search = ("POST", f"/api/v1/customers/{searcher}/external-search", {"app_id": "all", "email": JANE})
            for app_id in stores[1:]:
                stack.api("POST", f"/api/v1/apps/{app_id}/deactivate")
            wall, base = measured(stack, args.requests, search)
            row("one store active (baseline)", 1, wall, base, None)
            for app_id in stores[1:]:
                stack.api("POST", f"/api/v1/apps/{app_id}/activate")
            wall, used = measured(stack, args.requests, search)
            row(f"{args.stores} stores active", args.stores, wall, used, base)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
