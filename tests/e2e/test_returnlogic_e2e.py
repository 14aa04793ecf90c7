"""ReturnLogic end to end: auto-link by email, the customer's RMAs as returns,
the one-click RMA link, and RMA codes in manual search results."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from linkmesh_sandboxes.returnlogic import data
from tests.conftest import Api

pytestmark = pytest.mark.e2e


@pytest.fixture()
def rl_app(api: Api) -> Any:
    response = api.post(
        "/api/v1/apps",
        {
            "type": "returnlogic",
            "name": f"ReturnLogic {uuid.uuid4().hex[:6]}",
            "settings": {"api_base_url": f"{api.stack.sandbox_url('returnlogic')}/v1", "app_base_url": "https://rl.example"},
            "secrets": {"api_key": data.API_KEY},
            "search_query_attributes": [{"attribute": "email", "label": "Email"}],
            "search_result_attributes": [{"attribute": "name", "label": "Name"}, {"attribute": "rma_codes", "label": "RMAs"}],
            "auto_link_fields": ["email"],
        },
        role="admin",
    )
    assert response.status_code == 201, response.text
    yield response.json()
    api.delete(f"/api/v1/apps/{response.json()['id']}", role="admin")


def test_a_contact_links_the_returns_identity_and_shows_rmas(api: Api, rl_app: dict[str, Any]) -> None:
    result = api.post("/api/v1/contacts", {"channel": "chat", "email": "mo.gento@example.com"}).json()
    assert rl_app["id"] in result["linked"] or rl_app["id"] in result["refreshed"]
    profile = api.get(f"/api/v1/customers/{result['customer_id']}").json()
    link = next(l for l in profile["links"] if l["app_id"] == rl_app["id"])
    assert link["external_customer_id"] == "mo.gento@example.com"
    [rma] = link["data"]["returns"]
    assert (rma["code"], rma["status"], rma["order_id"], rma["refund_total"]["amount"], rma["store_credit"]["amount"]) == (
        "RL-20004",
        "PENDING",
        "1005",
        "0.00",
        "39.50",
    ), "refunded as a gift card: store credit"
    assert rma["items"][0]["reason"] == "Changed my mind"
    expected = "https://rl.example/originate/rmas?search=mo.gento%40example.com"
    assert profile["custom_attributes"]["rma_link"] == expected
    assert profile["sources"]["custom_attributes.rma_link"] == rl_app["id"]


def test_manual_search_shows_rma_codes(api: Api, rl_app: dict[str, Any]) -> None:
    customer = api.post("/api/v1/customers", {"name": "Searcher"}).json()
    search = api.post(f"/api/v1/customers/{customer['id']}/external-search", {"app_id": rl_app["id"], "email": "jane.smith@example.com"})
    assert search.status_code == 200, search.text
    [result] = search.json()["results"]
    assert result["external_customer_id"] == "jane.smith@example.com"
    assert result["attributes"] == [
        {"attribute": "name", "label": "Name", "value": "Jane Smith"},
        {"attribute": "rma_codes", "label": "RMAs", "value": "RL-20002, RL-20001"},
    ]


def test_phone_matching_is_refused_for_returnlogic(api: Api) -> None:
    response = api.post(
        "/api/v1/apps",
        {
            "type": "returnlogic",
            "name": "RL phone",
            "settings": {"api_base_url": f"{api.stack.sandbox_url('returnlogic')}/v1"},
            "secrets": {"api_key": data.API_KEY},
            "search_query_attributes": [{"attribute": "phone", "label": "Phone"}],
            "auto_link_fields": ["phone"],
        },
        role="admin",
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"search_query_attributes[0].attribute", "auto_link_fields[0]"}


def test_rma_codes_are_a_default_result_attribute_of_a_returnlogic_app(api: Api) -> None:
    response = api.post(
        "/api/v1/apps",
        {
            "type": "returnlogic",
            "name": f"RL defaults {uuid.uuid4().hex[:6]}",
            "settings": {"api_base_url": f"{api.stack.sandbox_url('returnlogic')}/v1"},
            "secrets": {"api_key": data.API_KEY},
            "search_query_attributes": [{"attribute": "email", "label": "Email"}],
        },
        role="admin",
    )
    assert response.status_code == 201, response.text
    app = response.json()
    try:
        assert [a["attribute"] for a in app["search_result_attributes"]] == ["name", "email", "phone", "externalCustomerId", "rma_codes"]
        customer = api.post("/api/v1/customers", {"name": "Defaults"}).json()
        [result] = api.post(
            f"/api/v1/customers/{customer['id']}/external-search", {"app_id": app["id"], "email": "jane.smith@example.com"}
        ).json()["results"]
        assert result["attributes"][-1] == {"attribute": "rma_codes", "label": "RMAs", "value": "RL-20002, RL-20001"}
    finally:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")
    connectors = {c["type"]: c for c in api.get("/api/v1/connectors").json()["connectors"]}
    assert connectors["returnlogic"]["result_attributes"] == [{"attribute": "rma_codes", "label": "RMAs"}]
