"""The Magento sandbox answers as the published admin schema says, and parses
searchCriteria as Magento does."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from linkmesh_sandboxes.magento import data
from tests.inprocess import magento_sandbox
from tests.specs import validate_vendor_response

AUTH = {"Authorization": f"Bearer {data.ACCESS_TOKEN}"}
SPEC = "magento/admin-schema-2.4.9.yaml"


def crit(*groups: list[tuple[str, str, str]], camel: bool = False, **extra: str) -> dict[str, str]:
    fg, ct = ("filterGroups", "conditionType") if camel else ("filter_groups", "condition_type")
    params = {}
    for g, group in enumerate(groups):
        for f, (field, value, condition) in enumerate(group):
            p = f"searchCriteria[{fg}][{g}][filters][{f}]"
            params.update({f"{p}[field]": field, f"{p}[value]": value, f"{p}[{ct}]": condition})
    params.update({f"searchCriteria[{k}]": v for k, v in extra.items()})
    return params


async def get(path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with magento_sandbox() as sandbox, aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.url}{path}", params=params, headers=AUTH if headers is None else headers) as resp:
            return resp.status, await resp.json()


CASES = [
    ("/V1/customers/search", "/rest/default/V1/customers/search", crit([("email", "jane.smith@example.com", "eq")])),
    ("/V1/customers/{customerId}", "/rest/default/V1/customers/1", {}),
    (
        "/V1/orders",
        "/rest/default/V1/orders",
        {**crit([("customer_id", "1", "eq")]), "searchCriteria[sort_orders][0][field]": "created_at"},
    ),
    ("/V1/orders/{id}", "/rest/default/V1/orders/101", {}),
    ("/V1/shipments", "/rest/default/V1/shipments", crit([("order_id", "101,103", "in")])),
    ("/V1/products", "/rest/default/V1/products", crit([("sku", "MH-TENT-2P,MH-LAMP", "in")])),
    ("/V1/store/storeConfigs", "/rest/default/V1/store/storeConfigs", {}),
]


@pytest.mark.parametrize(("spec_path", "path", "params"), CASES)
async def test_responses_match_the_published_spec(spec_path: str, path: str, params: dict[str, str]) -> None:
    status, body = await get(path, params)
    assert status == 200, body
    assert body, "the demo data must make this answer non-empty"
    if isinstance(body, dict) and "items" in body:
        assert body["items"], "a search that finds something"
    validate_vendor_response(SPEC, spec_path, "get", 200, body)


async def test_filters_in_a_group_are_ored_and_groups_anded_in_either_spelling() -> None:
    status, body = await get(
        "/rest/default/V1/customers/search",
        crit([("email", "jane.smith@example.com", "eq"), ("email", "MO.GENTO@example.com", "eq")], camel=True),
    )
    assert status == 200 and sorted(c["id"] for c in body["items"]) == [1, 4]
    status, body = await get(
        "/rest/V1/customers/search",
        crit([("email", "jane.smith@example.com", "eq"), ("email", "mo.gento@example.com", "eq")], [("lastname", "Gento", "eq")]),
    )
    assert [c["id"] for c in body["items"]] == [4] and body["total_count"] == 1
    status, body = await get(
        "/rest/default/V1/customers/search", crit([("email", "%@example.com", "like")], page_size="2", current_page="2")
    )
    assert len(body["items"]) == 2 and body["total_count"] > 4 and body["search_criteria"]["current_page"] == 2


@pytest.mark.parametrize(
    ("params", "message", "parameters"),
    [
        ({}, '"%fieldName" is required. Enter and try again.', {"fieldName": "searchCriteria"}),
        (
            crit([("email", "x", "almost")]),
            'Invalid value of "%value" provided for the %fieldName field.',
            {"value": "almost", "fieldName": "condition_type"},
        ),
        (
            {"searchCriteria[filter_groups][0][filters][0][value]": "x"},
            '"%fieldName" is required. Enter and try again.',
            {"fieldName": "field"},
        ),
        (
            {"searchCriteria[filter_groups][x][filters][0][field]": "email"},
            'The "%1" parameter is malformed.',
            ["searchCriteria[filter_groups][x]"],
        ),
        (crit([("telephone", "1", "eq")]), "Invalid attribute name: %1", ["telephone"]),
        (crit([("email", "x", "eq")], page_size="ten"), None, None),
    ],
)
async def test_malformed_criteria_are_refused_as_magento_does(params: dict[str, str], message: str | None, parameters: Any) -> None:
    status, body = await get("/rest/default/V1/customers/search", params)
    assert status == 400 and body["message"]
    if message is not None:
        assert body["message"] == message and body["parameters"] == parameters


async def test_auth_store_and_missing_entities_answer_magento_errors() -> None:
    status, body = await get("/rest/default/V1/customers/1", headers={"Authorization": "Bearer nope"})
    assert status == 401 and body == {
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Customer::customer"},
    }
    status, body = await get("/rest/nowhere/V1/customers/1")
    assert status == 404
    status, body = await get("/rest/default/V1/customers/999")
    assert status == 404 and body["parameters"] == {"fieldName": "customerId", "fieldValue": 999}


async def test_customers_can_be_created_as_magento_does() -> None:
    async with magento_sandbox() as sandbox, aiohttp.ClientSession() as http:
        url = f"{sandbox.url}/rest/default/V1/customers"
        body = {"customer": {"email": "fresh@example.com", "firstname": "Fresh", "lastname": "Person"}, "password": "Secret123!"}
        async with http.post(url, json=body, headers=AUTH) as resp:
            assert resp.status == 200
            created = await resp.json()
        validate_vendor_response(SPEC, "/V1/customers", "post", 200, created)
        async with http.post(url, json=body, headers=AUTH) as resp:
            assert resp.status == 400 and "already exists" in (await resp.json())["message"]
        async with http.post(url, json={"customer": {"email": "x@example.com"}}, headers=AUTH) as resp:
            assert resp.status == 400 and (await resp.json())["parameters"] == {"fieldName": "firstname"}


async def test_action_endpoints_follow_magento_state_rules() -> None:
    async with magento_sandbox() as sandbox, aiohttp.ClientSession() as http:
        base = f"{sandbox.url}/rest/default/V1"
        async with http.post(f"{base}/orders/101/cancel", headers=AUTH) as resp:
            assert resp.status == 200 and await resp.json() is False, "a shipped, complete order cannot be canceled"
        async with http.post(f"{base}/orders/102/cancel", headers=AUTH) as resp:
            assert await resp.json() is True
        validate_vendor_response(SPEC, "/V1/orders/{id}/cancel", "post", 200, True)
        async with http.post(f"{base}/order/102/refund", json={"items": []}, headers=AUTH) as resp:
            assert resp.status == 400, "a canceled order has nothing to refund"
        async with http.post(f"{base}/order/104/refund", json={"items": []}, headers=AUTH) as resp:
            assert resp.status == 400 and "creditmemo" in (await resp.json())["message"], "not invoiced"
        async with http.get(f"{base}/orders/101", headers=AUTH) as resp:
            lamp = next(i for i in (await resp.json())["items"] if i["sku"] == "MH-LAMP")
        async with http.post(
            f"{base}/order/101/refund", json={"items": [{"order_item_id": lamp["item_id"], "qty": 3}]}, headers=AUTH
        ) as resp:
            body = await resp.json()
            assert resp.status == 400 and body["parameters"] == ["MH-LAMP"], "more than was invoiced"
        async with http.post(
            f"{base}/order/101/refund", json={"items": [{"order_item_id": lamp["item_id"], "qty": 1}]}, headers=AUTH
        ) as resp:
            memo = await resp.json()
            assert resp.status == 200 and isinstance(memo, int)
        validate_vendor_response(SPEC, "/V1/order/{orderId}/refund", "post", 200, memo)
        spec = {"couponSpec": {"rule_id": 1, "format": "alphanum", "quantity": 1, "length": 8}}
        async with http.post(f"{base}/coupons/generate", json=spec, headers=AUTH) as resp:
            codes = await resp.json()
            assert resp.status == 200 and len(codes) == 1 and len(codes[0]) == 8
        validate_vendor_response(SPEC, "/V1/coupons/generate", "post", 200, codes)
        spec["couponSpec"]["rule_id"] = 2
        async with http.post(f"{base}/coupons/generate", json=spec, headers=AUTH) as resp:
            assert resp.status == 400 and "automatic" in (await resp.json())["message"]
