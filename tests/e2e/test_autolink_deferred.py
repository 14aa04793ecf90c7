"""Auto-link work a rate limit refused is queued durably and completed when the
vendor's window resets, across a restart of the profile service."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from tests.conftest import Api
from tests.e2e.test_linking_rules import make_app, vendor_customer

pytestmark = pytest.mark.e2e


def test_a_burst_the_rate_limit_refuses_is_queued_and_completed_after_a_restart(api: Api, sandbox_reset: None) -> None:
    app = make_app(api, auto_link_fields=["email"])
    before = api.sandbox("bigcommerce", "GET", "/__sandbox/knobs")  # a reset keeps the quota: put it back after
    try:
        people = [vendor_customer(api) for _ in range(6)]
        # The store's window: 8 requests per 9 s, longer than one lookup's deadline (8 s), so a
        # refused call is refused at once rather than waited for.
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"rate_limit_quota": 8, "rate_limit_window_ms": 9000})

        async def burst() -> list[dict[str, Any]]:
            headers = {"Authorization": f"Bearer {api.stack.token('agent')}"}
            async with aiohttp.ClientSession(headers=headers) as http:

                async def one(email: str) -> dict[str, Any]:
                    async with http.post(f"{api.stack.gateway_url}/api/v1/contacts", json={"channel": "email", "email": email}) as resp:
                        assert resp.status == 200, await resp.text()
                        return await resp.json()

                return await asyncio.gather(*(one(p["email"]) for p in people))

        answers = asyncio.run(burst())
        pending = [a for a in answers if app["id"] in a["pending"]]
        linked = [a for a in answers if app["id"] in a["linked"]]
        assert pending, "the rate limit deferred some auto-links"
        assert len(pending) + len(linked) == len(people), "every contact was linked or queued: none was dropped"

        profile = api.stack.services["profile"]
        profile.stop()  # the queue is in MongoDB: a restart loses nothing
        profile.start()
        profile.wait_ready()

        def decisions(customer_id: str) -> list[dict[str, Any]]:  # the debugger: reading it costs the vendor nothing
            lookups = api.get(f"/api/v1/apps/{app['id']}/lookups", role="admin", params={"customer_id": customer_id}).json()["lookups"]
            return [t for t in lookups if t["kind"] == "autolink"]

        deadline = time.monotonic() + 90
        while True:
            done = [a for a in answers if any(t["decision"] == "linked" for t in decisions(a["customer_id"]))]
            if len(done) == len(people) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert len(done) == len(people), f"{len(done)} of {len(people)} linked after the window reset"
        for a in answers:
            assert any(l["app_id"] == app["id"] for l in api.get(f"/api/v1/customers/{a['customer_id']}").json()["links"])
        reasons = [t["reason"] for a in pending for t in decisions(a["customer_id"]) if t["decision"] == "pending"]
        assert reasons and "queued" in reasons[0], "the debugger shows why it waited"
    finally:
        api.sandbox(
            "bigcommerce",
            "POST",
            "/__sandbox/knobs",
            {"rate_limit_quota": before["rate_limit_quota"], "rate_limit_window_ms": before["rate_limit_window_ms"]},
        )
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
