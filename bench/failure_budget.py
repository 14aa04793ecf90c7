"""Benchmark: how many vendor calls does one failed request cost?

Starts the whole stack (real processes), then, against a BigCommerce sandbox
that answers every matching request with 500, counts in the sandbox's own
request log the vendor calls each request made, next to the same request when
the vendor answers (the baseline, measured in the same run):

- a search of one app (a read: retried at the vendor client only, goal <= 3);
- a manual link (a DETAILED read, goal <= 3 per vendor call it needs);
- a refund (a write: sent once, goal 1 refund POST);
- once the app's circuit is open: further searches (goal 0 vendor calls, and
  the answer's time next to a failed search's time);
- a refund whose answer was lost after BigCommerce made it: the seconds from the lost
  answer (502 outcome_unknown) to the resolved outcome read from BigCommerce's own refunds,
  polled with the same Idempotency-Key, next to the first check's configured delay (the
  floor) and an answered refund's time, all in the same run.

Each scenario uses an app of its own, so one's failures do not open another's
circuit.

    .venv/bin/python bench/failure_budget.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from linkmesh_devstack.stack import Stack
from linkmesh_sandboxes.bigcommerce import data


class Bench:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def sandbox(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            f"{self.stack.sandbox_url('bigcommerce')}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def vendor_calls(self, fragment: str = "", method: str = "") -> int:
        return sum(1 for r in self.sandbox("GET", "/__sandbox/requests") if fragment in r["path"] and (not method or r["method"] == method))

    def app(self) -> dict[str, Any]:
        status, app = self.stack.api(
            "POST",
            "/api/v1/apps",
            body={
                "type": "bigcommerce",
                "name": f"budget-{uuid.uuid4().hex[:6]}",
                "settings": {"store_hash": data.STORE_HASH, "api_base_url": self.stack.sandbox_url("bigcommerce")},
                "secrets": {"access_token": data.ACCESS_TOKEN},
                "actions_enabled": True,
                "search_query_attributes": [{"attribute": "email", "label": "Email"}],
            },
        )
        assert status == 201, app
        return app

    def customer(self) -> dict[str, Any]:
        status, customer = self.stack.api("POST", "/api/v1/customers", role="agent", body={"name": "Budget"})
        assert status == 201, customer
        return customer

    def measure(self, call: Any, fragment: str = "", method: str = "", fail: dict[str, Any] | None = None) -> tuple[int, int, float]:
        """(status, vendor calls, seconds) of one request, with the sandbox failing as ``fail`` says."""
        self.sandbox("POST", "/__sandbox/knobs", {"fail": fail})
        self.sandbox("DELETE", "/__sandbox/requests")
        started = time.perf_counter()
        status, _ = call()
        elapsed = time.perf_counter() - started
        calls = self.vendor_calls(fragment, method)
        self.sandbox("POST", "/__sandbox/knobs", {"fail": None})
        return status, calls, elapsed


FIRST_CHECK_S = 2.0  # the profile service's first ResolveAction delay (PROFILE_ACTION_RESOLVE_DELAYS_S)


def lost_refund_resolution(b: Bench, act: Any) -> tuple[float, int]:
    """Seconds from a refund answer lost after the vendor acted to its resolved outcome (another line of the
    order than the refunds before it: those, made moments earlier, would make it ambiguous)."""
    b.sandbox("POST", "/__sandbox/knobs", {"fail": {"status": 502, "path": "/payment_actions/refunds", "method": "POST", "after": True}})
    b.sandbox("DELETE", "/__sandbox/requests")
    status, _ = act("budget-lost", "500101:1")
    lost_at = time.perf_counter()
    assert status == 502, status
    b.sandbox("POST", "/__sandbox/knobs", {"fail": None})
    polls = 0
    while status != 200 and time.perf_counter() - lost_at < 60:
        time.sleep(0.1)
        status, _ = act("budget-lost", "500101:1")
        polls += 1
    assert status == 200, status
    assert b.vendor_calls("/payment_actions/refunds", "POST") == 1
    return time.perf_counter() - lost_at, polls


def row(name: str, ok_calls: int, failed_calls: int, goal: str) -> None:
    ratio = failed_calls / ok_calls if ok_calls else float("nan")
    print(f"{name:<34} {ok_calls:>10} {failed_calls:>12} {ratio:>7.2f}x   {goal}")


def circuit_open_searches(b: Bench, stack: Stack) -> tuple[list[float], list[float]]:
    """Searches while the vendor is down: until the circuit opens, then with it open."""
    app, customer = b.app(), b.customer()
    search = {"app_id": app["id"], "email": "jane.smith@example.com"}
    path = f"/api/v1/customers/{customer['id']}/external-search"
    b.sandbox("POST", "/__sandbox/knobs", {"down": True, "latency_ms": 200})
    times = []
    for _ in range(3):  # the profile service's breaker threshold
        started = time.perf_counter()
        stack.api("POST", path, role="agent", body=search)
        times.append(time.perf_counter() - started)
    b.sandbox("DELETE", "/__sandbox/requests")
    open_times = []
    for _ in range(10):
        started = time.perf_counter()
        stack.api("POST", path, role="agent", body=search)
        open_times.append(time.perf_counter() - started)
    open_calls = b.vendor_calls()
    b.sandbox("POST", "/__sandbox/reset")
    print(f"{'search, circuit open (x10)':<34} {'':>10} {open_calls:>12} {'':>8}   0 vendor calls")
    return times, open_times


def refunds(b: Bench, stack: Stack, app: dict[str, Any], customer: dict[str, Any]) -> tuple[int, int, float, Callable[..., Any]]:
    """Vendor POSTs of a refund whose vendor answers 500 and of one it answers; the refunding call, for later."""
    refund = {"app_id": app["id"], "action": "refund", "order_id": "5001", "params": {"lines": "500102:1"}}

    def act(key: str, lines: str = "500102:1") -> Any:
        body = {**refund, "params": {"lines": lines}}
        request = urllib.request.Request(
            f"{stack.gateway_url}/api/v1/customers/{customer['id']}/actions",
            method="POST",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {stack.token('agent')}", "Content-Type": "application/json", "Idempotency-Key": key},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, None
        except urllib.error.HTTPError as err:
            return err.code, None

    _, failed, _ = b.measure(
        lambda: act("budget-1"), "/payment_actions/refunds", "POST", fail={"status": 500, "path": "/payment_actions/refunds"}
    )
    _, ok, answered_s = b.measure(lambda: act("budget-2"), "/payment_actions/refunds", "POST")
    return failed, ok, answered_s, act


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            base_dir=Path(tmp),
            extra_env={"SANDBOX_RATE_LIMIT_QUOTA": "100000", "PROFILE_ACTION_RESOLVE_DELAYS_S": f"{FIRST_CHECK_S:g},5,15"},
        )
        stack.start()
        try:
            b = Bench(stack)
            print(f"{'request':<34} {'answered':>10} {'vendor 500':>12} {'ratio':>8}   goal")

            app, customer = b.app(), b.customer()
            search = {"app_id": app["id"], "email": "jane.smith@example.com"}
            path = f"/api/v1/customers/{customer['id']}/external-search"
            _, ok, _ = b.measure(lambda: stack.api("POST", path, role="agent", body=search))
            _, failed, search_s = b.measure(lambda: stack.api("POST", path, role="agent", body=search), fail={"status": 500})
            row("search one app (read)", ok, failed, "<= 3")

            app, customer = b.app(), b.customer()
            link = {"app_id": app["id"], "external_customer_id": "101"}
            _, failed, _ = b.measure(
                lambda: stack.api("POST", f"/api/v1/customers/{customer['id']}/links", role="agent", body=link), fail={"status": 500}
            )
            status, ok, _ = b.measure(lambda: stack.api("POST", f"/api/v1/customers/{customer['id']}/links", role="agent", body=link))
            assert status == 201
            row("manual link (DETAILED read)", ok, failed, "<= 3 x the answered calls")

            failed, ok, answered_s, act = refunds(b, stack, app, customer)
            row("refund (write)", ok, failed, "1: sent once")
            resolved_s, polls = lost_refund_resolution(b, act)

            times, open_times = circuit_open_searches(b, stack)
            print(
                f"\nfailed search while the vendor is down: median {statistics.median(times) * 1000:.0f} ms; "
                f"once the circuit is open: median {statistics.median(open_times) * 1000:.1f} ms "
                f"({statistics.median(open_times) / statistics.median(times):.3f}x); "
                f"one failed search with a 500 vendor: {search_s * 1000:.0f} ms"
            )
            print(
                f"lost refund answer → outcome resolved from BigCommerce's refunds: {resolved_s:.1f} s "
                f"({resolved_s / FIRST_CHECK_S:.2f}x the first check's delay of {FIRST_CHECK_S:g} s; an answered refund took "
                f"{answered_s * 1000:.0f} ms; {polls} retries with the same key, 1 refund POST)"
            )
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
