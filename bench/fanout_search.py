"""Benchmark: what the mesh adds to a vendor call, and whether "search all" costs one vendor's time.

Starts the whole stack (real processes), with BigCommerce and Magento apps active
(``--extra-apps`` more BigCommerce apps, each on a store of its own, as a search of all
reaches different systems: one store's budget of 8 requests in flight would otherwise set
the pace at 50 concurrent searches; ReturnLogic's 2 requests a second per key would too, so
its app is off) and rate limits lifted. Every figure
is measured against the vendor call itself, made directly to the sandbox in the same run
(the same ``GET /v3/customers`` request the BigCommerce connector sends):

1. Mesh overhead, vendors at 0 ms: a one-app search through the gateway (gateway, profile
   service, connector, vendor) minus the direct vendor call, p50 and p99, at concurrency 1
   and ``--concurrency``; then the same search with an API key (an integration's credential,
   which the profile service checks on every request, or once per ``GATEWAY_API_KEY_CACHE_S``
   when that is set in the environment) and signed in (an OpenID Connect access
   token, as the console sends, from a provider the benchmark serves), and the mesh's CPU per
   search with each credential.
2. Search all, the slowest vendor at ``--latency-ms`` (Magento at half of it): a search of
   every unlinked app through the gateway divided by the direct call to the slowest vendor
   at the same concurrency (1 and 50); 1.00 means the mesh adds nothing and the systems are
   searched in parallel.
   Beside it, each process's CPU per search against its gRPC floor, and the mesh's against the
   transports' floor of one search (its gRPC calls and HTTP ends at ``grpc_floor.py``'s figures,
   measured before the stack starts): what no Python code of the mesh's own could go below.
   At one caller every process idles about ``--latency-ms`` between its calls, and a process
   woken after idling pays more for the same work; so there the figures are also set against
   the floor paced that far apart (``grpc_floor.paced_per_call``: each end's CPU apart). At 50
   callers, each process is also set against the floor of every exchange it makes: its gRPC
   and HTTP ends, and the profile's database calls at PyMongo's client floor (a ``find_one`` by
   ``_id`` against this run's database, the bench's own CPU).
   Every figure per search covers the timed searches alone: counters are read after the
   warm-up (``benchlib.per_call``).

    make bench            # or: .venv/bin/python bench/fanout_search.py --rounds 200
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pymongo

sys.path.insert(0, str(Path(__file__).parent))
import grpc_floor
import uvloop
from benchlib import NO_VENDOR_LIMITS, Load, LocalIssuer, closed_loop, cpu_seconds, db_waited, ms, per_call, profile_db_commands

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import Stack
from linkmesh_sandboxes.bigcommerce import data

QUERY = "jane.smith@example.com"


def set_latency(stack: Stack, vendor: str, latency_ms: float) -> None:
    request = urllib.request.Request(
        f"{stack.sandbox_url(vendor)}/__sandbox/knobs",
        method="POST",
        data=json.dumps({"latency_ms": latency_ms}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).read()


class Calls:
    def __init__(self, stack: Stack, session: aiohttp.ClientSession, customer_id: str, app_id: str, issuer: LocalIssuer) -> None:
        self.stack = stack
        self.session = session
        self.path = f"{stack.gateway_url}/api/v1/customers/{customer_id}/external-search"
        self.app_id = app_id
        self.headers = {"Authorization": f"Bearer {stack.token('agent')}"}
        status, key = stack.api("POST", "/api/v1/api-keys", body={"name": "bench integration", "role": "agent"})
        assert status == 201, key
        # An integration's credential: the profile service checks it on every request.
        self.key_headers = {"Authorization": f"Bearer {key['secret']}"}
        self.signed_in = {"Authorization": f"Bearer {issuer.token('bench-agent')}"}
        self.vendor = f"{stack.sandbox_url('bigcommerce')}/stores/{data.STORE_HASH}/v3/customers"

    async def direct(self) -> None:
        """The connector's own vendor request, straight to the sandbox."""
        params = {"email:in": QUERY, "include": "addresses", "limit": "50"}
        async with self.session.get(
            self.vendor, params=params, headers={"X-Auth-Token": data.ACCESS_TOKEN, "Accept": "application/json"}
        ) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["data"], body

    async def search(self, app_id: str, expect: int, *, as_: str = "bootstrap") -> None:
        headers = {"bootstrap": self.headers, "key": self.key_headers, "signed in": self.signed_in}[as_]
        async with self.session.post(self.path, json={"app_id": app_id, "email": QUERY}, headers=headers) as resp:
            body = await resp.json()
            if resp.status != 200 or body.get("failures") or len(body["results"]) != expect:
                raise RuntimeError(f"search failed: {resp.status} {body}")


def db_commands(stack: Stack) -> int:
    """Operations the database has served so far, from every process (its serverStatus opcounters:
    a real MongoDB counts them the same way, so this figure carries over to production)."""
    assert stack.mongo is not None
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(stack.mongo.uri, serverSelectionTimeoutMS=5000) as client:
        counters = client.admin.command("serverStatus")["opcounters"]
    return sum(int(v) for v in counters.values()) - 1  # less this serverStatus itself


async def measure(call, concurrency: int, rounds: int) -> Load:
    await closed_loop(lambda i: call(), concurrency, total=max(concurrency, 10))  # warm-up
    return await closed_loop(lambda i: call(), concurrency, total=rounds)


def row(name: str, load: Load) -> None:
    print(f"  {name:<34} p50 {ms(load.p50)}   p99 {ms(load.p99)}   {load.per_second:7.1f}/s")


def prepare_apps(stack: Stack, apps: list[dict[str, Any]], extra: int) -> None:
    """BigCommerce and Magento active, and ``extra`` more BigCommerce apps."""
    for app in apps:
        # ReturnLogic's 2 requests a second would be measured, not the mesh (and Shopify's cost
        # bucket); the demo lookup adaptor and Shopify stay out so the figures compare with earlier runs.
        if app["type"] in ("returnlogic", "lookup_adaptor", "shopify"):
            stack.api("POST", f"/api/v1/apps/{app['id']}/deactivate")
    for i in range(extra):
        status, app = stack.api(
            "POST",
            "/api/v1/apps",
            body={
                "type": "bigcommerce",
                "name": f"bench-{i}",
                "settings": {"store_hash": f"bench{i}", "api_base_url": stack.sandbox_url("bigcommerce")},
                "secrets": {"access_token": f"bench-token-{i}"},
                "search_query_attributes": [{"attribute": "email", "label": "Email"}],
            },
        )
        assert status == 201, app


# The connectors a search of all reaches: the profile sends each one the request's searches of
# its apps in one SearchEach call (every BigCommerce store's together), so a search of all is a
# gRPC call to the profile and one to each connector, whatever the number of apps.
CONNECTORS = 2


def grpc_ends(searched: int) -> dict[str, int]:
    """The gRPC calls each process serves or makes for one search of all (one end each)."""
    return {"gateway": 1, "profile": 1 + CONNECTORS, "connector-bigcommerce": 1, "connector-magento": 1}


def transports_floor(searched: int, grpc_s: float, http_s: float) -> float:
    """CPU seconds the transports alone take for one search of all, at their floors: each gRPC
    call (both its ends: the gRPC floor), the caller's HTTP request to the gateway and each
    app's vendor request (one end each of an HTTP exchange: half the HTTP floor)."""
    return (1 + CONNECTORS) * grpc_s + (1 + searched) * http_s / 2


# The ends each process has in one search of all, as (paced, back to back): the first end of
# calls that arrive together wakes the process (paced); the others find it awake. Answers of one
# vendor's apps arrive together (BigCommerce's at --latency-ms, Magento's at half of it).
GRPC_SERVER = {"profile": (1, 0), "connector-bigcommerce": (1, 0), "connector-magento": (1, 0)}
GRPC_CLIENT = {"gateway": (1, 0), "profile": (2, 0)}
HTTP_SERVER = {"gateway": (1, 0)}
HTTP_CLIENT = {"connector-bigcommerce": (1, -2), "connector-magento": (1, 0)}


def _floor(ends: dict[str, tuple[int, int]], name: str, searched: int, paced: float, hot: float) -> float:
    """CPU seconds of ``name``'s ends: a negative back-to-back count is "searched less that many"."""
    first, rest = ends.get(name, (0, 0))
    return first * paced + (searched + rest if rest < 0 else rest) * hot


def paced_lines(args: argparse.Namespace, used: dict[str, float], per_second: float, searched: int) -> list[str]:
    """Each process's CPU per search ÷ its gRPC ends at the paced floor (the first of a burst)
    and the back-to-back one (the rest), and the mesh's ÷ the transports' floor counted so."""
    grpc, http = args.paced["grpc"], args.paced["http"]
    hot_grpc, hot_http = args.floors[1] / 2, args.http_floors[1] / 2

    def grpc_floor_of(name: str) -> float:
        return _floor(GRPC_SERVER, name, searched, grpc.server, hot_grpc) + _floor(GRPC_CLIENT, name, searched, grpc.client, hot_grpc)

    def floor_of(name: str) -> float:
        return (
            grpc_floor_of(name)
            + _floor(HTTP_SERVER, name, searched, http.server, hot_http)
            + _floor(HTTP_CLIENT, name, searched, http.client, hot_http)
        )

    names = ("gateway", "profile", "connector-bigcommerce", "connector-magento")
    ratios = ", ".join(f"{name} {used[name] / per_second / grpc_floor_of(name):.1f}x" for name in names if name in used)
    least = sum(floor_of(name) for name in names)
    python_cpu = sum(share for name, share in used.items() if not name.startswith("sandbox-") and name != "database") / per_second
    return [
        f"  paced floor, calls {grpc.gap_s * 1000:.0f} ms apart as each process idles at one caller (a gRPC server end "
        f"{grpc.server * 1e6:.0f} us, client end {grpc.client * 1e6:.0f} us; HTTP {http.server * 1e6:.0f} and {http.client * 1e6:.0f} us), "
        "for the first end of the calls that arrive together",
        f"  each process ÷ its gRPC floor so counted: {ratios}",
        f"  the transports' floor of one search of all so counted: {least * 1000:.1f} ms; the mesh's processes, database apart, "
        f"{python_cpu / least:.1f}x it",
    ]


def exchanges_floor(name: str, searched: int, grpc_end: float, http_end: float, db_call: float, db_calls: float) -> float:
    """CPU seconds of every exchange ``name`` makes in one search of all, each at its floor
    back to back: its gRPC and HTTP ends at half the floor of a call (both ends in one process),
    and, for the profile service, its database calls at the driver's client floor."""
    grpc_ends_of, http_ends = grpc_ends(searched)[name], {"gateway": 1, "connector-bigcommerce": searched - 1, "connector-magento": 1}
    return grpc_ends_of * grpc_end + http_ends.get(name, 0) * http_end + (db_calls * db_call if name == "profile" else 0.0)


def exchange_ratios(args: argparse.Namespace, used: dict[str, float], per_second: float, searched: int, db_calls: float) -> str:
    """Each process's CPU per search of all ÷ the floor of every exchange it makes (at 50 callers)."""
    grpc_end, http_end, db_call = args.floors[50] / 2, args.http_floors[50] / 2, args.db_floors[50]
    return ", ".join(
        f"{name} {used[name] / per_second / exchanges_floor(name, searched, grpc_end, http_end, db_call, db_calls):.1f}x"
        for name in grpc_ends(searched)
        if name in used
    )


def floor_ratios(used: dict[str, float], per_second: float, searched: int, floor_s: float) -> str:
    """Each process's CPU per search of all ÷ its gRPC floor: its ends of calls at half the
    floor each (a floor call is a client and a server in one process)."""
    return ", ".join(
        f"{name} {used[name] / per_second / (ends * floor_s / 2):.1f}x" for name, ends in grpc_ends(searched).items() if name in used
    )


async def run(args: argparse.Namespace, stack: Stack) -> None:
    apps = stack.ensure_demo_apps()
    prepare_apps(stack, apps, args.extra_apps)
    searched = args.extra_apps + 2
    status, customer = stack.api("POST", "/api/v1/customers", role="agent", body={"emails": ["bench-searcher@example.com"]})
    assert status == 201, customer
    bigcommerce = next(a for a in apps if a["type"] == "bigcommerce")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
        calls = Calls(stack, session, customer["id"], bigcommerce["id"], args.issuer)

        await mesh_overhead(args, stack, calls, bigcommerce["id"])
        await search_all(args, stack, calls, searched)


def mesh_pids(stack: Stack) -> dict[str, int]:
    """The mesh's processes and the database's, the sandboxes apart."""
    pids = {name: s.process.pid for name, s in stack.services.items() if s.process is not None and not name.startswith("sandbox-")}
    if stack.mongo is not None and stack.mongo.process is not None:
        pids["database"] = stack.mongo.process.pid
    return pids


def cpu_of(pids: dict[str, int]) -> dict[str, Any]:
    """Each process's CPU seconds so far, as ``per_call``'s counters."""
    return {name: functools.partial(cpu_seconds, pid) for name, pid in pids.items()}


async def with_cpu(call: Any, concurrency: int, rounds: int, pids: dict[str, int]) -> tuple[Load, float]:
    """The load, and the mesh's CPU seconds per timed call."""
    load, grew = await per_call(call, concurrency, rounds, cpu_of(pids))
    return load, sum(grew.values())


async def mesh_overhead(args: argparse.Namespace, stack: Stack, calls: Calls, app_id: str) -> None:
    print(f"1. mesh overhead, vendors at 0 ms, {args.rounds} searches per row")
    pids = mesh_pids(stack)
    for concurrency in (1, args.concurrency):
        direct = await measure(calls.direct, concurrency, args.rounds)
        waited = functools.partial(db_waited, stack.extra_env["PROFILE_METRICS_PORT"])
        mesh, grew = await per_call(lambda: calls.search(app_id, 1), concurrency, args.rounds, {**cpu_of(pids), "db wait": waited})
        db_s = grew.pop("db wait")
        cpu = sum(grew.values())
        keyed, keyed_cpu = await with_cpu(lambda: calls.search(app_id, 1, as_="key"), concurrency, args.rounds, pids)
        signed, signed_cpu = await with_cpu(lambda: calls.search(app_id, 1, as_="signed in"), concurrency, args.rounds, pids)
        print(f" concurrency {concurrency}")
        row("direct vendor call", direct)
        row("one-app search through the mesh", mesh)
        print(
            f"  {'mesh overhead':<34} p50 {ms(mesh.p50 - direct.p50)}   p99 {ms(mesh.p99 - direct.p99)}"
            + ("   (goal p50 <= 4 ms)" if concurrency == 1 else "")
        )
        print(
            f"  {'of which the profile waited on db':<34} mean {ms(db_s)} a search (the embedded server; "
            f"overhead less it: p50 {ms(mesh.p50 - direct.p50 - db_s)})"
        )
        row("the same with an API key", keyed)
        row("the same signed in (OIDC token)", signed)
        print(
            f"  {'CPU per search, database included':<34} {cpu * 1000:.2f} ms with the bootstrap token, {keyed_cpu * 1000:.2f} ms with "
            f"an API key ({keyed_cpu / cpu:.2f}x: {key_checks()}), "
            f"{signed_cpu * 1000:.2f} ms signed in ({signed_cpu / cpu:.2f}x)"
        )


def key_checks() -> str:
    """How the gateways of this run check an API key (``GATEWAY_API_KEY_CACHE_S``, from the environment)."""
    window = float(os.environ.get("GATEWAY_API_KEY_CACHE_S") or 0)
    if window > 0:
        return f"the gateway takes a checked key as checked for {window:g} s"
    return "the profile checks the key on every request, so a revoked one fails at once"


async def search_all(args: argparse.Namespace, stack: Stack, calls: Calls, searched: int) -> None:
    set_latency(stack, "bigcommerce", args.latency_ms)
    set_latency(stack, "magento", args.latency_ms / 2)
    print(
        f"\n2. search all {searched} apps (BigCommerce at {args.latency_ms:.0f} ms, Magento at {args.latency_ms / 2:.0f} ms), "
        f"{args.rounds} searches per row"
    )
    for concurrency, goal in ((1, "1.10"), (50, "2.0")):
        direct = await measure(calls.direct, concurrency, args.rounds)
        pids = {name: s.process.pid for name, s in stack.services.items() if s.process is not None}
        if stack.mongo is not None and stack.mongo.process is not None:
            pids["database"] = stack.mongo.process.pid
        port, probes = stack.extra_env["PROFILE_METRICS_PORT"], cpu_of(pids)
        probes.update({"db commands": functools.partial(db_commands, stack), "db wait": functools.partial(db_waited, port)})
        probes["profile's db commands"] = functools.partial(profile_db_commands, port)
        fan, grew = await per_call(lambda: calls.search("all", searched), concurrency, args.rounds, probes)
        commands, waited, profile_commands = grew.pop("db commands"), grew.pop("db wait"), grew.pop("profile's db commands")
        used = {name: cpu * fan.per_second for name, cpu in grew.items()}  # a share of one core
        print(f" concurrency {concurrency}")
        row("direct call to the slowest vendor", direct)
        row(f"search all {searched} apps", fan)
        print(
            f"  {'search all ÷ slowest vendor':<34} p50 {fan.p50 / direct.p50:6.2f}x   p99 {fan.p99 / direct.p99:6.2f}x"
            f"   (goal p50 <= {goal})"
        )
        print(
            f"  {'less the profile waiting on db':<34} p50 {(fan.p50 - waited) / direct.p50:6.2f}x   "
            f"(it waited {ms(waited)} a search on the embedded server: the reads before and after the fan-out)"
        )
        busy = ", ".join(f"{name} {share * 100:.0f}%" for name, share in sorted(used.items(), key=lambda x: -x[1]) if share >= 0.01)
        mesh_cpu = sum(share for name, share in used.items() if not name.startswith("sandbox-")) * 1000 / fan.per_second
        sandbox_cpu = sum(share for name, share in used.items() if name.startswith("sandbox-")) * 1000 / fan.per_second
        print(f"  CPU in use (share of one core; {os.cpu_count()} cores): {busy}")
        print(
            f"  CPU per search of all: mesh, database included, {mesh_cpu:.1f} ms ({mesh_cpu / 8:.2f}x the goal of 8 ms); "
            f"the sandboxes apart {sandbox_cpu:.1f} ms"
        )
        floor = args.floors[concurrency]
        print(
            f"  each process ÷ its gRPC floor (a bare call here, back to back: {floor * 1e6:.0f} us of CPU at {concurrency} in flight), "
            f"goal <= 3x: {floor_ratios(used, fan.per_second, searched, floor)}"
        )
        python_cpu = sum(share for name, share in used.items() if not name.startswith("sandbox-") and name != "database")
        least = transports_floor(searched, floor, args.http_floors[concurrency]) * 1000
        print(
            f"  the transports' floor of one search of all ({1 + CONNECTORS} gRPC calls, {1 + searched} HTTP ends): {least:.1f} ms; "
            f"the mesh's processes, database apart, {python_cpu * 1000 / fan.per_second:.1f} ms = "
            f"{python_cpu * 1000 / fan.per_second / least:.1f}x it (the goal, 8 ms with the database, is {8 / least:.1f}x it)"
        )
        if concurrency == 1:
            print("\n".join(paced_lines(args, used, fan.per_second, searched)))
        else:
            print(
                f"  each process ÷ the floor of every exchange it makes (gRPC and HTTP ends; the profile's database calls at "
                f"PyMongo's client floor, {args.db_floors[50] * 1e6:.0f} us): {exchange_ratios(args, used, fan.per_second, searched, profile_commands)}"
            )
        print(f"  database commands per search of all: {commands:.1f} (every process), {profile_commands:.1f} the profile's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extra-apps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    args = parser.parse_args()
    grpc_floor.quiet_json_logs()
    args.floors = {c: uvloop.run(grpc_floor.per_call(3000, False, False, c)) for c in (1, 50)}  # before the stack: an idle machine
    args.http_floors = {c: uvloop.run(grpc_floor.http_per_call(3000, c)) for c in (1, 50)}
    args.paced = {kind: uvloop.run(grpc_floor.paced_per_call(kind, args.latency_ms / 1000, 150)) for kind in ("grpc", "http")}
    args.issuer = LocalIssuer()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            base_dir=Path(tmp),
            extra_env={
                **args.issuer.env(),
                "SANDBOX_BIGCOMMERCE_STORES": ",".join(f"bench{i}:bench-token-{i}" for i in range(args.extra_apps)),
                "PROFILE_METRICS_PORT": str(free_port()),
                **NO_VENDOR_LIMITS,
            },
        )
        stack.start()
        try:
            assert stack.mongo is not None
            args.db_floors = {c: uvloop.run(grpc_floor.database_per_call(stack.mongo.uri, 3000, c)) for c in (1, 50)}
            asyncio.run(run(args, stack))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
