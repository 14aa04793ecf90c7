"""A person's data on request end to end (issue 35): a customer who wrote in, was linked, searched
for and given a discount code is exported (everything linkmesh holds, audited) and erased through
the API; afterwards no collection holds their email, phone or name, and no log line written after
the erase does; asking again is safe; writing in again makes a new customer."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from linkmesh_sandboxes.bigcommerce import data as bc
from tests.conftest import Api
from tests.e2e.test_actions import act, make_app
from tests.e2e.test_events import shop_app

__all__ = ["shop_app"]  # the fixture, used here
pytestmark = pytest.mark.e2e


def person_at_bigcommerce(api: Api) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body = {
        "email": f"erase-{tag}@example.com",
        "first_name": "Ingrid",
        "last_name": f"Vanish{tag}",
        "phone": f"+1 415 5{tag[:3].translate(str.maketrans('abcdef', '123456'))} 0199",
    }
    answer = requests.post(
        f"{api.stack.sandbox_url('bigcommerce')}/stores/{bc.STORE_HASH}/v3/customers",
        json=[body],
        headers={"X-Auth-Token": bc.ACCESS_TOKEN, "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {**body, "id": answer.json()["data"][0]["id"]}


def traces_of_the_person(values: list[str], text: str) -> list[str]:
    return [v for v in values if v.lower() in text.lower()]


def every_collection(api: Api) -> str:
    assert api.stack.mongo is not None
    with MongoClient[dict[str, Any]](api.stack.mongo.uri) as client:
        db = client["linkmesh"]
        return json.dumps({name: list(db[name].find({})) for name in db.list_collection_names()}, default=str)


def log_lines_since(api: Api, since: datetime) -> list[str]:
    out = []
    for path in (api.stack.base_dir / "logs").glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            stamp = re.search(r'"timestamp": "([^"]+)"', line)
            if stamp and datetime.fromisoformat(stamp.group(1).replace("Z", "+00:00")) >= since:
                out.append(f"{path.name}: {line}")
    return out


def test_a_customer_is_exported_then_erased_everywhere_and_comes_back_as_new(api: Api) -> None:
    app = make_app(api, "bigcommerce", auto_link_fields=["email"])
    try:
        who = person_at_bigcommerce(api)
        name = f"{who['first_name']} {who['last_name']}"
        contact = api.post("/api/v1/contacts", {"channel": "email", "email": who["email"]}).json()
        customer_id = contact["customer_id"]
        assert app["id"] in [a["app_id"] for a in contact["linked_apps"]], contact
        profile = api.get(f"/api/v1/customers/{customer_id}?refresh=none").json()
        link = next(link for link in profile["links"] if link["app_id"] == app["id"])
        assert link["data"]["phones"], link["data"]
        phone = profile["phones"][0] if profile["phones"] else link["data"]["phones"][0]["number"]
        api.patch(f"/api/v1/customers/{customer_id}", {"custom_attributes": {"vip": "yes"}})
        api.post(f"/api/v1/customers/{customer_id}/external-search", {"app_id": app["id"], "email": who["email"]})
        code = f"SORRY{uuid.uuid4().hex[:6].upper()}"
        discount = {
            "app_id": app["id"],
            "action": "create_discount_code",
            "params": {"type": "percentage_discount", "amount": 10, "code": code},
        }
        assert act(api, {"id": customer_id}, discount, key=f"privacy-{uuid.uuid4().hex[:8]}").status_code == 200
        person = [who["email"], phone, phone.lstrip("+"), name, who["last_name"]]
        assert traces_of_the_person(person, every_collection(api)), "the person is held before the erase"

        assert api.get(f"/api/v1/customers/{customer_id}/export").status_code == 403, "admins only"
        exported = api.get(f"/api/v1/customers/{customer_id}/export", role="admin")
        assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
        document = exported.json()
        assert document["customer"]["emails"] == [who["email"]] and document["customer"]["links"][app["id"]]["data"]
        assert document["lookup_traces"] and document["audit"] and document["actions"], {
            k: len(v) for k, v in document.items() if isinstance(v, list)
        }
        assert document["actions"][0]["params"]["code"] == code

        erased_at = datetime.now(UTC)
        time.sleep(0.01)
        erased = api.post(f"/api/v1/customers/{customer_id}/erase", role="admin")
        assert erased.status_code == 200, erased.text
        answer = erased.json()
        assert answer["already"] is False and answer["removed"]["customers"] == 1 and answer["removed"]["lookup_traces"] >= 1
        assert answer["pseudonymised"]["audit"] >= 1 and answer["pseudonymised"]["actions"] == 1, answer
        again = api.post(f"/api/v1/customers/{customer_id}/erase", role="admin").json()
        assert again["already"] is True and again["erased_at"] == answer["erased_at"], again
        assert api.get(f"/api/v1/customers/{customer_id}?refresh=none").status_code == 404

        held = every_collection(api)
        assert traces_of_the_person(person, held) == [], "no collection holds the person's email, phone or name"
        assert code not in held, "an erased customer's action keeps order, amount and outcome only"
        assert f"erased on {erased_at.date().isoformat()}" in held, "audit entries stay, pseudonymised"
        logged = [line for line in log_lines_since(api, erased_at) if traces_of_the_person(person, line)]
        assert logged == [], logged[:3]
        entries = api.get("/api/v1/audit", params={"customer_id": customer_id}, role="admin").json()["entries"]
        assert {"customer.export", "customer.erase"} <= {e["action"] for e in entries}

        back = api.post("/api/v1/contacts", {"channel": "email", "email": who["email"]}).json()
        assert back["customer_id"] != customer_id, "an erased person who writes in again is a new customer"
        anew = api.get(f"/api/v1/customers/{back['customer_id']}?refresh=none").json()
        assert "vip" not in anew["custom_attributes"], "nothing of the old profile returns"
        api.post(f"/api/v1/customers/{back['customer_id']}/erase", role="admin")
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


def test_shopifys_customer_redaction_forgets_what_was_pulled_from_that_shop(api: Api, shop_app: dict[str, Any]) -> None:
    """customers/redact, signed as Shopify signs it: the app is unlinked from the customer who links
    the record (its orders go with it), the app's traces of them are forgotten, the other systems
    stay, and it is audited without their data."""
    import base64
    import hashlib
    import hmac

    from linkmesh_sandboxes.shopify import data as shop

    jane = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"}).json()["customer_id"]
    before = api.get(f"/api/v1/customers/{jane}?refresh=none").json()
    assert shop_app["id"] in [link["app_id"] for link in before["links"]]
    body = json.dumps(
        {"shop_domain": shop.SHOP, "customer": {"id": 7001, "email": "jane.smith@example.com"}, "orders_to_redact": [5101]}
    ).encode()
    signed = base64.b64encode(hmac.new(shop.CLIENT_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"X-Shopify-Topic": "customers/redact", "X-Shopify-Hmac-Sha256": signed, "X-Shopify-Event-Id": str(uuid.uuid4())}
    url = f"{api.stack.gateway_url}/webhooks/v1/apps/{shop_app['id']}"
    assert requests.post(url, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=5).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after = api.get(f"/api/v1/customers/{jane}?refresh=none").json()
        if shop_app["id"] not in [link["app_id"] for link in after["links"]]:
            break
        time.sleep(0.1)
    assert shop_app["id"] not in [link["app_id"] for link in after["links"]], "the shop's data for her is forgotten"
    assert [link["app_id"] for link in after["links"]] == [link["app_id"] for link in before["links"] if link["app_id"] != shop_app["id"]]
    assert api.stack.mongo is not None
    with MongoClient[dict[str, Any]](api.stack.mongo.uri) as client:
        db = client["linkmesh"]
        assert db["lookup_traces"].count_documents({"app_id": shop_app["id"], "customer_id": jane}) == 0
        assert f"{shop_app['id']}:7001" not in (db["customers"].find_one({"link_keys": f"{shop_app['id']}:7001"}) or {}).get(
            "link_keys", []
        )
    entries = api.get("/api/v1/audit", params={"customer_id": jane, "action": "privacy.redact"}, role="admin").json()["entries"]
    assert entries and entries[0]["app_id"] == shop_app["id"] and entries[0]["details"] == {"topic": "customers/redact"}, entries
    assert entries[0]["actor"]["kind"] == "service" and "privacy request" in entries[0]["actor"]["name"]


async def test_an_admin_erases_a_customer_from_the_console_after_being_told_what_goes(api: Api) -> None:
    from playwright.async_api import async_playwright

    from tests.e2e.test_console import choose, signed_in

    name = f"Console Erase {uuid.uuid4().hex[:6]}"
    customer = api.post("/api/v1/customers", {"name": name, "emails": [f"{uuid.uuid4().hex[:8]}@example.com"]}).json()
    async with async_playwright() as p:
        browser, page, errors = await signed_in(p, api, "admin")
        await page.click("nav button[data-view=audit]")
        audit = page.locator("#audit-filter")
        await audit.locator("select[name=action]").select_option("customer.create")
        await audit.locator("button[type=submit]").click()
        await page.locator("#audit-result tbody tr", has_text=name).first.locator("td:nth-child(4) button").click()
        await page.wait_for_selector(f"#profile h2:has-text('{name}')")
        await choose(page.locator("#profile .customer"), "Erase this customer")
        dialog = page.locator("#confirm")
        await dialog.wait_for()
        said = await dialog.inner_text()
        assert "Removed from linkmesh for good" in said and "Kept without their data" in said and "new customer" in said, said
        await page.click("#confirm-yes")
        await page.wait_for_selector("#profile :text('The customer was erased.')")
        assert "Erased" in await page.inner_text("#notice")
        assert errors == []
        await browser.close()
    assert api.get(f"/api/v1/customers/{customer['id']}?refresh=none").status_code == 404
