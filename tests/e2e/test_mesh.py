"""End to end: HTTP at the gateway → profile service → connector → BigCommerce
sandbox, over real processes, real gRPC and a real MongoDB server. Every
answer is checked against the gateway's OpenAPI document by the Api client."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import ServiceProcess
from linkmesh_sandboxes.bigcommerce import data
from tests.conftest import Api
from tests.e2e.unique import unique_phone

pytestmark = pytest.mark.e2e


def bc_app_payload(api: Api, **over: Any) -> dict[str, Any]:
    payload = {
        "type": "bigcommerce",
        "name": f"BigCommerce {uuid.uuid4().hex[:6]}",
        "settings": {"store_hash": data.STORE_HASH, "api_base_url": api.stack.sandbox_url("bigcommerce")},
        "secrets": {"access_token": data.ACCESS_TOKEN},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
        "search_result_attributes": [
            {"attribute": "name", "label": "Name"},
            {"attribute": "email", "label": "Email"},
            {"attribute": "externalCustomerId", "label": "BigCommerce ID"},
            {"attribute": "loyalty_tier", "label": "Tier"},
        ],
        "auto_link_fields": ["email"],
    }
    payload.update(over)
    return payload


@pytest.fixture()
def bc_app(api: Api) -> Any:
    response = api.post("/api/v1/apps", bc_app_payload(api), role="admin")
    assert response.status_code == 201, response.text
    app = response.json()
    yield app
    api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def new_customer(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/customers", {"name": "Test Person", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def unique_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}@example.com"


# auth and basics


def test_health_readiness_and_openapi(api: Api) -> None:
    assert api.get("/healthz", role=None).json() == {"status": "ok"}
    assert api.get("/readyz", role=None).json()["status"] == "ready"
    doc = api.get("/api/v1/openapi.json", role=None).json()
    assert doc["openapi"].startswith("3.1") and "/api/v1/customers/{customer_id}/external-search" in doc["paths"]


def test_missing_or_bad_token_is_401_and_wrong_role_is_403(api: Api) -> None:
    missing = api.get("/api/v1/apps", role=None)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    bad = api.get("/api/v1/apps", token="not-a-real-token")
    assert bad.status_code == 401
    forbidden = api.post("/api/v1/apps", {}, role="agent")
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    assert api.post("/api/v1/customers", {}, role="developer").status_code == 403
    assert api.get("/api/v1/apps", role="developer").status_code == 200
    assert api.patch("/api/v1/apps/x", {"name": "y"}, role="developer").status_code == 403


def test_request_id_is_echoed(api: Api) -> None:
    response = api.get("/api/v1/connectors", headers={"X-Request-Id": "req-e2e-1"})
    assert response.headers["X-Request-Id"] == "req-e2e-1"
    assert api.get("/api/v1/connectors").headers["X-Request-Id"]


def test_connectors_describe_themselves(api: Api) -> None:
    connectors = {c["type"]: c for c in api.get("/api/v1/connectors").json()["connectors"]}
    bc = connectors["bigcommerce"]
    assert bc["available"] and bc["display_name"] == "BigCommerce"
    assert bc["search_fields"] == ["email", "phone", "order_number"]
    assert {s["name"] for s in bc["settings"]} >= {"store_hash", "access_token", "api_base_url"}


# apps


def test_app_with_bad_fields_is_422_naming_every_one(api: Api) -> None:
    response = api.post(
        "/api/v1/apps",
        {
            "type": "bigcommerce",
            "name": "",
            "settings": {"store_hash": "store-abc12", "color": "red"},
            "search_query_attributes": [{"attribute": "fax", "label": ""}],
            "auto_link_fields": ["sms"],
        },
        role="admin",
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    for field in (
        "name",
        "settings.color",
        "secrets.access_token",
        "search_query_attributes[0].attribute",
        "search_query_attributes[0].label",
        "auto_link_fields[0]",
        "settings.store_hash",
    ):
        assert field in fields, (field, fields)
    wrong_types = api.post("/api/v1/apps", {"type": 3, "name": ["x"], "active": "yes"}, role="admin")
    assert wrong_types.status_code == 422
    assert set(wrong_types.json()["error"]["fields"]) == {"type", "name", "active"}
    unknown = api.post("/api/v1/apps", bc_app_payload(api, type="woocommerce"), role="admin")
    assert unknown.status_code == 422 and "type" in unknown.json()["error"]["fields"]


def test_app_credentials_are_proven_against_the_vendor(api: Api) -> None:
    response = api.post("/api/v1/apps", bc_app_payload(api, secrets={"access_token": "wrong-token"}), role="admin")
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"secrets.access_token": "BigCommerce refused this token"}


def test_secrets_are_write_only_and_encrypted_at_rest(api: Api, bc_app: dict[str, Any]) -> None:
    assert bc_app["secrets_set"] == ["access_token"]
    for response in (api.get(f"/api/v1/apps/{bc_app['id']}", role="admin"), api.get("/api/v1/apps", role="developer")):
        assert data.ACCESS_TOKEN not in response.text
    assert api.stack.mongo is not None
    client: MongoClient[dict[str, Any]] = MongoClient(api.stack.mongo.uri)
    try:
        from bson import ObjectId

        raw = client["linkmesh"]["apps"].find_one({"_id": ObjectId(bc_app["id"])})
    finally:
        client.close()
    assert raw is not None and data.ACCESS_TOKEN not in str(raw)
    assert raw["secrets"]["access_token"].startswith("gAAAAA"), "a Fernet token"
    secrets = api.stack.demo_secrets()  # every connector's, from its declaration
    assert data.ACCESS_TOKEN in secrets
    for service in api.stack.services.values():
        if service.name.startswith("sandbox"):
            continue
        log = service.log_tail(10_000_000)
        for secret in secrets:
            assert secret not in log, f"{service.name} logged a vendor secret"


def test_app_update_merges_settings_and_can_deactivate(api: Api, bc_app: dict[str, Any]) -> None:
    renamed = api.patch(f"/api/v1/apps/{bc_app['id']}", {"name": "Renamed store", "active": False}, role="admin")
    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert body["name"] == "Renamed store" and body["active"] is False
    assert body["settings"]["store_hash"] == data.STORE_HASH and body["secrets_set"] == ["access_token"]
    bad = api.patch(f"/api/v1/apps/{bc_app['id']}", {"type": "magento", "auto_link_fields": ["fax"]}, role="admin")
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) >= {"type"}
    assert api.patch(f"/api/v1/apps/{bc_app['id']}", {}, role="admin").status_code == 422
    assert api.get("/api/v1/apps/000000000000000000000000", role="admin").status_code == 404


def test_moving_an_app_to_another_host_needs_its_secret_again(api: Api, bc_app: dict[str, Any]) -> None:
    moved = {"settings": {"api_base_url": api.stack.sandbox_url("magento")}}
    refused = api.patch(f"/api/v1/apps/{bc_app['id']}", moved, role="admin")
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["error"]["fields"]) == {"settings.api_base_url", "secrets.access_token"}
    assert api.get(f"/api/v1/apps/{bc_app['id']}", role="admin").json()["settings"]["api_base_url"] == api.stack.sandbox_url("bigcommerce")
    # The same URL again is no move; other settings change freely.
    same = api.patch(
        f"/api/v1/apps/{bc_app['id']}",
        {"settings": {"api_base_url": api.stack.sandbox_url("bigcommerce"), "default_region": "GB"}},
        role="admin",
    )
    assert same.status_code == 200, same.text
    back = api.patch(
        f"/api/v1/apps/{bc_app['id']}",
        {"settings": {"api_base_url": api.stack.sandbox_url("bigcommerce") + "/"}, "secrets": {"access_token": data.ACCESS_TOKEN}},
        role="admin",
    )
    assert back.status_code == 200, back.text


def test_a_vendor_error_page_reaches_the_debugger_not_the_agent(api: Api, bc_app: dict[str, Any], sandbox_reset: None) -> None:
    customer = new_customer(api, emails=[unique_email()])
    page = "<html><body>Internal admin console: db=10.0.0.7</body></html>"
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"fail": {"status": 500, "raw_body": page}})
    response = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": bc_app["id"], "email": "jane.smith@example.com"})
    failure = response.json()["failures"][0]
    assert failure["code"] == "unavailable" and "admin console" not in failure["message"] and "<html" not in failure["message"]
    lookups = api.get(f"/api/v1/apps/{bc_app['id']}/lookups", role="admin", params={"customer_id": customer["id"]}).json()["lookups"]
    assert "admin console" in lookups[0]["response"]["vendor_answer"], "admins and developers see the raw answer in the debugger"


# customers


def test_customer_create_validate_find_update(api: Api) -> None:
    email = unique_email()
    phone = unique_phone()  # "+1 646-555-NNNN"
    last_four = phone[-4:]
    customer = new_customer(
        api,
        emails=[f"  {email.upper()} "],
        phones=[f"(646) 555-{last_four}"],
        address={"line1": "1 Main St", "country_code": "us"},
        custom_attributes={"vip": "yes"},
    )
    assert customer["emails"] == [email] and customer["phones"] == [f"+1646555{last_four}"]
    assert customer["address"]["country_code"] == "US" and customer["links"] == []
    found = api.get("/api/v1/customers", params={"email": email.upper()}).json()["customers"]
    assert [c["id"] for c in found] == [customer["id"]]
    by_phone = api.get("/api/v1/customers", params={"phone": phone}).json()["customers"]
    assert [c["id"] for c in by_phone] == [customer["id"]]
    updated = api.patch(f"/api/v1/customers/{customer['id']}", {"name": "New Name", "phones": []})
    assert updated.status_code == 200 and updated.json()["name"] == "New Name" and updated.json()["phones"] == []
    assert updated.json()["emails"] == [email], "fields not given are kept"

    bad = api.post("/api/v1/customers", {"emails": ["nope", email], "phones": ["12"], "address": {"zip": "1"}})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"address.zip"}, "type errors are reported before domain checks"
    bad = api.post("/api/v1/customers", {"emails": ["nope"], "phones": ["12"]})
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"emails[0]", "phones[0]"}
    assert api.get("/api/v1/customers").status_code == 422
    assert api.get("/api/v1/customers/not-an-id").status_code == 404


def test_an_email_or_phone_belongs_to_one_customer_only(api: Api) -> None:
    email = unique_email()
    first = new_customer(api, emails=[email])
    dup = api.post("/api/v1/customers", {"emails": [email.upper()]})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "already_exists"
    assert first["id"] in dup.json()["error"]["fields"]["emails[0]"]
    other = new_customer(api, emails=[unique_email()])
    taken = api.patch(f"/api/v1/customers/{other['id']}", {"emails": [email]})
    assert taken.status_code == 409


async def test_concurrent_creates_with_one_email_make_one_customer(api: Api) -> None:
    import asyncio

    import aiohttp

    email = unique_email()
    headers = {"Authorization": f"Bearer {api.stack.token('agent')}"}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def create() -> int:
            async with http.post(f"{api.stack.gateway_url}/api/v1/customers", json={"emails": [email]}) as resp:
                return resp.status

        statuses = await asyncio.gather(*(create() for _ in range(30)))
    assert statuses.count(201) == 1 and statuses.count(409) == 29
    assert len(api.get("/api/v1/customers", params={"email": email}).json()["customers"]) == 1


# search, link, unlink


def test_search_all_link_and_unlink(api: Api, bc_app: dict[str, Any], sandbox_reset: None) -> None:
    customer = new_customer(api, emails=[unique_email()])
    cid = customer["id"]
    search = api.post(f"/api/v1/customers/{cid}/external-search", {"app_id": "all", "phone": "415-555-0102"})
    assert search.status_code == 200, search.text
    mine = [r for r in search.json()["results"] if r["app_id"] == bc_app["id"]]
    assert sorted(r["external_customer_id"] for r in mine) == ["102", "103"]
    attributes = mine[0]["attributes"]
    assert [(a["attribute"], a["label"]) for a in attributes] == [
        ("name", "Name"),
        ("email", "Email"),
        ("externalCustomerId", "BigCommerce ID"),
        ("loyalty_tier", "Tier"),
    ]
    assert attributes[3]["value"] == "", "an unknown attribute comes back empty"
    assert search.json()["failures"] == []

    linked = api.post(f"/api/v1/customers/{cid}/links", {"app_id": bc_app["id"], "external_customer_id": "102"})
    assert linked.status_code == 201, linked.text
    link = next(l for l in linked.json()["links"] if l["app_id"] == bc_app["id"])
    assert link["external_customer_id"] == "102" and link["app_name"] == bc_app["name"]
    assert link["data"]["name"] == "John Doe" and link["data"]["orders"][0]["id"] == "5004"
    assert link["data"]["orders"][0]["shipments"][0]["tracking_number"] == "1Z999AA10123450001"

    profile = api.get(f"/api/v1/customers/{cid}").json()
    assert [l["external_customer_id"] for l in profile["links"] if l["app_id"] == bc_app["id"]] == ["102"]
    # The open and the find are written by the profile from its document, the link's answer by
    # the gateway from the message: the same customer, field for field.
    assert api.get(f"/api/v1/customers/{cid}", params={"refresh": "none"}).json() == linked.json()
    assert api.get("/api/v1/customers", params={"email": customer["emails"][0]}).json() == {"customers": [linked.json()]}
    # A linked app is no longer a target of "all".
    again = api.post(f"/api/v1/customers/{cid}/external-search", {"app_id": "all", "phone": "415-555-0102"}).json()
    assert all(r["app_id"] != bc_app["id"] for r in again["results"])
    # One external customer links to one profile only.
    someone = new_customer(api, emails=[unique_email()])
    taken = api.post(f"/api/v1/customers/{someone['id']}/links", {"app_id": bc_app["id"], "external_customer_id": "102"})
    assert taken.status_code == 409

    unlinked = api.delete(f"/api/v1/customers/{cid}/links")
    assert unlinked.status_code == 200 and unlinked.json()["links"] == []
    assert api.get(f"/api/v1/customers/{cid}").json()["links"] == []


def test_link_fails_cleanly_when_the_detailed_lookup_fails(api: Api, bc_app: dict[str, Any], sandbox_reset: None) -> None:
    customer = new_customer(api, emails=[unique_email()])
    missing = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": bc_app["id"], "external_customer_id": "999"})
    assert missing.status_code == 404 and "999" in missing.json()["error"]["message"]
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": True})
    down = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": bc_app["id"], "external_customer_id": "101"})
    assert down.status_code == 503 and down.json()["error"]["code"] == "unavailable"
    assert api.get(f"/api/v1/customers/{customer['id']}").json()["links"] == [], "nothing half-linked"
    bad = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": bc_app["id"]})
    assert bad.status_code == 422 and "external_customer_id" in bad.json()["error"]["fields"]


def test_search_one_app_and_bad_queries(api: Api, bc_app: dict[str, Any], sandbox_reset: None) -> None:
    customer = new_customer(
        api,
        emails=["jane.smith@example.com"]
        if not api.get("/api/v1/customers", params={"email": "jane.smith@example.com"}).json()["customers"]
        else [unique_email()],
    )
    one = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": bc_app["id"], "email": "JANE.SMITH@example.com"})
    assert one.status_code == 200
    assert [r["external_customer_id"] for r in one.json()["results"]] == ["101"]
    bad = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": bc_app["id"], "email": "not-an-email"})
    assert bad.status_code == 422 and "email" in bad.json()["error"]["fields"]
    assert api.post(f"/api/v1/customers/{customer['id']}/external-search", {"email": "a@b.co"}).status_code == 422
    unknown_app = {"app_id": "000000000000000000000000", "email": "a@b.co"}
    assert api.post(f"/api/v1/customers/{customer['id']}/external-search", unknown_app).status_code == 404
    nothing = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": "all"})
    assert nothing.status_code == 422 and set(nothing.json()["error"]["fields"]) == {"email", "phone", "order_number"}, nothing.text


def test_search_all_reports_a_stopped_connector_as_a_failure(api: Api, bc_app: dict[str, Any], sandbox_reset: None) -> None:
    customer = new_customer(api, emails=[unique_email()])
    connector = api.stack.services["connector-bigcommerce"]
    connector.stop()
    try:
        started = time.monotonic()
        response = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": "all", "email": "jane.smith@example.com"})
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        body = response.json()
        failure = next(f for f in body["failures"] if f["app_id"] == bc_app["id"])
        assert failure["code"] == "unavailable" and failure["app_name"] == bc_app["name"]
        assert "127.0.0.1" not in failure["message"] and "ipv4:" not in failure["message"], "no internal address in an answer"
        assert failure["message"] == "the bigcommerce connector could not be reached (UNAVAILABLE)"
        assert all(r["app_id"] != bc_app["id"] for r in body["results"])
        assert elapsed < 10
        listing = api.get("/api/v1/connectors").json()["connectors"]
        down = next(c for c in listing if c["type"] == "bigcommerce")
        assert down["available"] is False and "127.0.0.1" not in down["error"]["message"]
    finally:
        connector.start()
        connector.wait_ready()
        wait_until_available(api, "bigcommerce")


def test_a_system_known_to_be_down_answers_at_once_then_is_probed_again(api: Api, bc_app: dict[str, Any], sandbox_reset: None) -> None:
    import urllib.request

    customer = new_customer(api, emails=[unique_email()])
    search = {"app_id": bc_app["id"], "email": "jane.smith@example.com"}
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": True})
    for _ in range(3):  # PROFILE_BREAKER_THRESHOLD
        failure = api.post(f"/api/v1/customers/{customer['id']}/external-search", search).json()["failures"][0]
        assert failure["code"] == "unavailable"
    api.sandbox("bigcommerce", "DELETE", "/__sandbox/requests")
    fast = api.post(f"/api/v1/customers/{customer['id']}/external-search", search).json()["failures"][0]
    assert "not called again" in fast["message"] and fast["retry_after_s"] > 0
    assert api.sandbox("bigcommerce", "GET", "/__sandbox/requests") == [], "an open circuit sends nothing"
    circuit = api.get(f"/api/v1/apps/{bc_app['id']}/lookups", role="admin").json()["circuit"]
    assert circuit["state"] == "open" and circuit["consecutive_failures"] == 3
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{api.stack.extra_env['PROFILE_METRICS_PORT']}/metrics", timeout=5).read().decode()
    assert f'linkmesh_circuit_open{{app_id="{bc_app["id"]}"}} 1.0' in metrics
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": False})
    time.sleep(2.1)  # PROFILE_BREAKER_COOLDOWN_S in the test stack
    probed = api.post(f"/api/v1/customers/{customer['id']}/external-search", search).json()
    assert probed["failures"] == [] and probed["results"], "the probe found the system back and closed the circuit"
    assert api.get(f"/api/v1/apps/{bc_app['id']}/lookups", role="admin").json()["circuit"]["state"] == "closed"


def wait_until_available(api: Api, connector_type: str, timeout: float = 10.0) -> None:
    """The profile service reconnects to a restarted connector on its own, within about a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = api.get("/api/v1/connectors").json()["connectors"]
        if next(c for c in listing if c["type"] == connector_type)["available"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"{connector_type} did not come back within {timeout}s")


def connector_calls(api: Api, rpc: str) -> list[dict[str, Any]]:
    """The BigCommerce connector's log lines of its calls of ``rpc``, oldest first."""
    lines = api.stack.services["connector-bigcommerce"].log_tail(2_000_000).splitlines()[1:]  # the first may be cut
    return [line for line in map(json.loads, lines) if line.get("event") == "rpc" and str(line.get("rpc", "")).endswith(f"/{rpc}")]


def test_a_refresh_of_several_stores_of_one_vendor_is_one_call(
    api: Api, own_app: Callable[[str], dict[str, Any]], sandbox_reset: None
) -> None:
    first, second = own_app("bigcommerce"), own_app("bigcommerce")
    customer = new_customer(api, emails=[unique_email()])
    for app, external_id in ((first, "101"), (second, "102")):
        linked = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": app["id"], "external_customer_id": external_id})
        assert linked.status_code == 201, linked.text
    time.sleep(1.1)  # PROFILE_FRESHNESS_S in the test stack: both links are due
    before = len(connector_calls(api, "FetchEach"))
    opened = api.get(f"/api/v1/customers/{customer['id']}").json()
    links = {l["app_id"]: l for l in opened["links"]}
    assert links[first["id"]]["data"]["name"] == "Jane Smith" and links[second["id"]]["data"]["name"] == "John Doe"
    assert all(not l.get("stale") for l in links.values()), links
    calls = connector_calls(api, "FetchEach")[before:]
    assert len(calls) == 1 and set(calls[0]["app_ids"]) == {first["id"], second["id"]}, calls


def test_a_hanging_vendor_fails_its_app_within_the_deadline_and_spares_the_others(
    api: Api, bc_app: dict[str, Any], sandbox_reset: None, tmp_path: Path
) -> None:
    # A second store on its own sandbox process keeps answering while the first hangs.
    port = free_port()
    other = ServiceProcess(
        "sandbox-2",
        [sys.executable, "-m", "linkmesh_sandboxes", "bigcommerce", "--port", str(port)],
        {},
        port,
        "sandbox",
        tmp_path / "sandbox-2.log",
    )
    other.start()
    try:
        other.wait_ready()
        healthy = api.post(
            "/api/v1/apps",
            bc_app_payload(api, settings={"store_hash": data.STORE_HASH, "api_base_url": f"http://127.0.0.1:{port}"}),
            role="admin",
        )
        assert healthy.status_code == 201, healthy.text
        healthy_id = healthy.json()["id"]
        customer = new_customer(api, emails=[unique_email()])
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 8000})
        started = time.monotonic()
        response = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": "all", "email": "jane.smith@example.com"})
        elapsed = time.monotonic() - started
        body = response.json()
        failures = {f["app_id"]: f for f in body["failures"]}
        assert failures[bc_app["id"]]["code"] == "deadline_exceeded", failures[bc_app["id"]]["message"]
        assert [r["external_customer_id"] for r in body["results"] if r["app_id"] == healthy_id] == ["101"]
        assert healthy_id not in failures
        # The per-system deadline in this stack is 2 s; the hanging vendor takes 8 s.
        assert elapsed < 6, elapsed
        # Both stores' searches reached the connector in one call (SearchEach), the healthy one's
        # answer sent while the other still hung.
        calls = connector_calls(api, "SearchEach")
        assert calls and {bc_app["id"], healthy_id} <= set(calls[-1].get("app_ids", [])), calls[-1:]
        api.delete(f"/api/v1/apps/{healthy_id}", role="admin")
    finally:
        other.stop()


def test_deleting_an_app_removes_its_links_and_frees_its_external_customers(api: Api, sandbox_reset: None) -> None:
    first = api.post("/api/v1/apps", bc_app_payload(api), role="admin").json()
    customer = new_customer(api)
    assert api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": first["id"], "external_customer_id": "105"}).status_code == 201
    assert api.delete(f"/api/v1/apps/{first['id']}", role="admin").status_code == 204
    assert api.get(f"/api/v1/apps/{first['id']}", role="admin").status_code == 404
    assert all(l["app_id"] != first["id"] for l in api.get(f"/api/v1/customers/{customer['id']}").json()["links"])
    assert api.stack.mongo is not None
    client: MongoClient[dict[str, Any]] = MongoClient(api.stack.mongo.uri)
    try:
        from bson import ObjectId

        raw = client["linkmesh"]["customers"].find_one({"_id": ObjectId(customer["id"])})
    finally:
        client.close()
    assert raw is not None and not any(k.startswith(first["id"]) for k in raw.get("link_keys", [])) and first["id"] not in raw["links"]
    assert api.delete(f"/api/v1/apps/{first['id']}", role="admin").status_code == 404
    second = api.post("/api/v1/apps", bc_app_payload(api), role="admin").json()
    try:
        other = new_customer(api)
        relinked = api.post(f"/api/v1/customers/{other['id']}/links", {"app_id": second["id"], "external_customer_id": "105"})
        assert relinked.status_code == 201
    finally:
        api.delete(f"/api/v1/apps/{second['id']}", role="admin")
