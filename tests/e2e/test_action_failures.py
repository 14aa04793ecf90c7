"""Order actions when things break: a vendor that acted and lost its answer, a
profile service killed mid-action, a graceful stop during an action."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from linkmesh_sandboxes.bigcommerce import data as bc_data
from tests.conftest import Api
from tests.e2e.test_actions import act, apps, linked_customer, vendor_calls  # noqa: F401 - the apps fixture

pytestmark = pytest.mark.e2e


def refund_body(app: dict[str, Any], order: str = "5001", lines: str = "500102:1") -> dict[str, Any]:
    return {"app_id": app["id"], "action": "refund", "order_id": order, "params": {"lines": lines}}


def traces(api: Api, app: dict[str, Any], customer: dict[str, Any]) -> list[dict[str, Any]]:
    return api.get(f"/api/v1/apps/{app['id']}/lookups", role="admin", params={"customer_id": customer["id"]}).json()["lookups"]


def test_a_refund_whose_answer_was_lost_runs_once_and_is_reported_unknown(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    api.sandbox(
        "bigcommerce",
        "POST",
        "/__sandbox/knobs",
        {"fail": {"status": 502, "path": "/payment_actions/refunds", "method": "POST", "after": True}},
    )
    first = act(api, customer, refund_body(bc), key="lost-1")
    assert first.status_code == 502 and first.json()["error"]["code"] == "outcome_unknown", first.text
    assert "outcome is unknown" in first.json()["error"]["message"]
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1, "sent once: no retry at any layer"
    again = act(api, customer, refund_body(bc), key="lost-1")
    assert again.status_code == 502 and again.json()["error"]["code"] == "outcome_unknown", again.text
    assert "outcome is unknown" in again.json()["error"]["message"]
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1, "a retry with the key never runs it again"
    # The vendor did act once (its own API says so), and the debugger says the outcome was unknown.
    order = api.session.get(
        f"{api.stack.sandbox_url('bigcommerce')}/stores/{bc_data.STORE_HASH}/v2/orders/5001",
        headers={"X-Auth-Token": bc_data.ACCESS_TOKEN, "Accept": "application/json"},
        timeout=10,
    ).json()
    assert float(order["refunded_amount"]) == 14.5
    action_traces = [t for t in traces(api, bc, customer) if t["kind"] == "action"]
    assert action_traces[0]["code"] == "UNAVAILABLE" and "unknown" in action_traces[0]["response"]["outcome"]


def test_an_action_that_failed_before_its_write_releases_the_key(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"fail": {"status": 500, "path": "/v2/orders/5001", "method": "GET"}})
    first = act(api, customer, refund_body(bc), key="early-1")
    assert first.status_code == 503 and "unknown" not in first.json()["error"]["message"]
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"fail": None})
    second = act(api, customer, refund_body(bc), key="early-1")
    assert second.status_code == 200 and second.headers["Idempotent-Replayed"] == "false", "nothing was sent: the same key runs it"
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1


def back_again(api: Api) -> None:
    """The restarted profile service, and the gateway's channel to it: traffic during the restart
    (the sandboxes' webhook deliveries, retried) leaves the channel in its reconnect back-off, so
    for up to a second after the service is back the gateway still answers 503, as it should."""
    api.stack.services["profile"].wait_ready()
    deadline = time.monotonic() + 10
    while api.get("/readyz", role=None).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)


def run_in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["response"] = fn()
        except Exception as exc:
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


def test_a_profile_service_killed_mid_action_leaves_an_unknown_outcome_after_its_lease(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    profile = api.stack.services["profile"]
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 600})
    thread, out = run_in_thread(lambda: act(api, customer, refund_body(bc), key="killed-1"))
    time.sleep(1.0)  # the action is under way at the vendor
    assert profile.process is not None
    os.kill(profile.process.pid, signal.SIGKILL)
    profile.process.wait()
    thread.join(20)
    # The gateway lost the profile service mid-action: the vendor may have acted, and it says so.
    assert out["response"].status_code == 502, out["response"].text
    assert out["response"].json()["error"]["code"] == "outcome_unknown"
    profile.start()
    back_again(api)
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 0})
    still = act(api, customer, refund_body(bc), key="killed-1")
    assert still.status_code == 409 and "still running" in still.json()["error"]["message"], "within its lease the record is running"
    deadline = time.monotonic() + 20  # action timeout (3 s in the test stack) plus the lease margin
    while True:
        answer = act(api, customer, refund_body(bc), key="killed-1")
        if "still running" not in answer.json()["error"]["message"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert answer.status_code == 502 and answer.json()["error"]["code"] == "outcome_unknown", answer.text
    message = answer.json()["error"]["message"]
    assert "outcome is unknown" in message and "stopped" in message, message
    lost = [t for t in traces(api, bc, customer) if t["kind"] == "action" and t["code"] == "UNKNOWN"]
    assert lost and "stopped" in lost[0]["message"], "the debugger shows the lost action"


def test_a_graceful_stop_lets_a_running_action_finish(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    profile = api.stack.services["profile"]
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 300})
    thread, out = run_in_thread(lambda: act(api, customer, refund_body(bc, lines="500101:1"), key="graceful-1"))
    time.sleep(0.5)
    profile.stop(timeout=30)  # SIGTERM: the grace period outlasts the action deadline
    thread.join(30)
    profile.start()
    back_again(api)
    assert "error" not in out, out
    assert out["response"].status_code == 200, out["response"].text
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1


@pytest.mark.parametrize("amount", ["Infinity", "NaN", "1e400"])
def test_non_finite_amounts_never_reach_the_vendor(api: Api, apps: dict[str, Any], amount: str) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    body = {"app_id": bc["id"], "action": "create_discount_code", "params": {"type": "per_total_discount", "amount": amount}}
    answer = act(api, customer, body, key=f"coupon-{amount}")
    assert answer.status_code == 422 and "params.amount" in answer.json()["error"]["fields"], answer.text
    assert vendor_calls(api, "bigcommerce", "/v2/coupons") == 0
