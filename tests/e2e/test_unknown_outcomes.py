"""An action whose outcome is unknown stays sent once, whatever the failure looks like, and
says so in a form a program can read: its own code and status, never a plain 503."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.test_action_failures import refund_body
from tests.e2e.test_actions import act, apps, linked_customer, vendor_calls  # noqa: F401 - the apps fixture

pytestmark = pytest.mark.e2e

# A proxy's error page in a legacy encoding (windows-1251, capitals): every byte of its text is
# not UTF-8, so each becomes U+FFFD (3 bytes) when decoded.
LEGACY_PAGE = "<html><body><h1>" + "ОШИБКАПРОКСИСЕРВЕРА" * 330 + "</h1></body></html>"


def test_a_refund_answered_by_a_large_non_utf8_page_after_the_vendor_acted_is_sent_once(api: Api, apps: dict[str, Any]) -> None:
    """The page used to travel as 4,000 U+FFFD (12 KB) in the connector's error details, past
    gRPC's metadata limit; the channel's own RESOURCE_EXHAUSTED released the key and each retry
    with the same key refunded again."""
    assert len(LEGACY_PAGE.encode("cp1251")) > 6000
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    api.sandbox(
        "bigcommerce",
        "POST",
        "/__sandbox/knobs",
        {
            "fail": {
                "status": 502,
                "path": "/payment_actions/refunds",
                "method": "POST",
                "after": True,
                "raw_body": LEGACY_PAGE,
                "raw_body_charset": "cp1251",
            }
        },
    )
    answers = [act(api, customer, refund_body(bc), key="legacy-page-1") for _ in range(3)]
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1, "one refund for one key, whatever the retries"
    first = answers[0]
    assert first.status_code == 502, first.text
    assert first.json()["error"]["code"] == "outcome_unknown"
    for again in answers[1:]:
        assert again.status_code != 200 or again.json().get("replayed"), again.text


def test_an_unknown_outcome_has_its_own_code_and_status(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    api.sandbox(
        "bigcommerce",
        "POST",
        "/__sandbox/knobs",
        {"fail": {"status": 503, "path": "/payment_actions/refunds", "method": "POST", "after": True}},
    )
    first = act(api, customer, refund_body(bc), key="own-code-1")
    assert first.status_code == 502 and first.json()["error"]["code"] == "outcome_unknown", first.text
    problem = api.session.post(
        f"{api.stack.gateway_url}/api/v1/customers/{customer['id']}/actions",
        json=refund_body(bc),
        timeout=30,
        headers={
            "Idempotency-Key": "own-code-1",
            "Accept": "application/problem+json",
            "Authorization": f"Bearer {api.stack.token('agent')}",
        },
    )
    assert problem.status_code == 502, problem.text
    assert problem.headers["Content-Type"].startswith("application/problem+json")
    assert problem.json()["type"] == "urn:linkmesh:problem:outcome_unknown", problem.text
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1


def poll(api: Api, customer: dict[str, Any], body: dict[str, Any], key: str, *, until_s: float = 20.0) -> Any:
    """Sends the same request with the same key until its outcome is no longer unknown."""
    deadline = time.monotonic() + until_s
    while True:
        answer = act(api, customer, body, key=key)
        if answer.status_code != 502 or time.monotonic() > deadline:
            return answer
        assert answer.json()["error"]["code"] == "outcome_unknown" and "Retry-After" in answer.headers, answer.text
        time.sleep(0.5)


def audit_of(api: Api, customer: dict[str, Any], action: str) -> list[dict[str, Any]]:
    entries = api.get("/api/v1/audit", role="admin", params={"customer_id": customer["id"], "action": action}).json()["entries"]
    return list(entries)


def test_a_lost_refund_the_vendor_made_is_resolved_from_its_refunds(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    api.sandbox(
        "bigcommerce",
        "POST",
        "/__sandbox/knobs",
        {"fail": {"status": 504, "path": "/payment_actions/refunds", "method": "POST", "after": True}},
    )
    first = act(api, customer, refund_body(bc), key="resolve-applied")
    assert first.status_code == 502 and first.json()["error"]["code"] == "outcome_unknown", first.text
    checking = act(api, customer, refund_body(bc), key="resolve-applied")
    assert checking.status_code == 502 and "asking the vendor" in checking.json()["error"]["message"], checking.text
    resolved = poll(api, customer, refund_body(bc), "resolve-applied")
    assert resolved.status_code == 200, resolved.text
    out = resolved.json()
    assert out["replayed"] and out["resolution"] == "resolved" and out["message"] == "Refunded 14.50 USD on order 5001"
    assert out["result"]["refund_id"], "the vendor's record that decided it"
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1, "resolved by reading, never by sending again"
    entry = audit_of(api, customer, "action.resolve")[0]
    assert entry["details"]["resolution"] == "succeeded" and entry["actor"]["kind"] == "service", entry


def test_a_lost_refund_the_vendor_never_made_releases_its_key(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    # The vendor's gateway answers 502 without passing the refund on: nothing was refunded.
    api.sandbox(
        "bigcommerce",
        "POST",
        "/__sandbox/knobs",
        {"fail": {"status": 502, "path": "/payment_actions/refunds", "method": "POST", "count": 1}},
    )
    first = act(api, customer, refund_body(bc), key="resolve-not-applied")
    assert first.status_code == 502 and first.json()["error"]["code"] == "outcome_unknown", first.text
    again = poll(api, customer, refund_body(bc), "resolve-not-applied")
    assert again.status_code == 200 and not again.json()["replayed"], "not applied: the same key runs it now"
    assert again.json()["message"] == "Refunded 14.50 USD on order 5001"
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 2
    assert audit_of(api, customer, "action.resolve")[0]["details"]["resolution"] == "not_applied"


def test_the_key_scope_is_the_customer_however_its_id_is_spelt(api: Api, apps: dict[str, Any]) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    first = act(api, customer, refund_body(bc), key="spelt-1")
    assert first.status_code == 200, first.text
    shouted = {**customer, "id": customer["id"].upper()}
    again = act(api, shouted, refund_body(bc), key="spelt-1")
    assert again.status_code == 200 and again.json()["replayed"], "6B… and 6b… are one customer, one scope"
    assert vendor_calls(api, "bigcommerce", "/payment_actions/refunds") == 1
