"""The linking rules of docs/linking.md, end to end: contacts and auto-link,
refresh with and without overwrite, unlink for good, app admin, lookup debugger.

Each test makes its own external customers through the vendor's real API on
the sandbox (POST /v3/customers), so tests never share an email."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
import requests

from linkmesh_sandboxes.bigcommerce import data
from tests.conftest import Api
from tests.e2e.unique import unique_phone

pytestmark = pytest.mark.e2e
FRESHNESS_S = 1.0  # PROFILE_FRESHNESS_S of the test stack
LATENCY_S = 0.5  # the vendor's, while concurrent opens share a refresh


def vendor(api: Api, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
    response = requests.request(
        method,
        f"{api.stack.sandbox_url('bigcommerce')}/stores/{data.STORE_HASH}{path}",
        json=body,
        params=params,
        headers={"X-Auth-Token": data.ACCESS_TOKEN, "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def vendor_customer(api: Api, **fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body = {"email": f"rules-{tag}@example.com", "first_name": "Ext", "last_name": f"Person{tag}", **fields}
    return vendor(api, "POST", "/v3/customers", [body])["data"][0]


def vendor_requests(api: Api) -> list[dict[str, Any]]:
    return api.sandbox("bigcommerce", "GET", "/__sandbox/requests")


def make_app(api: Api, **over: Any) -> dict[str, Any]:
    payload = {
        "type": "bigcommerce",
        "name": f"Rules {uuid.uuid4().hex[:6]}",
        "settings": {"store_hash": data.STORE_HASH, "api_base_url": api.stack.sandbox_url("bigcommerce")},
        "secrets": {"access_token": data.ACCESS_TOKEN},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
        "auto_link_fields": ["email", "phone"],
        **over,
    }
    response = api.post("/api/v1/apps", payload, role="admin")
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture()
def app(api: Api) -> Any:
    created = make_app(api)
    yield created
    api.delete(f"/api/v1/apps/{created['id']}", role="admin")


def contact(api: Api, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/contacts", {"channel": "chat", **body})
    assert response.status_code == 200, response.text
    return response.json()


def link_of(customer: dict[str, Any], app_id: str) -> Any:
    """The customer's link to the app, or None."""
    return next((l for l in customer["links"] if l["app_id"] == app_id), None)


def lookups(api: Api, app_id: str, customer_id: str = "") -> list[dict[str, Any]]:
    params = {"customer_id": customer_id} if customer_id else None
    response = api.get(f"/api/v1/apps/{app_id}/lookups", role="developer", params=params)
    assert response.status_code == 200, response.text
    return response.json()["lookups"]


def decisions(api: Api, app_id: str, customer_id: str) -> list[dict[str, Any]]:
    return [t for t in lookups(api, app_id, customer_id) if t["kind"] == "autolink"]


# contacts and auto-link


def test_a_contact_by_email_creates_the_customer_auto_links_and_pulls_detailed_data(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(api, company="Globex")
    first = contact(api, channel="email", email=ext["email"].upper(), name="From Email")
    assert first["created"] is True and first["linked"] == [app["id"]] and first["stale"] == []
    assert app["id"] in first["refreshed"]
    profile = api.get(f"/api/v1/customers/{first['customer_id']}").json()
    link = link_of(profile, app["id"])
    assert link and link["external_customer_id"] == str(ext["id"]) and link["data"]["name"] == f"Ext {ext['last_name']}"
    assert profile["name"] == "From Email", "a blank-only fill never overwrites what the contact gave"
    assert profile["custom_attributes"]["company"] == "Globex" and profile["sources"]["custom_attributes.company"] == app["id"]
    again = contact(api, channel="sms", email=ext["email"])
    assert again["created"] is False and again["customer_id"] == first["customer_id"] and again["linked"] == []
    reason = decisions(api, app["id"], first["customer_id"])
    assert any(d["decision"] == "linked" and "email" in d["reason"] for d in reason)
    assert any(d["decision"] == "skipped" and "already linked" in d["reason"] for d in reason)


def test_self_service_identify_pre_populates_the_profile(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(api)
    result = api.post("/api/v1/self-service/identify", {"email": ext["email"]})
    assert result.status_code == 200 and result.json()["linked"] == [app["id"]]
    assert api.post("/api/v1/self-service/identify", {"email": "nope"}).status_code == 422
    assert api.post("/api/v1/self-service/identify", {}).status_code == 422


def test_creating_or_adding_an_email_triggers_auto_link(api: Api, app: dict[str, Any]) -> None:
    created_ext, added_ext = vendor_customer(api), vendor_customer(api)
    created = api.post("/api/v1/customers", {"name": "C", "emails": [created_ext["email"]]}).json()
    assert link_of(created, app["id"])["external_customer_id"] == str(created_ext["id"])
    plain = api.post("/api/v1/customers", {"name": "P"}).json()
    assert plain["links"] == []
    updated = api.patch(f"/api/v1/customers/{plain['id']}", {"emails": [added_ext["email"]]}).json()
    assert link_of(updated, app["id"])["external_customer_id"] == str(added_ext["id"])


def test_auto_link_by_phone_in_any_spelling(api: Api, app: dict[str, Any]) -> None:
    phone = unique_phone()
    ext = vendor_customer(api, phone=phone.replace("+1 ", ""))  # stored as typed, e.g. 646-555-1234
    result = contact(api, channel="voice", phone=phone)
    assert result["linked"] == [app["id"]]
    assert link_of(api.get(f"/api/v1/customers/{result['customer_id']}").json(), app["id"])["external_customer_id"] == str(ext["id"])


def test_two_external_profiles_answering_never_auto_link(api: Api, app: dict[str, Any]) -> None:
    phone = unique_phone()
    vendor_customer(api, phone=phone)
    vendor_customer(api, phone=phone)
    result = contact(api, channel="sms", phone=phone)
    assert result["linked"] == []
    [decision] = decisions(api, app["id"], result["customer_id"])
    assert decision["decision"] == "not_linked" and "2 external profiles" in decision["reason"]


def test_only_enabled_auto_link_fields_are_searched_and_matched(api: Api) -> None:
    email_only = make_app(api, auto_link_fields=["email"])
    off = make_app(api, auto_link_fields=[])
    try:
        phone = unique_phone()
        vendor_customer(api, phone=phone)
        api.sandbox("bigcommerce", "DELETE", "/__sandbox/requests")
        result = contact(api, channel="sms", phone=phone)
        assert result["linked"] == []
        assert not [r for r in vendor_requests(api) if "phone%3Ain" in r["query"] or "phone:in" in r["query"]], (
            "an app that auto-links by email only never searches by phone"
        )
        assert "no email" in decisions(api, email_only["id"], result["customer_id"])[0]["reason"]
        assert "auto-linking is off" in decisions(api, off["id"], result["customer_id"])[0]["reason"]
    finally:
        api.delete(f"/api/v1/apps/{email_only['id']}", role="admin")
        api.delete(f"/api/v1/apps/{off['id']}", role="admin")


def test_a_conflicting_external_profile_is_not_linked(api: Api, app: dict[str, Any]) -> None:
    phone = unique_phone()
    ext = vendor_customer(api, phone=phone)
    api.post("/api/v1/apps/" + app["id"] + "/deactivate", role="admin")
    owner = api.post("/api/v1/customers", {"name": "Owner", "emails": [ext["email"]]}).json()
    api.post("/api/v1/apps/" + app["id"] + "/activate", role="admin")
    result = contact(api, channel="sms", phone=phone)
    assert result["customer_id"] != owner["id"] and result["linked"] == []
    reason = decisions(api, app["id"], result["customer_id"])[0]["reason"]
    assert "conflict" in reason and owner["id"] in reason


async def test_a_burst_of_contacts_makes_one_customer_and_one_link(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(api)
    headers = {"Authorization": f"Bearer {api.stack.token('agent')}"}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def one() -> dict[str, Any]:
            async with http.post(f"{api.stack.gateway_url}/api/v1/contacts", json={"channel": "chat", "email": ext["email"]}) as resp:
                assert resp.status == 200, await resp.text()
                return await resp.json()

        results = await asyncio.gather(*(one() for _ in range(100)))
    assert len({r["customer_id"] for r in results}) == 1
    assert sum(r["created"] for r in results) == 1
    assert sum(len(r["linked"]) for r in results) == 1
    customers = api.get("/api/v1/customers", params={"email": ext["email"]}).json()["customers"]
    assert len(customers) == 1 and len([l for l in customers[0]["links"] if l["app_id"] == app["id"]]) == 1


# refresh


def test_refresh_fills_blanks_only_without_overwrite(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(
        api,
        company="Initech",
        addresses=[{"address1": "9 Vendor Rd", "city": "Austin", "country_code": "US", "first_name": "Ext", "last_name": "X"}],
    )
    customer = api.post(
        "/api/v1/customers", {"name": "Agent Typed", "emails": [ext["email"]], "custom_attributes": {"company": "Agent Co"}}
    ).json()
    assert customer["name"] == "Agent Typed" and customer["custom_attributes"]["company"] == "Agent Co"
    assert customer["address"]["line1"] == "9 Vendor Rd", "a blank is filled"
    vendor(api, "PUT", "/v3/customers", [{"id": ext["id"], "first_name": "Vendor", "phone": unique_phone()}])
    time.sleep(FRESHNESS_S + 0.1)
    profile = api.get(f"/api/v1/customers/{customer['id']}").json()
    assert profile["name"] == "Agent Typed" and profile["custom_attributes"]["company"] == "Agent Co"
    assert link_of(profile, app["id"])["data"]["first_name"] == "Vendor", "the app's data is replaced"
    assert len(profile["phones"]) == 1, "the vendor's phone is added"


def test_refresh_overwrites_with_overwrite_on_and_only_adds_contact_points(api: Api) -> None:
    app = make_app(api, overwrite_existing_values=True)
    try:
        other_phone = unique_phone()
        api.post("/api/v1/customers", {"name": "Someone Else", "phones": [other_phone]})
        ext = vendor_customer(api, company="Hooli")
        customer = api.post(
            "/api/v1/customers",
            {
                "name": "Agent Typed",
                "emails": [ext["email"], f"second-{ext['email']}"],
                "custom_attributes": {"company": "Agent Co", "note": "agent"},
            },
        ).json()
        assert customer["name"] == f"Ext {ext['last_name']}" and customer["custom_attributes"] == {"company": "Hooli", "note": "agent"}
        vendor(api, "PUT", "/v3/customers", [{"id": ext["id"], "first_name": "Changed", "company": "Hooli XYZ", "phone": other_phone}])
        time.sleep(FRESHNESS_S + 0.1)
        profile = api.get(f"/api/v1/customers/{customer['id']}").json()
        assert profile["name"] == f"Changed {ext['last_name']}" and profile["custom_attributes"]["company"] == "Hooli XYZ"
        assert profile["custom_attributes"]["note"] == "agent"
        assert sorted(profile["emails"]) == sorted([ext["email"], f"second-{ext['email']}"]), "emails are never removed"
        assert profile["phones"] == [], "a phone another customer owns is not added"
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def test_a_failing_app_keeps_its_last_data_marked_stale(api: Api, app: dict[str, Any], sandbox_reset: None) -> None:
    ext = vendor_customer(api)
    customer = api.post("/api/v1/customers", {"emails": [ext["email"]]}).json()
    good = link_of(customer, app["id"])
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": True})
    time.sleep(FRESHNESS_S + 0.1)
    response = api.get(f"/api/v1/customers/{customer['id']}")
    assert response.status_code == 200, "one failing app never fails the profile"
    link = link_of(response.json(), app["id"])
    assert link["stale"]["code"] == "UNAVAILABLE" and link["stale"]["message"] and link["stale"]["since"]
    assert link["data"] == good["data"] and link["refreshed_at"] == good["refreshed_at"], "the last good data and its time stay"
    result = contact(api, email=ext["email"])
    assert [s["app_id"] for s in result["stale"]] == [app["id"]] and result["stale"][0]["code"] == "UNAVAILABLE"
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": False})
    # Healed at the next open; or, should the app's circuit have opened meanwhile (a third failure
    # beside the open's and the contact's), at the first open after its cooldown
    # (PROFILE_BREAKER_COOLDOWN_S, 2 s in the test stack).
    until = time.monotonic() + 2.0 + 2.0
    while True:
        healed = link_of(api.get(f"/api/v1/customers/{customer['id']}").json(), app["id"])
        if healed["stale"] is None or time.monotonic() > until:
            break
        assert healed["stale"]["code"] == "UNAVAILABLE", healed["stale"]
        time.sleep(0.25)
    assert healed["stale"] is None and healed["refreshed_at"] > good["refreshed_at"]


def test_refresh_is_shared_and_served_fresh_within_the_window(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(api)
    customer = api.post("/api/v1/customers", {"emails": [ext["email"]]}).json()
    # The fetch's first request: its customer by id (exactly: "id:in=12" is also the start of the
    # catalog's "id:in=121,122" for the order's products, which a fetch reads a round later).
    fetches = lambda: [  # noqa: E731
        r for r in vendor_requests(api) if r["path"].endswith("/v3/customers") and parse_qs(r["query"]).get("id:in") == [str(ext["id"])]
    ]
    before = len(fetches())
    api.get(f"/api/v1/customers/{customer['id']}")
    assert len(fetches()) == before, "a refresh younger than the freshness window does not call the vendor"
    time.sleep(FRESHNESS_S + 0.1)
    api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": LATENCY_S * 1000})
    started = time.monotonic()
    try:

        async def burst() -> list[int]:
            headers = {"Authorization": f"Bearer {api.stack.token('agent')}"}
            async with aiohttp.ClientSession(headers=headers) as http:

                async def one() -> int:
                    async with http.get(f"{api.stack.gateway_url}/api/v1/customers/{customer['id']}") as resp:
                        return resp.status

                return await asyncio.gather(*(one() for _ in range(20)))

        assert asyncio.run(burst()) == [200] * 20
    finally:
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"latency_ms": 0})
    took = time.monotonic() - started
    during = sorted(r["at"] for r in fetches()[before:])
    assert during, "the opens after the window refreshed"
    # A fetch that starts once the last one's data has aged past the window is a new refresh,
    # not a shared one missed: on a slow machine the burst itself can outlast the window.
    gaps = [later - earlier for earlier, later in itertools.pairwise(during)]
    assert all(gap >= LATENCY_S + FRESHNESS_S - 0.05 for gap in gaps), f"concurrent opens share one refresh: fetches {gaps} s apart"
    if took < LATENCY_S + FRESHNESS_S:
        assert len(during) == 1, "twenty concurrent opens within the window share one refresh"


# unlink


def test_unlink_removes_pulled_data_keeps_agent_values_and_never_auto_links_again(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(
        api,
        company="Vandelay",
        addresses=[{"address1": "1 Import St", "city": "NYC", "country_code": "US", "first_name": "A", "last_name": "B"}],
    )
    customer = api.post("/api/v1/customers", {"emails": [ext["email"]], "custom_attributes": {"tier": "gold"}}).json()
    assert customer["custom_attributes"] == {"tier": "gold", "company": "Vandelay"} and customer["address"]["line1"] == "1 Import St"
    unlinked = api.delete(f"/api/v1/customers/{customer['id']}/links").json()
    assert unlinked["links"] == [] and unlinked["custom_attributes"] == {"tier": "gold"}
    assert unlinked["address"] is None and unlinked["name"] == "" and unlinked["sources"] == {}
    assert unlinked["emails"] == [ext["email"]]
    again = contact(api, email=ext["email"])
    assert again["linked"] == []
    assert "never auto-links again" in decisions(api, app["id"], customer["id"])[0]["reason"]
    relinked = api.post(f"/api/v1/customers/{customer['id']}/links", {"app_id": app["id"], "external_customer_id": str(ext["id"])})
    assert relinked.status_code == 201, "linking by hand again is allowed"


def test_deleting_an_app_removes_the_data_pulled_from_it_as_unlink_does(api: Api) -> None:
    doomed = make_app(api)
    ext = vendor_customer(
        api,
        company="Kramerica",
        addresses=[{"address1": "2 Pipe Rd", "city": "NYC", "country_code": "US", "first_name": "A", "last_name": "B"}],
    )
    customer = api.post("/api/v1/customers", {"emails": [ext["email"]], "custom_attributes": {"tier": "gold"}}).json()
    assert customer["custom_attributes"]["company"] == "Kramerica" and customer["sources"], "auto-linked, data pulled"
    assert api.delete(f"/api/v1/apps/{doomed['id']}", role="admin").status_code == 204
    after = api.get(f"/api/v1/customers/{customer['id']}").json()
    assert after["links"] == [] and after["custom_attributes"] == {"tier": "gold"}, "agent values stay, pulled values go"
    assert after["address"] is None and after["sources"] == {}, "no provenance points at a deleted app"


# app admin


def test_app_admin_validates_everything_at_once(api: Api) -> None:
    response = api.post(
        "/api/v1/apps",
        {
            "type": "bigcommerce",
            "name": "x",
            "settings": {"store_hash": data.STORE_HASH, "api_base_url": api.stack.sandbox_url("bigcommerce")},
            "secrets": {"access_token": data.ACCESS_TOKEN},
            "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "email", "label": "Again"}],
            "search_result_attributes": [{"attribute": "name", "label": ""}],
            "auto_link_fields": ["email", "email"],
        },
        role="admin",
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert {"search_query_attributes[1].attribute", "search_result_attributes[0].label", "auto_link_fields"} <= set(fields)
    empty = api.post("/api/v1/apps", {"type": "bigcommerce", "name": "x", "search_query_attributes": []}, role="admin")
    assert "search_query_attributes" in empty.json()["error"]["fields"]


def test_an_inactive_app_takes_part_in_nothing_and_keeps_its_links(api: Api, app: dict[str, Any]) -> None:
    ext, later = vendor_customer(api), vendor_customer(api)
    customer = api.post("/api/v1/customers", {"emails": [ext["email"]]}).json()
    assert link_of(customer, app["id"])
    off = api.post(f"/api/v1/apps/{app['id']}/deactivate", role="admin")
    assert off.status_code == 200 and off.json()["active"] is False
    assert api.post(f"/api/v1/apps/{app['id']}/deactivate", role="agent").status_code == 403
    time.sleep(FRESHNESS_S + 0.1)
    api.sandbox("bigcommerce", "DELETE", "/__sandbox/requests")
    profile = api.get(f"/api/v1/customers/{customer['id']}").json()
    assert link_of(profile, app["id"]), "links stay"
    assert contact(api, email=later["email"])["linked"] == []
    other = api.post("/api/v1/customers", {"name": "o"}).json()
    search = api.post(f"/api/v1/customers/{other['id']}/external-search", {"app_id": "all", "email": later["email"]}).json()
    assert all(r["app_id"] != app["id"] for r in search["results"] + search["failures"])
    assert vendor_requests(api) == [], "an inactive app calls nothing"
    on = api.post(f"/api/v1/apps/{app['id']}/activate", role="admin")
    assert on.status_code == 200 and on.json()["active"] is True


# lookup debugger


def test_every_lookup_leaves_a_redacted_trace(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(api)
    customer = api.post("/api/v1/customers", {"emails": [ext["email"]]}).json()
    traces = lookups(api, app["id"], customer["id"])
    kinds = {t["kind"] for t in traces}
    assert {"autolink_search", "autolink_fetch", "autolink"} <= kinds
    search = next(t for t in traces if t["kind"] == "autolink_search")
    assert search["request"]["emails"] == [ext["email"]] and search["response"]["candidates"][0]["external_id"] == str(ext["id"])
    assert search["request"]["app"]["secrets"] == "[redacted]" and data.ACCESS_TOKEN not in str(traces)
    assert search["code"] == "OK" and search["latency_ms"] > 0
    assert api.get(f"/api/v1/apps/{app['id']}/lookups", role="agent").status_code == 403
    assert api.get(f"/api/v1/apps/{app['id']}/lookups", role="admin", params={"limit": "0"}).status_code == 422
    assert len(api.get(f"/api/v1/apps/{app['id']}/lookups", role="admin", params={"limit": "2"}).json()["lookups"]) == 2


def test_the_debugger_dry_run_explains_and_changes_nothing(api: Api, app: dict[str, Any]) -> None:
    ext = vendor_customer(api)
    before = len(lookups(api, app["id"]))
    dry = api.post("/api/v1/debugger/lookup", {"app_id": app["id"], "email": ext["email"], "workflow": "autolink"}, role="developer")
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["would_link"] is True and body["external_customer_id"] == str(ext["id"]) and "exactly one" in body["reason"]
    assert [s["kind"] for s in body["steps"]] == ["autolink_search", "autolink_fetch", "autolink"]
    assert all(s["dry_run"] for s in body["steps"]) and data.ACCESS_TOKEN not in dry.text
    assert api.get("/api/v1/customers", params={"email": ext["email"]}).json()["customers"] == [], "no profile was created"
    assert len(lookups(api, app["id"])) == before, "a dry run is not recorded as a lookup"
    audit = api.get("/api/v1/audit", role="admin", params={"action": "debugger.lookup", "app_id": app["id"]}).json()["entries"]
    assert audit and audit[0]["details"]["email"] == ext["email"] and audit[0]["actor"]["role"] == "developer", (
        "who looked up which email is recorded"
    )
    assert ext.get("first_name", "@@") not in str(audit[0]), "never the answer"
    basic = api.post("/api/v1/debugger/lookup", {"app_id": app["id"], "email": ext["email"], "workflow": "basic"}, role="admin").json()
    assert basic["would_link"] is False and [s["kind"] for s in basic["steps"]] == ["search"]
    bad = api.post("/api/v1/debugger/lookup", {"app_id": app["id"], "workflow": "guess"}, role="admin")
    assert bad.status_code == 422 and {"workflow", "email"} <= set(bad.json()["error"]["fields"])
