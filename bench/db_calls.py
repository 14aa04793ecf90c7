"""Benchmark: database calls per request, and the latency of each kind of request at 10,000 and 100,000 customers.

Starts the whole stack (real processes; the embedded database unless MONGODB_URI is
set) with the three demo apps and vendors answering at once, then prints, from one run:

- database commands per request, read from the profile service's own counter
  (``linkmesh_db_request_commands_total``: those sent for requests, not the background work beside them): a contact that creates a customer and auto-links
  the three systems, a contact of a new email no system knows, contacts of a linked
  customer with fresh data and with data to refresh from all three, profile opens
  likewise, a one-app search and a search of all. These counts carry over to any MongoDB.
  A contact that creates a customer or links one is a write with an audit entry: one insert
  more than before the audit log, which its goal includes.
  The app cache's check (one query a second per replica, shared by every request) is
  left out by a long ``PROFILE_APP_CACHE_S`` and printed on its own line.
- the latency of each kind of request users meet (a contact of an email no system knows, a
  contact that auto-links, contacts of a linked customer with fresh data and with data to
  refresh, a profile open that refreshes, a search of one app and of every app, the customer
  directory's recent list and a name search, and contacts that auto-link two and all five demo
  systems: Jane, whom each knows, forgotten between rounds) with 10,000 and then 100,000 customers in the
  database divided by the same with an empty one. Every query and write must execute from an index for these to stay
  near 1. Each row also divides the fastest rounds: a scan slows every round, the fastest too,
  while the embedded server's stalls (seconds in which its writes wait on WiredTiger's pages,
  docs/performance.md) slow some rounds and leave the fastest near the empty database's.

    .venv/bin/python bench/db_calls.py [--levels 10000,100000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import Stack
from linkmesh_profile.db.search_keys import name_keys, recent_key
from linkmesh_sandboxes.bigcommerce import data as bc_data

JANE = "jane.smith@example.com"  # known to all five demo systems
FRESHNESS_S = 10.0
METRIC = re.compile(r'^linkmesh_db_request_commands_total\{command="([^"]+)"\} ([0-9.e+]+)$', re.M)


def db_commands(metrics_port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
        return {name: float(value) for name, value in METRIC.findall(resp.read().decode())}


def quiet(metrics_port: int, timeout: float = 10.0) -> dict[str, float]:
    """The counters once background work (the deferred auto-link queue, trace writes) has
    stopped moving them for half a second, and ReturnLogic's one-second budget (2 requests
    per key) has renewed, so no request is refused and deferred while it is counted."""
    time.sleep(1.1)
    deadline = time.monotonic() + timeout
    last = db_commands(metrics_port)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = db_commands(metrics_port)
        if now == last:
            break
        last = now
    return last


def counted(stack: Stack, metrics_port: int, call: Any) -> tuple[dict[str, int], Any]:
    before = quiet(metrics_port)
    answer = call()
    time.sleep(0.6)  # traces are written up to PROFILE_TRACE_FLUSH_S (0.25 s) after the answer
    after = db_commands(metrics_port)
    delta = {k: int(after[k] - before.get(k, 0)) for k in after if after[k] - before.get(k, 0)}
    return delta, answer


def show(name: str, delta: dict[str, int], goal: str) -> None:
    detail = ", ".join(f"{k} {v}" for k, v in sorted(delta.items()))
    print(f"{name:<52} {sum(delta.values()):>5}   {('goal ' + goal) if goal else '':<10} ({detail})")


def contact(stack: Stack, email: str) -> dict[str, Any]:
    status, body = stack.api("POST", "/api/v1/contacts", role="agent", body={"channel": "email", "email": email})
    if status != 200:
        raise RuntimeError(f"contact failed: {status} {body}")
    return body


def vendor_customer(stack: Stack) -> str:
    """A new BigCommerce customer made through the sandbox's own API: its email auto-links."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    body = json.dumps([{"email": email, "first_name": "Bench", "last_name": "Person"}]).encode()
    request = urllib.request.Request(
        f"{stack.sandbox_url('bigcommerce')}/stores/{bc_data.STORE_HASH}/v3/customers",
        data=body,
        method="POST",
        headers={"X-Auth-Token": bc_data.ACCESS_TOKEN, "Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
    return email


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def latencies(stack: Stack, rounds: int, bigcommerce_id: str) -> dict[str, list[float]]:
    """Seconds of each round of each kind of request users meet, one fresh customer per round."""
    kinds: dict[str, list[float]] = {
        "contact, an email no system knows": [],
        "contact that auto-links": [],
        "contact of a linked customer (fresh data)": [],
        "contact of a linked customer (refreshes)": [],
        "profile open (refreshes)": [],
    }
    kinds.update({"search of one app": [], "search of every app": [], "customer directory: recent": [], "customer directory: by name": []})
    linked: list[tuple[str, str]] = []
    for _ in range(rounds):
        unknown: dict[str, Any] = {}
        kinds["contact, an email no system knows"].append(
            timed(lambda unknown=unknown: unknown.update(contact(stack, f"bench-{uuid.uuid4().hex[:12]}@example.net")))
        )
        search_path = f"/api/v1/customers/{unknown['customer_id']}/external-search"
        for kind, target in (("search of one app", bigcommerce_id), ("search of every app", "all")):
            kinds[kind].append(
                timed(
                    lambda target=target, path=search_path: stack.api(
                        "POST", path, role="agent", body={"app_id": target, "email": "jane.smith@example.com"}
                    )
                )
            )
        kinds["customer directory: recent"].append(timed(lambda: stack.api("GET", "/api/v1/customer-directory", role="agent")))
        kinds["customer directory: by name"].append(
            timed(lambda: stack.api("GET", "/api/v1/customer-directory?query=jane%20smi", role="agent"))
        )
        email = vendor_customer(stack)
        answer: dict[str, Any] = {}
        kinds["contact that auto-links"].append(timed(lambda answer=answer, email=email: answer.update(contact(stack, email))))
        kinds["contact of a linked customer (fresh data)"].append(timed(lambda email=email: contact(stack, email)))
        linked.append((email, answer["customer_id"]))
    time.sleep(FRESHNESS_S + 0.2)  # every linked customer's data is due for a refresh
    for email, _ in linked:
        kinds["contact of a linked customer (refreshes)"].append(timed(lambda email=email: contact(stack, email)))
    time.sleep(FRESHNESS_S + 0.2)
    for _, customer_id in linked:
        kinds["profile open (refreshes)"].append(
            timed(lambda customer_id=customer_id: stack.api("GET", f"/api/v1/customers/{customer_id}", role="agent"))
        )
    return kinds


def seed(uri: str, count: int, start: int = 0) -> float:
    """``count`` customers in the profile service's own document shape (directory keys
    included, as the store writes them), numbered from ``start``, in batches."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri, retryWrites=False)
    started = time.perf_counter()
    try:
        stamp = datetime.now(UTC)
        batch = []
        for i in range(start, start + count):
            oid, contacted = ObjectId(), stamp - timedelta(minutes=i + 1)  # one contact a minute, back in time
            batch.append(
                {
                    "_id": oid,
                    "name": f"Seeded {i}",
                    "name_keys": name_keys(f"Seeded {i}"),
                    "recent_key": recent_key(contacted, oid),
                    "emails": [f"seed-{i}@example.org"],
                    "phones": [f"+1646{i:07d}"],
                    "links": {},
                    "link_keys": [],
                    "unlinked_apps": [],
                    "created_at": contacted,
                    "updated_at": contacted,
                    "last_contact_at": contacted,
                }
            )
            if len(batch) == 10_000:
                client["linkmesh"]["customers"].insert_many(batch, ordered=False)
                batch = []
        if batch:
            client["linkmesh"]["customers"].insert_many(batch, ordered=False)
    finally:
        client.close()
    return time.perf_counter() - started


def jane_autolinks(stack: Stack, apps: list[dict[str, Any]], rounds: int) -> list[float]:
    """Seconds of each round of a contact from Jane Smith, whom every demo system knows, auto-linking
    each of ``apps`` (the others off). linkmesh forgets her between rounds (her profile is deleted
    from the database), so each round links anew; all but BigCommerce are off again afterwards."""
    assert stack.mongo is not None
    for app in apps:
        stack.api("POST", f"/api/v1/apps/{app['id']}/activate")
    client: MongoClient[dict[str, Any]] = MongoClient(stack.mongo.uri, retryWrites=False)
    times, linked = [], set()
    try:
        for _ in range(rounds):
            client["linkmesh"]["customers"].delete_many({"emails": JANE})
            answer: dict[str, Any] = {}
            times.append(timed(lambda answer=answer: answer.update(contact(stack, JANE))))
            linked.add(len(answer["linked"]))
    finally:
        client.close()
        for app in apps:
            if app["type"] != "bigcommerce":
                stack.api("POST", f"/api/v1/apps/{app['id']}/deactivate")
    assert linked == {len(apps)}, f"auto-linked {linked} of {len(apps)} systems"
    return times


def at_scale(stack: Stack, levels: list[int], rounds: int, apps: list[dict[str, Any]]) -> None:
    """Each kind of request on an empty database, then with each level of customers: the ratios."""
    bigcommerce_id = next(a["id"] for a in apps if a["type"] == "bigcommerce")
    pair = [a for a in apps if a["type"] in ("bigcommerce", "magento")]
    two, five = "contact that auto-links 2 systems", f"contact that auto-links all {len(apps)} systems"

    def measured() -> dict[str, list[float]]:
        return {
            **latencies(stack, rounds, bigcommerce_id),
            two: jane_autolinks(stack, pair, rounds),
            five: jane_autolinks(stack, apps, rounds),
        }

    empty = measured()
    assert stack.mongo is not None
    seeded = 0
    for level in levels:
        seconds = seed(stack.mongo.uri, level - seeded, start=seeded)
        seeded = level
        full = measured()
        print(
            f"\nseeded up to {level:,} customers ({seconds:.1f}s); median of {rounds} rounds "
            "(BigCommerce alone but the last two rows: BigCommerce and Magento, then every system)"
        )
        for kind, times in empty.items():
            base, at_level = statistics.median(times), statistics.median(full[kind])
            print(
                f"{kind:<44} empty {base * 1000:7.1f} ms, {level:,} customers {at_level * 1000:7.1f} ms: "
                f"{at_level / base:5.2f}x (goal <= 1.2); fastest rounds {min(full[kind]) / min(times):5.2f}x"
            )


def db_calls_per_request(stack: Stack, metrics_port: int, bigcommerce: dict[str, Any]) -> None:
    """Database commands of each kind of request, on a small database (what carries over to production)."""
    print(f"{'request':<52} {'db calls':>5}")
    delta, linked = counted(stack, metrics_port, lambda: contact(stack, "jane.smith@example.com"))
    # A write now also inserts its audit entry (issue 14): the goals of writes grew by that one insert.
    show(f"contact, new customer, auto-linked {len(linked['linked'])} apps", delta, "<= 7")
    delta, _ = counted(stack, metrics_port, lambda: contact(stack, f"nobody-{uuid.uuid4().hex[:8]}@example.net"))
    show("contact, new email no system knows", delta, "<= 7")
    delta, _ = counted(stack, metrics_port, lambda: contact(stack, "jane.smith@example.com"))
    show("contact, linked customer, data fresh", delta, "<= 6")
    customer_id = linked["customer_id"]
    delta, _ = counted(stack, metrics_port, lambda: stack.api("GET", f"/api/v1/customers/{customer_id}", role="agent"))
    show("profile open within the freshness window", delta, "<= 2")
    time.sleep(FRESHNESS_S + 0.2)
    delta, answer = counted(stack, metrics_port, lambda: contact(stack, "jane.smith@example.com"))
    show(
        f"contact, linked customer, {len(answer['refreshed'])} apps refreshed", delta, "<= 7"
    )  # 6 before the leases' write stopped answering the document (findAndModify scans on the embedded server)
    time.sleep(FRESHNESS_S + 0.2)
    delta, _ = counted(stack, metrics_port, lambda: stack.api("GET", f"/api/v1/customers/{customer_id}", role="agent"))
    show("profile open, 3 apps refreshed", delta, "")
    other = contact(stack, f"searcher-{uuid.uuid4().hex[:8]}@example.net")["customer_id"]
    delta, _ = counted(
        stack,
        metrics_port,
        lambda: stack.api(
            "POST",
            f"/api/v1/customers/{other}/external-search",
            role="agent",
            body={"app_id": bigcommerce["id"], "email": "priya.patel@example.com"},
        ),
    )
    show("search of one app", delta, "<= 3 (the customer, who holds the records found, the trace)")
    delta, _ = counted(
        stack,
        metrics_port,
        lambda: stack.api(
            "POST", f"/api/v1/customers/{other}/external-search", role="agent", body={"app_id": "all", "email": "priya.patel@example.com"}
        ),
    )
    show("search of all 3 apps", delta, "")
    print(f"{'app cache check, per replica':<52} {'1':>5}   a second at most (PROFILE_APP_CACHE_S, default 1), shared by every request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="10000,100000", help="customers in the database at each measurement, comma-separated")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    metrics_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            base_dir=Path(tmp),
            extra_env={
                "PROFILE_METRICS_PORT": str(metrics_port),
                # The resolver of unknown outcomes looks for due checks every second: none are due here,
                # and its look would land in the requests counted.
                "PROFILE_ACTION_RESOLVE_EVERY_S": "3600",
                "PROFILE_FRESHNESS_S": str(FRESHNESS_S),
                "PROFILE_EVENTS_FRESHNESS_S": str(FRESHNESS_S),
                "PROFILE_APP_CACHE_S": "3600",
                "SANDBOX_RATE_LIMIT_QUOTA": "1000000",
                "SANDBOX_RATE_LIMIT_PER_SECOND": "100000",
                "SANDBOX_RATE_LIMIT_PER_MINUTE": "1000000",
            },
        )
        stack.start()
        try:
            apps = stack.ensure_demo_apps()
            for app in apps:
                if app["type"] in ("lookup_adaptor", "shopify"):  # the three commerce systems the goals were set for
                    stack.api("POST", f"/api/v1/apps/{app['id']}/deactivate")
            bigcommerce = next(a for a in apps if a["type"] == "bigcommerce")
            contact(stack, f"warm-{uuid.uuid4().hex[:8]}@example.net")  # loads the app cache
            db_calls_per_request(stack, metrics_port, bigcommerce)

            # Latency with BigCommerce alone: ReturnLogic's client-side limit (2 requests a second per
            # key) would otherwise set the pace and hide what the database costs.
            for app in apps:
                if app["type"] != "bigcommerce":
                    stack.api("POST", f"/api/v1/apps/{app['id']}/deactivate")
            at_scale(stack, [int(n) for n in args.levels.split(",")], args.rounds, apps)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
