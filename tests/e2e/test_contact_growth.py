"""Contacts grow a profile's emails only up to what the API allows, and an auto-link's search
stays small whatever the profile holds (43 contacts sharing a phone made a 7.7 s contact, a
query Magento refused and 560 ReturnLogic requests)."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.e2e


def test_contacts_sharing_a_phone_add_at_most_twenty_emails_and_searches_stay_small(api: Api, sandbox_reset: None) -> None:
    tag = uuid.uuid4().hex[:6]
    phone = f"+1415555{int(tag[:4], 16) % 10000:04d}"
    answers = [api.post("/api/v1/contacts", {"channel": "sms", "phone": phone, "email": f"growth{i}.{tag}@example.com"}) for i in range(26)]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200][:1]
    ids = {a.json()["customer_id"] for a in answers}
    assert len(ids) == 1, "one person: one customer"
    customer = api.get(f"/api/v1/customers/{ids.pop()}", params={"refresh": "none"}).json()
    assert len(customer["emails"]) == 20, len(customer["emails"])
    api.sandbox("returnlogic", "DELETE", "/__sandbox/requests")
    last = api.post("/api/v1/contacts", {"channel": "sms", "phone": phone, "email": f"growth99.{tag}@example.com"})
    assert last.status_code == 200
    searched = [r for r in api.sandbox("returnlogic", "GET", "/__sandbox/requests") if r["method"] == "GET"]
    assert len(searched) <= 12, f"{len(searched)} ReturnLogic requests for one contact"
