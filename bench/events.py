"""Benchmark: the vendors' change events (issue 34), against floors measured in the same run.

Starts the whole stack (the Shopify demo app subscribes to its sandbox's webhooks under the
gateway's address), links Jane, then measures:

- change to profile: a refund made at Shopify's own API until the linked profile shows the
  app read again (p50, p99), as a ratio to one forced read of that app (the floor: what the
  event's refresh itself costs);
- intake: signed deliveries one gateway replica takes into the inbox per second, at 20
  concurrent senders, as a ratio to the gateway's own floor (GET /healthz at the same load).

    .venv/bin/python bench/events.py --rounds 10 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from benchlib import NO_VENDOR_LIMITS, closed_loop, percentile

from linkmesh_devstack.stack import Stack
from linkmesh_sandboxes.shopify import data

REFUND = """mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }"""


def shopify(stack: Stack, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{stack.sandbox_url('shopify')}/admin/api/2025-01/graphql.json",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "X-Shopify-Access-Token": data.ACCESS_TOKEN},
    )
    answer: dict[str, Any] = json.loads(urllib.request.urlopen(request, timeout=10).read())
    if answer.get("errors"):
        raise RuntimeError(answer["errors"])
    return answer


def refreshed_at(stack: Stack, customer_id: str, app_id: str) -> str:
    status, body = stack.api("GET", f"/api/v1/customers/{customer_id}?refresh=none", role="agent")
    if status != 200:
        raise RuntimeError(f"profile: {status}")
    return str(next(link["refreshed_at"] for link in body["links"] if link["app_id"] == app_id))


def change_to_profile(stack: Stack, customer_id: str, app_id: str) -> float:
    """A refund of 1.00 on order #1001 at Shopify, until the profile shows the app read again."""
    before = refreshed_at(stack, customer_id, app_id)
    started = time.perf_counter()
    order = "gid://shopify/Order/5101"
    refund: dict[str, Any] = {"orderId": order, "note": "bench"}
    refund["transactions"] = [{"orderId": order, "kind": "REFUND", "gateway": data.GATEWAY, "amount": "1.00"}]
    shopify(stack, REFUND, {"input": refund})
    while refreshed_at(stack, customer_id, app_id) == before:
        if time.perf_counter() - started > 30:
            raise RuntimeError("the change never reached the profile")
        time.sleep(0.01)
    return time.perf_counter() - started


def forced_read(stack: Stack, customer_id: str, app_id: str) -> float:
    started = time.perf_counter()
    status, _ = stack.api("GET", f"/api/v1/customers/{customer_id}?refresh={app_id}", role="agent")
    if status != 200:
        raise RuntimeError(f"open: {status}")
    return time.perf_counter() - started


async def intake(stack: Stack, app_id: str, seconds: float) -> tuple[float, float]:
    """Deliveries per second into the inbox, and the gateway's floor at the same load."""
    url = f"{stack.gateway_url}/webhooks/v1/apps/{app_id}"
    body = json.dumps({"id": 1, "customer": {"id": 999999}}).encode()  # no one links it: recorded and dropped
    signed = base64.b64encode(hmac.new(data.CLIENT_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    async with aiohttp.ClientSession() as http:

        async def deliver(i: int) -> None:
            headers = {"X-Shopify-Topic": "orders/updated", "X-Shopify-Hmac-Sha256": signed, "X-Shopify-Event-Id": str(uuid.uuid4())}
            async with http.post(url, data=body, headers={**headers, "Content-Type": "application/json"}) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"delivery: {resp.status} {await resp.text()}")

        async def floor(i: int) -> None:
            async with http.get(f"{stack.gateway_url}/healthz") as resp:
                await resp.read()

        kept = await closed_loop(deliver, 20, seconds=seconds)
        base = await closed_loop(floor, 20, seconds=seconds)
    return kept.per_second, base.per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # Shopify's cost bucket lifted too: each refresh asks ~822 points of a 1000-point bucket
        # refilled at 50 a second, so back-to-back rounds would measure Shopify's budget, not the mesh.
        limits = {**NO_VENDOR_LIMITS, "SANDBOX_SHOPIFY_BUCKET": "100000000"}
        stack = Stack(base_dir=Path(tmp), extra_env={**limits, "PROFILE_FRESHNESS_S": "3600"})
        stack.start()
        try:
            apps = {a["type"]: a for a in stack.ensure_demo_apps()}
            time.sleep(1.2)  # every replica's app cache
            shop = apps["shopify"]
            _, jane = stack.api("POST", "/api/v1/contacts", body={"channel": "email", "email": "jane.smith@example.com"}, role="agent")
            customer_id = jane["customer_id"]
            floors = [forced_read(stack, customer_id, shop["id"]) for _ in range(args.rounds)]
            changes = [change_to_profile(stack, customer_id, shop["id"]) for _ in range(args.rounds)]
            per_s, floor_per_s = asyncio.run(intake(stack, shop["id"], args.seconds))
        finally:
            stack.stop()
    floor_p50 = percentile(floors, 50)
    print(f"events: Shopify webhooks ({shop['webhooks']['state']}, {len(shop['webhooks']['topics'])} topics), {args.rounds} rounds")
    print(f"  one forced read of the app (floor):   p50 {floor_p50 * 1000:7.1f} ms")
    for p in (50, 99):
        value = percentile(changes, p)
        print(f"  change at Shopify to the profile: p{p} {value * 1000:7.1f} ms  ({value / floor_p50:.2f}x the floor)")
    print(
        f"  deliveries into the inbox, 20 senders: {per_s:8.1f}/s  (the gateway's GET /healthz: {floor_per_s:8.1f}/s, {per_s / floor_per_s:.2f}x)"
    )


if __name__ == "__main__":
    main()
