"""A burst of contacts for one new person on several channels (email only, the email in upper
case, email with phone, phone only) makes one linked customer, as the same contacts sent one
after another do (linkmesh_profile.customers.folding). Through the gateway, with BigCommerce customers
made on the sandbox through its own API."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.test_linking_rules import app, link_of, unique_phone, vendor_customer

pytestmark = pytest.mark.e2e
__all__ = ["app"]  # the fixture


def burst(api: Api, bodies: list[dict[str, str]]) -> list[dict[str, Any]]:
    start = threading.Barrier(len(bodies))

    def send(body: dict[str, str]) -> dict[str, Any]:
        start.wait()
        answer = api.post("/api/v1/contacts", body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


@pytest.mark.parametrize("round_", range(4))
def test_a_burst_of_contacts_for_one_new_person_makes_one_linked_customer(api: Api, app: dict[str, Any], round_: int) -> None:
    phone = unique_phone()
    ext = vendor_customer(api, phone=phone)
    email = ext["email"]
    answers = burst(
        api,
        [
            {"channel": "email", "email": email},
            {"channel": "chat", "email": email.upper()},
            {"channel": "sms", "email": email, "phone": phone},
            {"channel": "voice", "phone": phone},
        ],
    )
    read = [api.get(f"/api/v1/customers/{a['customer_id']}", params={"refresh": "none"}) for a in answers]
    assert [r.status_code for r in read] == [200] * 4, [r.text for r in read]
    profiles = [r.json() for r in read]
    assert len({p["id"] for p in profiles}) == 1, f"round {round_}: {sorted({p['id'] for p in profiles})}"
    one = profiles[0]
    assert one["emails"] == [email] and len(one["phones"]) == 1
    link = link_of(one, app["id"])
    assert link is not None and link["external_customer_id"] == str(ext["id"]), [a.get("not_linked") for a in answers]
    again = api.post("/api/v1/contacts", {"channel": "voice", "phone": phone}).json()
    assert again["customer_id"] == one["id"] and not again["created"]
