"""The customer directory: recent customers, and search by name, email, phone or a linked
order number, page by page; and a profile read as stored or refreshed one app at a time."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.conftest import Api
from tests.e2e.test_console import store_app

pytestmark = pytest.mark.e2e


def directory(api: Api, **params: str) -> dict[str, Any]:
    answer = api.get("/api/v1/customer-directory", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_recent_customers_come_newest_first_page_by_page(api: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = []
    for n in range(3):
        contact = api.post("/api/v1/contacts", {"channel": "chat", "email": f"recent-{n}-{tag}@example.com", "name": f"Recent {n} {tag}"})
        assert contact.status_code == 200, contact.text
        ids.append(contact.json()["customer_id"])
    first = directory(api, limit="2")
    assert [c["id"] for c in first["customers"]] == [ids[2], ids[1]]
    assert first["customers"][0]["matched"] == "recent" and first["customers"][0]["last_contact_at"]
    assert first["next_page_token"]
    second = directory(api, limit="2", page_token=first["next_page_token"])
    assert second["customers"][0]["id"] == ids[0], "the next page goes on where the first ended"
    bad = api.get("/api/v1/customer-directory", params={"page_token": "not-a-token"})
    assert bad.status_code == 422 and "page_token" in bad.json()["error"]["fields"]
    assert api.get("/api/v1/customer-directory", params={"limit": "0"}).json()["error"]["fields"] == {
        "limit": "must be a whole number from 1 to 100"
    }
    assert "query" in api.get("/api/v1/customer-directory", params={"query": "!!"}).json()["error"]["fields"]


def test_a_name_finds_every_customer_whose_name_words_start_with_the_query_words(api: Api) -> None:
    tag = uuid.uuid4().hex[:6]
    made = {}
    for name in (f"Zoë Quartermaine{tag}", f"zoe Quinn{tag}", f"Zola Quartermaine{tag}"):
        answer = api.post("/api/v1/customers", {"name": name})
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["id"]
    # Every query word starts a word of the name; case and accents do not matter.
    found = directory(api, query=f"ZOE quartermaine{tag}")
    assert [c["id"] for c in found["customers"]] == [made[f"Zoë Quartermaine{tag}"]]
    assert found["customers"][0]["matched"] == "name"
    both = directory(api, query=f"quartermaine{tag[:3]}")
    assert {c["id"] for c in both["customers"]} >= {made[f"Zoë Quartermaine{tag}"], made[f"Zola Quartermaine{tag}"]}
    # Page by page, nothing twice.
    seen: list[str] = []
    token = ""
    while True:
        page = directory(api, query=f"zo quartermaine{tag}", limit="1", **({"page_token": token} if token else {}))
        seen += [c["id"] for c in page["customers"]]
        token = page["next_page_token"]
        if not token:
            break
    assert sorted(seen) == sorted([made[f"Zoë Quartermaine{tag}"], made[f"Zola Quartermaine{tag}"]]) and len(set(seen)) == len(seen)


def test_email_phone_and_an_order_number_a_linked_app_holds_find_the_customer(api: Api, sandbox_reset: None) -> None:
    app = store_app(api, f"Directory store {uuid.uuid4().hex[:4]}", auto_link_fields=["email"])
    try:
        contact = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"})
        assert contact.status_code == 200 and app["id"] in contact.json()["linked"], contact.text
        jane = contact.json()["customer_id"]
        profile = api.get(f"/api/v1/customers/{jane}", params={"refresh": "none"}).json()
        number = next(o["number"] for link in profile["links"] if link["app_id"] == app["id"] for o in link["data"]["orders"])
        for query in (number, f"#{number}", f" #{number} "):
            found = directory(api, query=query)
            assert [(c["id"], c["matched"]) for c in found["customers"]] == [(jane, "order")], query
            assert app["name"] in found["customers"][0]["linked_apps"]
        assert [c["id"] for c in directory(api, query="Jane.Smith@Example.com")["customers"]] == [jane]
        phone = profile["phones"][0] if profile["phones"] else None
        if phone:
            assert jane in [c["id"] for c in directory(api, query=phone)["customers"]]
        # Unlinked: its orders no longer find the customer.
        assert api.delete(f"/api/v1/customers/{jane}/links").status_code == 200
        assert directory(api, query=number)["customers"] == []
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def reads_of_her(api: Api, customer_id: str, app_id: str) -> int:
    """The sandbox's reads of the customer's record at the app (by her id there): the vendor calls
    a refresh of her link makes, and no background work beside it (the change sweep's list of
    orders changed since a time and its check of the app's hooks come at any minute's round)."""
    profile = api.get(f"/api/v1/customers/{customer_id}", params={"refresh": "none"}).json()
    external_id = next(link["data"]["external_id"] for link in profile["links"] if link["app_id"] == app_id)
    return sum(
        1
        for r in api.sandbox("bigcommerce", "GET", "/__sandbox/requests")
        if parse_qs(r["query"]).get("id:in") == [external_id] or parse_qs(r["query"]).get("customer_id") == [external_id]
    )


def test_a_profile_is_read_as_stored_or_refreshed_one_app_at_a_time(api: Api, sandbox_reset: None) -> None:
    first = store_app(api, f"Refresh A {uuid.uuid4().hex[:4]}", auto_link_fields=["email"])
    try:
        contact = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"}).json()
        jane = contact["customer_id"]
        assert first["id"] in contact["linked"], contact
        before = reads_of_her(api, jane, first["id"])
        time.sleep(1.2)  # past the test stack's freshness window (1 s)
        stored = api.get(f"/api/v1/customers/{jane}", params={"refresh": "none"})
        assert stored.status_code == 200
        assert reads_of_her(api, jane, first["id"]) == before, "as stored: no vendor call"
        one = api.get(f"/api/v1/customers/{jane}", params={"refresh": first["id"]})
        assert one.status_code == 200
        link = next(l for l in one.json()["links"] if l["app_id"] == first["id"])
        assert link["refreshed_at"] > next(l for l in stored.json()["links"] if l["app_id"] == first["id"])["refreshed_at"]
        assert reads_of_her(api, jane, first["id"]) > before
        bad = api.get(f"/api/v1/customers/{jane}", params={"refresh": "sometimes"})
        assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"refresh": "must be all, none or the id of a linked app"}
        api.delete(f"/api/v1/customers/{jane}/links")
    finally:
        api.delete(f"/api/v1/apps/{first['id']}", role="admin")


def test_a_contact_says_which_apps_it_could_not_link_and_why(api: Api, sandbox_reset: None) -> None:
    """Auto-link that failed is told apart from no unique match: the failure carries its code
    (worth a retry), and a retried contact links once the system answers."""
    app = store_app(api, f"Flaky store {uuid.uuid4().hex[:4]}", auto_link_fields=["email"])
    try:
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": True})
        first = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
        miss = [m for m in first["not_linked"] if m["app_id"] == app["id"]]
        assert first["linked"] == [] and len(miss) == 1 and miss[0]["code"] and miss[0]["app_name"] == app["name"], first
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": False})
        again = api.post("/api/v1/contacts", {"channel": "chat", "email": "jane.smith@example.com"}).json()
        assert app["id"] in again["linked"] and again["not_linked"] == [], again
        nobody = api.post("/api/v1/contacts", {"channel": "chat", "email": f"nobody-{uuid.uuid4().hex[:6]}@example.com"}).json()
        assert [(m["app_id"], m["code"], m["reason"]) for m in nobody["not_linked"]] == [(app["id"], "", "no external profile matches")]
        api.delete(f"/api/v1/customers/{again['customer_id']}/links")
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def test_the_lookup_log_filters_by_customer_kind_and_outcome_page_by_page(api: Api, sandbox_reset: None) -> None:
    app = store_app(api, f"Logged store {uuid.uuid4().hex[:4]}", auto_link_fields=["email"])
    try:
        jane = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"}).json()["customer_id"]
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": True})
        for _ in range(3):
            api.post(f"/api/v1/customers/{jane}/external-search", {"app_id": app["id"], "email": "someone@example.com"})
        api.sandbox("bigcommerce", "POST", "/__sandbox/knobs", {"down": False})
        path = f"/api/v1/apps/{app['id']}/lookups"
        every = api.get(path, role="developer", params={"limit": "500"}).json()["lookups"]
        failed = api.get(path, role="developer", params={"outcome": "failed", "kind": "search"}).json()["lookups"]
        assert len(failed) == 3 and all(t["code"] != "OK" and t["kind"] == "search" for t in failed)
        mine = api.get(path, role="developer", params={"customer_id": jane, "outcome": "ok"}).json()["lookups"]
        assert mine and all(t["customer_id"] == jane and t["code"] == "OK" for t in mine)
        # Two at a time: every trace once, newest first, as one long page would show them.
        seen, token = [], ""
        while True:
            page = api.get(path, role="developer", params={"limit": "2", **({"page_token": token} if token else {})}).json()
            seen += [t["id"] for t in page["lookups"]]
            token = page["next_page_token"]
            if not token:
                break
        assert seen == [t["id"] for t in every]
        bad = api.get(path, role="developer", params={"outcome": "maybe"})
        assert bad.status_code == 422 and "outcome" in bad.json()["error"]["fields"]
        api.delete(f"/api/v1/customers/{jane}/links")
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
