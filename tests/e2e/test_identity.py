"""People and integrations, not shared tokens: API keys (created once, stored as a hash,
revoked at once on every gateway replica, rate-limited), X-Actor only from keys trusted to act
for others, and an append-only audit log in which every write names its verified author."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import ServiceProcess
from tests.conftest import Api
from tests.e2e.test_linking_rules import make_app

pytestmark = pytest.mark.e2e


def create_key(api: Api, **over: Any) -> dict[str, Any]:
    response = api.post("/api/v1/api-keys", {"name": f"integration {uuid.uuid4().hex[:6]}", "role": "agent", **over}, role="admin")
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def call(url: str, method: str, path: str, secret: str, body: Any = None, **headers: str) -> requests.Response:
    return requests.request(method, f"{url}{path}", json=body, headers={"Authorization": f"Bearer {secret}", **headers}, timeout=15)


def audit(api: Api, **filters: str) -> list[dict[str, Any]]:
    response = api.get("/api/v1/audit", role="admin", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


@pytest.fixture()
def second_gateway(api: Api) -> Any:
    """Another gateway replica in front of the same profile service."""
    first = api.stack.services["gateway"]
    port = free_port()
    replica = ServiceProcess(
        "gateway-replica", first.cmd, {**first.env, "GATEWAY_PORT": str(port), "GATEWAY_METRICS_PORT": "0"}, port, "http"
    )
    replica.start()
    try:
        replica.wait_ready()
        yield f"http://127.0.0.1:{port}"
    finally:
        replica.stop()


def test_an_api_key_is_shown_once_stored_as_a_hash_and_revoked_at_once_everywhere(api: Api, second_gateway: str) -> None:
    created = create_key(api)
    secret = created["secret"]
    assert secret.startswith(f"lmk_{created['id']}_") and created["role"] == "agent"
    assert created["created_by"]["id"] == "bootstrap:admin" and secret.startswith(created["prefix"]) and len(created["prefix"]) < 40
    listed = next(k for k in api.get("/api/v1/api-keys", role="admin").json()["api_keys"] if k["id"] == created["id"])
    assert "secret" not in listed and secret[len(created["prefix"]) :] not in str(listed), "never shown again"

    for url in (api.stack.gateway_url, second_gateway):
        me = call(url, "GET", "/api/v1/me", secret)
        assert me.status_code == 200 and me.json() == {"kind": "api_key", "id": created["id"], "name": created["name"], "role": "agent"}
    customer = call(api.stack.gateway_url, "POST", "/api/v1/customers", secret, {"name": "Keyed Customer"})
    assert customer.status_code == 201, customer.text
    entry = audit(api, customer_id=customer.json()["id"])[0]
    assert entry["action"] == "customer.create" and entry["outcome"] == "ok"
    assert entry["actor"] == {"kind": "api_key", "id": created["id"], "name": created["name"], "role": "agent", "on_behalf_of": ""}
    assert entry["request_id"] == customer.headers["X-Request-Id"]
    used = next(k for k in api.get("/api/v1/api-keys", role="admin").json()["api_keys"] if k["id"] == created["id"])
    assert used["last_used_at"], "when it was last used"
    assert call(api.stack.gateway_url, "POST", "/api/v1/api-keys", secret, {"name": "x", "role": "admin"}).status_code == 403

    revoked = api.delete(f"/api/v1/api-keys/{created['id']}", role="admin")
    assert revoked.status_code == 200 and revoked.json()["revoked_by"]["id"] == "bootstrap:admin"
    for url in (api.stack.gateway_url, second_gateway):
        refused = call(url, "GET", "/api/v1/me", secret)
        assert refused.status_code == 401, "revoked at once on every replica"
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"] and "revoked" in refused.headers["WWW-Authenticate"]
    assert created["id"] not in {k["id"] for k in api.get("/api/v1/api-keys", role="admin").json()["api_keys"]}
    assert created["id"] in {
        k["id"] for k in api.get("/api/v1/api-keys", role="admin", params={"include_revoked": "true"}).json()["api_keys"]
    }
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert "not valid" in call(api.stack.gateway_url, "GET", "/api/v1/me", forged).json()["error"]["message"]
    kinds = {e["action"] for e in audit(api, actor_id="bootstrap:admin", limit="200")}
    assert {"api_key.create", "api_key.revoke"} <= kinds


def test_keys_are_checked_when_made_and_expire(api: Api) -> None:
    bad = api.post(
        "/api/v1/api-keys", {"name": "", "role": "root", "expires_at": "2020-01-01T00:00:00Z", "rate_limit_per_minute": -1}, role="admin"
    )
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) >= {"name", "role", "rate_limit_per_minute"}
    past = api.post("/api/v1/api-keys", {"name": "old", "role": "agent", "expires_at": "2020-01-01T00:00:00Z"}, role="admin")
    assert past.status_code == 422 and "expires_at" in past.json()["error"]["fields"]
    assert api.post("/api/v1/api-keys", {"name": "mine", "role": "agent"}).status_code == 403, "admins only"
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    short = create_key(api, expires_at=soon)
    assert call(api.stack.gateway_url, "GET", "/api/v1/me", short["secret"]).status_code == 200
    time.sleep(2.5)
    expired = call(api.stack.gateway_url, "GET", "/api/v1/me", short["secret"])
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


def test_a_key_is_rate_limited_with_retry_after(api: Api) -> None:
    key = create_key(api, rate_limit_per_minute=6)  # a burst of one, then one every 10 s
    first = call(api.stack.gateway_url, "GET", "/api/v1/me", key["secret"])
    assert first.status_code == 200
    second = call(api.stack.gateway_url, "GET", "/api/v1/me", key["secret"])
    assert second.status_code == 429 and 1 <= int(second.headers["Retry-After"]) <= 10, second.text
    assert api.get("/api/v1/me").status_code == 200, "another caller is not held back"


def test_x_actor_only_from_a_key_trusted_to_act_for_others(api: Api) -> None:
    refused = api.post("/api/v1/customers", {"name": "Spoofed"}, headers={"X-Actor": "ceo@example.com"})
    assert refused.status_code == 403 and "X-Actor" in refused.json()["error"]["message"]
    helpdesk = create_key(api, acts_for_others=True)
    made = call(
        api.stack.gateway_url, "POST", "/api/v1/customers", helpdesk["secret"], {"name": "Helped"}, **{"X-Actor": "alice@example.com"}
    )
    assert made.status_code == 201, made.text
    entry = audit(api, customer_id=made.json()["id"])[0]
    assert entry["actor"]["id"] == helpdesk["id"] and entry["actor"]["on_behalf_of"] == "alice@example.com"


def test_every_write_is_in_the_audit_log_with_its_author_and_never_a_secret(api: Api, sandbox_reset: None) -> None:
    app = make_app(api, actions_enabled=True)
    app_id = app["id"]
    api.patch(f"/api/v1/apps/{app_id}", {"name": f"{app['name']} renamed"}, role="admin")
    api.post(f"/api/v1/apps/{app_id}/deactivate", role="admin")
    api.post(f"/api/v1/apps/{app_id}/activate", role="admin")
    customer = api.post("/api/v1/customers", {"name": "Audit Trail"}).json()
    api.patch(f"/api/v1/customers/{customer['id']}", {"name": "Audit Trail Jr"})
    linked = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": app_id, "external_customer_id": "103"})
    assert linked.status_code in (201, 409), linked.text
    refund = api.post(
        f"/api/v1/customers/{customer['id']}/actions",
        {"app_id": app_id, "action": "refund", "order_id": "nope"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert refund.status_code >= 400
    api.delete(f"/api/v1/customers/{customer['id']}/links")
    api.delete(f"/api/v1/apps/{app_id}", role="admin")

    by_app = audit(api, app_id=app_id)
    assert [e["action"] for e in reversed(by_app) if e["action"].startswith("app.")] == [
        "app.create",
        "app.update",
        "app.deactivate",
        "app.activate",
        "app.delete",
    ]
    assert all(e["actor"]["id"] == "bootstrap:admin" for e in by_app if e["action"].startswith("app."))
    created = next(e for e in by_app if e["action"] == "app.create")
    assert created["details"]["type"] == "bigcommerce" and "demo-bigcommerce-token" not in str(by_app), "never a secret"
    by_customer = audit(api, customer_id=customer["id"])
    actions = [e["action"] for e in reversed(by_customer)]
    assert actions[:2] == ["customer.create", "customer.update"] and "customer.link" in actions and actions[-1] == "customer.unlink"
    run = next(e for e in by_customer if e["action"] == "action.run")
    assert run["outcome"] != "ok" and run["message"] and run["details"]["action"] == "refund" and run["order_id"] == "nope"
    assert all(
        e["actor"]
        == {"kind": "bootstrap", "id": "bootstrap:agent", "name": "the agent bootstrap token", "role": "agent", "on_behalf_of": ""}
        for e in by_customer
    )

    page = api.get("/api/v1/audit", role="admin", params={"customer_id": customer["id"], "limit": "2"}).json()
    rest = api.get("/api/v1/audit", role="admin", params={"customer_id": customer["id"], "page_token": page["next_page_token"]}).json()
    assert [e["id"] for e in page["entries"] + rest["entries"]] == [e["id"] for e in by_customer], "pages follow each other"
    assert api.get("/api/v1/audit").status_code == 403, "admins only"
    assert api.get("/api/v1/audit", role="admin", params={"limit": "0"}).status_code == 422
