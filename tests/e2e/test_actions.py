"""Order actions end to end: forms, validation, ownership, vendor state rules,
idempotent retries, the refresh afterwards and the record in the debugger."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest

from linkmesh_sandboxes.bigcommerce import data as bc
from linkmesh_sandboxes.magento import data as mg
from linkmesh_sandboxes.returnlogic import data as rl
from tests.conftest import Api

pytestmark = pytest.mark.e2e


def make_app(api: Api, kind: str, **over: Any) -> dict[str, Any]:
    base = {
        "bigcommerce": {
            "settings": {"store_hash": bc.STORE_HASH, "api_base_url": api.stack.sandbox_url("bigcommerce")},
            "secrets": {"access_token": bc.ACCESS_TOKEN},
        },
        "magento": {
            "settings": {"api_base_url": api.stack.sandbox_url("magento"), "coupon_rule_id": "1"},
            "secrets": {"access_token": mg.ACCESS_TOKEN},
        },
        "returnlogic": {
            "settings": {"api_base_url": f"{api.stack.sandbox_url('returnlogic')}/v1", "app_base_url": "https://rl.example"},
            "secrets": {"api_key": rl.API_KEY},
        },
    }[kind]
    payload = {
        "type": kind,
        "name": f"{kind} actions {uuid.uuid4().hex[:6]}",
        "search_query_attributes": [{"attribute": "email", "label": "Email"}],
        "auto_link_fields": [],
        "actions_enabled": True,
        **base,
        **over,
    }
    response = api.post("/api/v1/apps", payload, role="admin")
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture()
def apps(api: Api, sandbox_reset: None) -> Any:
    made = {kind: make_app(api, kind) for kind in ("bigcommerce", "magento", "returnlogic")}
    yield made
    for app in made.values():
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def linked_customer(api: Api, links: dict[str, tuple[dict[str, Any], str]]) -> dict[str, Any]:
    customer = api.post("/api/v1/customers", {"name": "Action Test"}).json()
    for app, external_id in links.values():
        response = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": app["id"], "external_customer_id": external_id})
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:  # linked to another test's profile: unlink that one first
            other = response.json()["error"]["message"].rsplit(" ", 1)[-1]
            api.delete(f"/api/v1/customers/{other}/links")
            assert (
                api.post(
                    f"/api/v1/customers/{customer['id']}/links", {"app_id": app["id"], "external_customer_id": external_id}
                ).status_code
                == 201
            )
    return customer


def act(api: Api, customer: dict[str, Any], body: dict[str, Any], key: str | None = None) -> Any:
    headers: dict[str, str] = {}
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.post(f"/api/v1/customers/{customer['id']}/actions", body, headers=headers)


def vendor_calls(api: Api, vendor: str, fragment: str, method: str = "POST") -> int:
    return sum(1 for r in api.sandbox(vendor, "GET", "/__sandbox/requests") if fragment in r["path"] and r["method"] == method)


def test_connectors_describe_their_action_forms(api: Api) -> None:
    connectors = {c["type"]: c for c in api.get("/api/v1/connectors").json()["connectors"]}
    assert [a["name"] for a in connectors["bigcommerce"]["actions"]] == ["refund", "cancel", "create_discount_code"]
    refund = connectors["bigcommerce"]["actions"][0]
    assert refund["order_required"] is True and refund["fields"][0]["type"] == "lines"
    discount = connectors["bigcommerce"]["actions"][2]
    assert discount["fields"][0]["options"] == ["percentage_discount", "per_total_discount", "free_shipping"]
    assert [a["name"] for a in connectors["magento"]["actions"]] == ["cancel", "refund", "generate_coupon"]
    assert [a["name"] for a in connectors["returnlogic"]["actions"]] == ["start_return"]


def test_actions_are_refused_before_anything_runs(api: Api, apps: dict[str, Any]) -> None:
    customer = linked_customer(api, {"bc": (apps["bigcommerce"], "101")})
    body = {"app_id": apps["bigcommerce"]["id"], "action": "refund", "order_id": "5001"}
    missing_key = act(api, customer, body)
    assert missing_key.status_code == 422 and "Idempotency-Key" in missing_key.json()["error"]["fields"]
    bad = act(api, customer, {**body, "order_id": "", "params": {"lines": "x", "colour": "red"}}, key="k-bad")
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"params.lines", "params.colour", "order_id"}
    unknown = act(api, customer, {**body, "action": "teleport"}, key="k-unknown")
    assert unknown.status_code == 422 and "action" in unknown.json()["error"]["fields"]
    elsewhere = act(api, customer, {**body, "order_id": "5004"}, key="k-elsewhere")
    assert elsewhere.status_code == 404 and "not an order of this customer" in elsewhere.json()["error"]["message"]
    off = make_app(api, "bigcommerce", actions_enabled=False)
    try:
        refused = act(api, customer, {**body, "app_id": off["id"]}, key="k-off")
        assert refused.status_code == 409 and "actions are turned off" in refused.json()["error"]["message"]
    finally:
        api.delete(f"/api/v1/apps/{off['id']}", role="admin")
    assert (
        api.post(f"/api/v1/customers/{customer['id']}/actions", body, role="developer", headers={"Idempotency-Key": "x"}).status_code == 403
    )
    assert vendor_calls(api, "bigcommerce", "payment_actions") == 0


def test_bigcommerce_refund_is_idempotent_and_never_exceeds_what_was_paid(api: Api, apps: dict[str, Any]) -> None:
    customer = linked_customer(api, {"bc": (apps["bigcommerce"], "101")})
    body = {
        "app_id": apps["bigcommerce"]["id"],
        "action": "refund",
        "order_id": "5001",
        "params": {"lines": "500102:1", "reason": "damaged"},
    }
    first = act(api, customer, body, key="refund-1")
    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Refunded 14.50 USD on order 5001" and first.headers["Idempotent-Replayed"] == "false"
    again = act(api, customer, body, key="refund-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1, "a retried refund never refunds twice"
    other = act(api, customer, {**body, "params": {"lines": "500102:2"}}, key="refund-1")
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]["fields"]
    too_much = act(api, customer, {**body, "params": {"lines": "500102:3"}}, key="refund-2")
    assert too_much.status_code == 409 and "BigCommerce refused the refund" in too_much.json()["error"]["message"]
    assert act(api, customer, {**body, "params": {"lines": "500102:3"}}, key="refund-2").json() == too_much.json(), (
        "a refusal is answered again"
    )
    rest = act(api, customer, {**body, "params": {}}, key="refund-3")
    assert rest.status_code == 200 and rest.json()["message"] == "Refunded 113.95 USD on order 5001"
    order = next(
        o
        for l in rest.json()["customer"]["links"]
        if l["app_id"] == apps["bigcommerce"]["id"]
        for o in l["data"]["orders"]
        if o["id"] == "5001"
    )
    assert order["status"] == "Refunded", "the profile was refreshed from the app after the action"
    nothing = act(api, customer, {**body, "params": {}}, key="refund-4")
    assert nothing.status_code == 409 and "already refunded" in nothing.json()["error"]["message"]
    cancel = act(api, customer, {"app_id": apps["bigcommerce"]["id"], "action": "cancel", "order_id": "5001"}, key="cancel-refunded")
    assert cancel.status_code == 409 and "refunded in full" in cancel.json()["error"]["message"]


async def test_concurrent_retries_with_one_key_run_once(api: Api, apps: dict[str, Any]) -> None:
    customer = linked_customer(api, {"bc": (apps["bigcommerce"], "101")})
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 150})
    body = {"app_id": apps["bigcommerce"]["id"], "action": "refund", "order_id": "5002", "params": {"lines": "500202:1"}}
    headers = {"Authorization": f"Bearer {api.stack.token('agent')}", "Idempotency-Key": "burst-1"}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def one() -> int:
            async with http.post(f"{api.stack.gateway_url}/api/v1/customers/{customer['id']}/actions", json=body) as resp:
                return resp.status

        statuses = await asyncio.gather(*(one() for _ in range(8)))
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1


def test_bigcommerce_cancel_and_discount_code(api: Api, apps: dict[str, Any]) -> None:
    customer = linked_customer(api, {"bc": (apps["bigcommerce"], "101")})
    cancel = {"app_id": apps["bigcommerce"]["id"], "action": "cancel", "order_id": "5003"}
    done = act(api, customer, cancel, key="c-1")
    assert done.status_code == 200 and done.json()["message"] == "Order 5003 cancelled"
    again = act(api, customer, cancel, key="c-2")
    assert again.status_code == 409 and again.json()["error"]["message"] == "order 5003 is already cancelled"
    code = f"SORRY{uuid.uuid4().hex[:6].upper()}"
    discount = {
        "app_id": apps["bigcommerce"]["id"],
        "action": "create_discount_code",
        "params": {"type": "percentage_discount", "amount": 15, "code": code},
    }
    made = act(api, customer, discount, key="d-1")
    assert made.status_code == 200 and made.json()["result"]["code"] == code
    taken = act(api, customer, discount, key="d-2")
    assert taken.status_code == 409 and "already exists" in taken.json()["error"]["message"]
    no_amount = act(api, customer, {**discount, "params": {"type": "per_total_discount"}}, key="d-3")
    assert no_amount.status_code == 422 and "params.amount" in no_amount.json()["error"]["fields"]
    traces = api.get(f"/api/v1/apps/{apps['bigcommerce']['id']}/lookups", role="developer", params={"customer_id": customer["id"]}).json()[
        "lookups"
    ]
    actions = [t for t in traces if t["kind"] == "action"]
    assert {t["request"]["idempotency_key"] for t in actions} >= {"c-1", "c-2", "d-1", "d-2"}
    assert all(t["request"]["actor"] == "the agent bootstrap token (bootstrap bootstrap:agent)" for t in actions), "the verified author"
    assert next(t for t in actions if t["request"]["idempotency_key"] == "c-2")["code"] == "FAILED_PRECONDITION"


def test_magento_actions_follow_its_state_rules(api: Api, apps: dict[str, Any]) -> None:
    customer = linked_customer(api, {"mg": (apps["magento"], "1")})
    app_id = apps["magento"]["id"]
    shipped = act(api, customer, {"app_id": app_id, "action": "cancel", "order_id": "101"}, key="m-1")
    assert shipped.status_code == 409 and "cannot cancel order 000000101" in shipped.json()["error"]["message"]
    ok = act(api, customer, {"app_id": app_id, "action": "cancel", "order_id": "102"}, key="m-2")
    assert ok.status_code == 200 and ok.json()["message"] == "Order 000000102 cancelled"
    refund_nothing = act(api, customer, {"app_id": app_id, "action": "refund", "order_id": "102"}, key="m-3")
    assert refund_nothing.status_code == 409
    refund = act(api, customer, {"app_id": app_id, "action": "refund", "order_id": "101", "params": {"notify": False}}, key="m-4")
    assert refund.status_code == 200 and refund.json()["result"]["amount"] == "328.00" and refund.json()["result"]["creditmemo_id"]
    coupon = act(api, customer, {"app_id": app_id, "action": "generate_coupon"}, key="m-5")
    assert coupon.status_code == 200 and coupon.json()["result"]["code"].startswith("LM-")
    api.patch(f"/api/v1/apps/{app_id}", {"settings": {"coupon_rule_id": "2"}}, role="admin")
    fixed = act(api, customer, {"app_id": app_id, "action": "generate_coupon"}, key="m-6")
    assert fixed.status_code == 409 and "automatic coupon generation" in fixed.json()["error"]["message"]


def test_returnlogic_answers_the_link_to_start_a_return(api: Api, apps: dict[str, Any]) -> None:
    customer = linked_customer(api, {"rl": (apps["returnlogic"], "jane.smith@example.com")})
    app_id = apps["returnlogic"]["id"]
    started = act(api, customer, {"app_id": app_id, "action": "start_return", "order_id": "1002"}, key="r-1")
    assert started.status_code == 200
    assert started.json()["result"]["url"] == "https://rl.example/originate/rmas/new?orderNumber=1002&email=jane.smith%40example.com"
    elsewhere = act(api, customer, {"app_id": app_id, "action": "start_return", "order_id": "1003"}, key="r-2")
    assert elsewhere.status_code == 404
