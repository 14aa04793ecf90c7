"""Benchmark: CPU per contact, and contacts per second of the whole mesh at saturation.

Starts the whole stack (real processes; the embedded database unless MONGODB_URI is set)
with vendors answering at once (0 ms) and their rate limits lifted, BigCommerce and
Magento apps active (ReturnLogic's connector keeps the vendor's 2 requests a second per
key, which would set the pace), then prints from one run:

- CPU milliseconds per contact of each process (profile service, gateway, connectors, the
  database; the sandboxes printed apart), from ``/proc`` before and after a run of sequential
  contacts:
  - a new email no system knows (find, create, search two systems);
  - the same sent with an API key, as a helpdesk integration sends contacts (the profile
    service checks the key on every request: one more call and read);
  - a person new to linkmesh whom both systems know, made at each vendor beforehand (find,
    create, search both, fetch and link both);
  - a returning customer linked to both systems, each contact refreshing both
    (``PROFILE_FRESHNESS_S=0``: a customer who writes in gets fresh data);
- contacts per second at saturation (``--concurrency`` clients back to back), against the
  same run's floor: health checks per second of the profile service over gRPC at the
  same concurrency, and of the gateway over HTTP.

    .venv/bin/python bench/mesh_load.py [--contacts 150] [--seconds 10] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import NO_VENDOR_LIMITS, Load, closed_loop, cpu_seconds, ms

from linkmesh_devstack.stack import Stack
from linkmesh_sandboxes.bigcommerce import data as bc_data
from linkmesh_sandboxes.magento import data as mg_data

RETURNING = ("jane.smith@example.com", "john.doe@example.com", "priya.patel@example.com")
PROCESSES = ("profile", "gateway", "connector-bigcommerce", "connector-magento")
SANDBOXES = ("sandbox-bigcommerce", "sandbox-magento")


class Client:
    def __init__(self, stack: Stack, session: aiohttp.ClientSession, token: str = "") -> None:
        self.stack = stack
        self.session = session
        self.headers = {"Authorization": f"Bearer {token or stack.token('agent')}"}

    async def contact(self, email: str) -> dict:
        async with self.session.post(
            f"{self.stack.gateway_url}/api/v1/contacts", json={"channel": "email", "email": email}, headers=self.headers
        ) as resp:
            body = await resp.json()
            if resp.status != 200 or body.get("stale"):
                raise RuntimeError(f"contact failed: {resp.status} {body}")
            return body

    async def healthz(self) -> None:
        async with self.session.get(f"{self.stack.gateway_url}/healthz") as resp:
            await resp.read()

    async def vendor_person(self) -> str:
        """A person new to linkmesh whom BigCommerce and Magento both know (made through their own
        APIs, before the measured contacts): their first contact auto-links both systems."""
        email = f"pair-{uuid.uuid4().hex[:12]}@example.com"
        bigcommerce = f"{self.stack.sandbox_url('bigcommerce')}/stores/{bc_data.STORE_HASH}/v3/customers"
        auth = {"X-Auth-Token": bc_data.ACCESS_TOKEN, "Accept": "application/json"}
        async with self.session.post(bigcommerce, json=[{"email": email, "first_name": "Pair", "last_name": "Person"}], headers=auth) as r:
            assert r.status == 200, await r.text()
        magento = f"{self.stack.sandbox_url('magento')}/rest/default/V1/customers"
        body = {"customer": {"email": email, "firstname": "Pair", "lastname": "Person"}}
        async with self.session.post(magento, json=body, headers={"Authorization": f"Bearer {mg_data.ACCESS_TOKEN}"}) as r:
            assert r.status == 200, await r.text()
        return email


def pids(stack: Stack) -> dict[str, int]:
    """The mesh's processes, the database among them (sandboxes apart: ``SANDBOXES``)."""
    out = {name: stack.services[name].process.pid for name in PROCESSES}  # type: ignore[union-attr]
    if stack.mongo is not None and stack.mongo.process is not None:
        out["database"] = stack.mongo.process.pid
    for name in SANDBOXES:
        out[name] = stack.services[name].process.pid  # type: ignore[union-attr]
    return out


async def cpu_per_contact(stack: Stack, client: Client, emails: list[str]) -> dict[str, float]:
    ids = pids(stack)
    before = {name: cpu_seconds(pid) for name, pid in ids.items()}
    for email in emails:
        await client.contact(email)
    return {name: (cpu_seconds(pid) - before[name]) / len(emails) for name, pid in ids.items()}


async def run(args: argparse.Namespace, stack: Stack) -> None:
    apps = stack.ensure_demo_apps()
    for app in apps:
        if app["type"] in ("returnlogic", "lookup_adaptor", "shopify"):  # the figures measure the commerce mesh, as before
            stack.api("POST", f"/api/v1/apps/{app['id']}/deactivate")
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = Client(stack, session)
        for email in RETURNING:  # links them, and warms channels and pools
            linked = await client.contact(email)
            assert len(linked["linked"]) == 2, linked
        for _ in range(20):
            await client.contact(f"warm-{uuid.uuid4().hex[:12]}@example.net")

        new = await cpu_per_contact(stack, client, [f"cpu-{uuid.uuid4().hex[:12]}@example.net" for _ in range(args.contacts)])
        status, key = stack.api("POST", "/api/v1/api-keys", body={"name": "helpdesk integration", "role": "agent"})
        assert status == 201, key
        keyed = Client(stack, session, key["secret"])
        await keyed.contact(f"warm-{uuid.uuid4().hex[:12]}@example.net")
        new_keyed = await cpu_per_contact(stack, keyed, [f"key-{uuid.uuid4().hex[:12]}@example.net" for _ in range(args.contacts)])
        pairs = [await client.vendor_person() for _ in range(args.contacts)]
        autolinked = await cpu_per_contact(stack, client, pairs)
        returning = await cpu_per_contact(stack, client, [RETURNING[i % 3] for i in range(args.contacts)])
        cpu_table(
            args.contacts,
            {"new email": new, "new email, API key": new_keyed, "auto-links 2 systems": autolinked, "returning, 2 refreshed": returning},
        )

        async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.profile_port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            await health.Check(health_pb2.HealthCheckRequest())
            grpc_floor = await closed_loop(lambda i: health.Check(health_pb2.HealthCheckRequest()), args.concurrency, seconds=args.seconds)
        http_floor = await closed_loop(lambda i: client.healthz(), args.concurrency, seconds=args.seconds)
        contacts = await closed_loop(
            lambda i: client.contact(f"load-{uuid.uuid4().hex[:12]}@example.net"), args.concurrency, seconds=args.seconds
        )
    print(f"\nsaturation, {args.concurrency} clients back to back for {args.seconds:.0f}s each")
    show("gRPC floor (profile health check)", grpc_floor)
    show("HTTP floor (gateway /healthz)", http_floor)
    show("contacts, new email, 2 systems", contacts)
    print(
        f"contacts/s ÷ gRPC floor calls/s: {contacts.per_second / grpc_floor.per_second:.3f}   "
        f"(one contact costs {grpc_floor.per_second / contacts.per_second:.1f} health checks)"
    )


def cpu_table(contacts: int, kinds: dict[str, dict[str, float]]) -> None:
    print(f"CPU per contact ({contacts} sequential contacts of each kind), ms")
    print(f"{'process':<24}" + "".join(f"{kind:>24}" for kind in kinds))
    mesh = [*PROCESSES, "database"]
    for name in [*mesh, *SANDBOXES]:
        print(f"{name:<24}" + "".join(f"{cpu.get(name, 0.0) * 1000:24.2f}" for cpu in kinds.values()))
    totals = {kind: sum(cpu.get(n, 0.0) for n in mesh) * 1000 for kind, cpu in kinds.items()}
    print(f"{'mesh, database included':<24}" + "".join(f"{t:24.2f}" for t in totals.values()))
    goals = {"new email": 6.0, "new email, API key": 6.0, "auto-links 2 systems": 12.0}
    for kind, goal in goals.items():
        print(f"  {kind}: {totals[kind]:.2f} ms across the mesh, {totals[kind] / goal:.2f}x the goal of {goal:.0f} ms")


def show(name: str, load: Load) -> None:
    print(f"{name:<36} {load.per_second:8.1f}/s   p50 {ms(load.p50)}   p99 {ms(load.p99)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(base_dir=Path(tmp), extra_env={"PROFILE_FRESHNESS_S": "0", "PROFILE_EVENTS_FRESHNESS_S": "0", **NO_VENDOR_LIMITS})
        stack.start()
        try:
            asyncio.run(run(args, stack))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
