"""Quantities, amounts and counts are ASCII digits within the bounds the connector declares:
anything else is a 422 naming the field, and nothing reaches the vendor."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.test_actions import act, apps, linked_customer, vendor_calls  # noqa: F401 - the apps fixture

pytestmark = pytest.mark.e2e

REFUND_LINES = ["500101:\uff11", "500101:\u0661", "500101:0", "500101:99999999999"]
DISCOUNTS = [
    ({"type": "per_total_discount", "amount": "\u0665"}, "params.amount"),  # Arabic-Indic five
    ({"type": "per_total_discount", "amount": "\uff15"}, "params.amount"),  # full-width five
    ({"type": "per_total_discount", "amount": "0"}, "params.amount"),
    ({"type": "per_total_discount", "amount": "999999999999"}, "params.amount"),
    ({"type": "per_total_discount", "amount": "5", "max_uses": "9" * 30}, "params.max_uses"),
    ({"type": "per_total_discount", "amount": "5", "max_uses": "\uff11"}, "params.max_uses"),
    ({"type": "per_total_discount", "amount": "5", "max_uses": "0"}, "params.max_uses"),
]


@pytest.mark.parametrize("lines", REFUND_LINES, ids=["full-width", "arabic-indic", "zero", "too-many"])
def test_a_refund_quantity_that_is_not_ascii_digits_in_bounds_is_refused(api: Api, apps: dict[str, Any], lines: str) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    answer = act(
        api,
        customer,
        {"app_id": bc["id"], "action": "refund", "order_id": "5001", "params": {"lines": lines}},
        key=f"numbers-{lines.encode().hex()}",
    )
    assert answer.status_code == 422, answer.text
    assert "params.lines" in answer.json()["error"]["fields"]
    assert vendor_calls(api, "bigcommerce", "/payment_actions/") == 0


@pytest.mark.parametrize(("params", "field"), DISCOUNTS, ids=[f"case{i}" for i in range(len(DISCOUNTS))])
def test_a_discount_amount_or_count_out_of_bounds_is_refused(api: Api, apps: dict[str, Any], params: dict[str, str], field: str) -> None:
    bc = apps["bigcommerce"]
    customer = linked_customer(api, {"bc": (bc, "101")})
    answer = act(
        api,
        customer,
        {"app_id": bc["id"], "action": "create_discount_code", "params": params},
        key=f"discount-{repr(params).encode().hex()[:60]}",
    )
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["error"]["fields"], answer.text
    assert vendor_calls(api, "bigcommerce", "/v2/coupons") == 0
