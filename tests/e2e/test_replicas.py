"""Many replicas, one budget: the real processes, two profile services and two BigCommerce and
two ReturnLogic connector replicas over one MongoDB, every caller balancing over the replicas
of what it calls (a gRPC address list, round-robin, as a headless Service gives in Kubernetes).

What is counted is what the vendor sandboxes received (their request logs), so the tests hold
whatever the services believe they did."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import requests
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc
from linkmesh.profile.v1 import customers_pb2_grpc, profile_pb2

from linkmesh_core.channels import open_channel
from linkmesh_devstack.stack import Stack
from linkmesh_sandboxes.returnlogic import data as returnlogic_data
from tests.logcheck import tracebacks

FRESHNESS_S = 1.0
DEMO_APPS: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        base_dir=tmp_path_factory.mktemp("replicas"),
        replicas={"profile": 2, "bigcommerce": 2, "returnlogic": 2},
        # a connector call may wait its turn for up to 20 s (30 searches at 2/s take 15 s)
        extra_env={
            "PROFILE_FRESHNESS_S": str(FRESHNESS_S),
            "PROFILE_EVENTS_FRESHNESS_S": str(FRESHNESS_S),
            "PROFILE_BREAKER_THRESHOLD": "50",
            "CONNECTOR_VENDOR_TIMEOUT_S": "20",
        },
    )
    stack.start()
    try:
        DEMO_APPS.update({a["type"]: a for a in stack.ensure_demo_apps()})
        # Each replica sees an app another one wrote within PROFILE_APP_CACHE_S (1 s): the last
        # write (the Shopify app's subscription state) may have been the other replica's.
        time.sleep(1.2)
        yield stack
    finally:
        stack.stop()
    for service in stack.services.values():
        if not service.name.startswith("sandbox"):
            assert not tracebacks(service.log_tail(10_000_000)), f"{service.name} logged a traceback"


def sandbox(stack: Stack, vendor: str, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, f"{stack.sandbox_url(vendor)}{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def vendor_requests(stack: Stack, vendor: str) -> list[dict[str, Any]]:
    return [r for r in sandbox(stack, vendor, "GET", "/__sandbox/requests") if not r["path"].startswith("/__sandbox")]


def clear_requests(stack: Stack) -> None:
    for vendor in stack.vendors:
        sandbox(stack, vendor, "DELETE", "/__sandbox/requests")


def counts(stack: Stack) -> dict[str, int]:
    """Requests per vendor, but BigCommerce's store details, customer groups' names and products'
    storefront paths, which each connector replica reads once and keeps for minutes (the first open
    on a replica reads them)."""
    kept = re.compile(r"/v2/store$|/v2/customer_groups/\d+$|/v3/catalog/products$")
    return {vendor: len([r for r in vendor_requests(stack, vendor) if not kept.search(r["path"])]) for vendor in stack.vendors}


def profile_stub(port: int) -> tuple[grpc.aio.Channel, customers_pb2_grpc.CustomerServiceStub]:
    channel = open_channel(f"127.0.0.1:{port}")
    return channel, customers_pb2_grpc.CustomerServiceStub(channel)


async def test_a_burst_of_opens_on_both_profile_replicas_makes_one_opens_vendor_calls(replicas: Stack) -> None:
    ports = replicas.replica_ports["profile"]
    channels, stubs_ = zip(*(profile_stub(p) for p in ports), strict=True)
    try:
        jane = await stubs_[0].CreateCustomer(
            profile_pb2.CreateCustomerRequest(customer=profile_pb2.CustomerInput(name="Jane Smith", emails=["jane.smith@example.com"])),
            timeout=30,
        )
        linked = {link.app_id for link in jane.links}
        assert len(linked) == len(replicas.vendors), "auto-linked to every demo app"
        # One open of the stale profile, alone: what it costs each vendor.
        await asyncio.sleep(FRESHNESS_S + 0.2)
        clear_requests(replicas)
        await stubs_[1].GetCustomer(profile_pb2.GetCustomerRequest(id=jane.id), timeout=30)
        one_open = counts(replicas)
        assert all(one_open.values()), one_open
        # Twenty opens at once, ten on each replica, of the same stale profile.
        await asyncio.sleep(FRESHNESS_S + 0.2)
        clear_requests(replicas)
        answers = await asyncio.gather(
            *(stubs_[i % 2].GetCustomer(profile_pb2.GetCustomerRequest(id=jane.id), timeout=30) for i in range(20))
        )
        assert counts(replicas) == one_open, "the replicas shared one refresh per app"
        assert all(len(a.links) == len(replicas.vendors) and not any(link.HasField("stale") for link in a.links) for a in answers)
        assert len({a.links[0].refreshed_at.ToDatetime() for a in answers}) == 1, "every open shows the one refresh"
    finally:
        for channel in channels:
            await channel.close()


def returnlogic_app() -> lookup_pb2.AppContext:
    return lookup_pb2.AppContext(
        app_id="replica-test",
        settings={"api_base_url": "", "app_base_url": "https://app.example"},
        secrets={"api_key": returnlogic_data.API_KEY},
    )


async def test_thirty_searches_over_two_returnlogic_replicas_keep_to_the_keys_two_per_second(replicas: Stack) -> None:
    """The key allows 2 requests per second, counted by the vendor as they arrive: together the
    replicas never send a third within a second, and the vendor never answers 429."""
    app = returnlogic_app()
    app.settings["api_base_url"] = f"{replicas.sandbox_url('returnlogic')}/v1"
    channels = [open_channel(f"127.0.0.1:{p}") for p in replicas.replica_ports["returnlogic"]]
    clear_requests(replicas)
    await asyncio.sleep(1.2)  # the earlier tests' requests are out of the window
    try:
        searches = [
            lookup_pb2_grpc.LookupServiceStub(channels[i % 2]).Search(
                lookup_pb2.SearchRequest(app=app, emails=["jane.smith@example.com"]), timeout=40
            )
            for i in range(30)
        ]
        answers = await asyncio.gather(*searches)
    finally:
        for channel in channels:
            await channel.close()
    assert all([c.external_id for c in a.candidates] == ["jane.smith@example.com"] for a in answers)
    log = vendor_requests(replicas, "returnlogic")
    assert len(log) >= 30
    arrivals = sorted(r["at"] for r in log)
    closest = min(later - earlier for earlier, later in zip(arrivals, arrivals[2:], strict=False))
    assert closest >= 1.0, f"three requests arrived within {closest:.3f}s"
    assert [r["status"] for r in log] == [200] * len(log), "no 429, no other failure"


async def test_killing_a_connector_replica_mid_burst_loses_no_search(replicas: Stack) -> None:
    app_id = DEMO_APPS["bigcommerce"]["id"]
    sandbox(replicas, "bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 300})
    victim = replicas.services[Stack.replica_name("connector-bigcommerce", 1)]
    channel, stub = profile_stub(replicas.replica_ports["profile"][0])
    try:
        searches = [
            asyncio.ensure_future(
                stub.SearchExternal(profile_pb2.SearchExternalRequest(app_id=app_id, email="jane.smith@example.com"), timeout=20)
            )
            for _ in range(20)
        ]
        await asyncio.sleep(0.15)  # in flight on both replicas
        assert victim.process is not None
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        answers = await asyncio.gather(*searches)
        assert [len(a.results) for a in answers] == [1] * 20, "every search answered by the replica left"
        started = time.monotonic()
        after = await stub.SearchExternal(profile_pb2.SearchExternalRequest(app_id=app_id, email="jane.smith@example.com"), timeout=20)
        assert len(after.results) == 1 and time.monotonic() - started < 5
    finally:
        sandbox(replicas, "bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 0})
        await channel.close()
        victim.start()
        victim.wait_ready()
