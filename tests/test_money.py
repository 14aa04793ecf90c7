"""Money is a Decimal end to end: typed amounts are checked strictly, vendor JSON is
read without floats, and amounts go back to vendors as exact JSON numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.actions import check_value, form_field
from linkmesh_core.money import decimal_string, parse_amount, to_decimal
from linkmesh_core.vendor_bodies import dumps_body, parse_body
from linkmesh_magento.actions import refund_estimate

AMOUNT = form_field("amount", "Amount", "decimal")


@pytest.mark.parametrize(
    "raw", ["Infinity", "-Infinity", "NaN", "sNaN", "1e400", "1E2", "-1", "1.2.3", "0x10", "12,50", "1.23456", "1" * 13]
)
def test_amounts_that_are_not_plain_decimals_are_refused(raw: str) -> None:
    assert check_value(AMOUNT, raw) is not None, raw


@pytest.mark.parametrize(
    "raw, value", [("12", "12"), ("12.5", "12.5"), ("12.50", "12.50"), ("0.0001", "0.0001"), ("999999999999.99", "999999999999.99")]
)
def test_plain_amounts_are_accepted(raw: str, value: str) -> None:
    assert parse_amount(raw) == Decimal(value)
    wide = lookup_pb2.FormField(name="amount", label="Amount", type="decimal", min_value="0.0001", max_value="999999999999.99")
    assert check_value(wide, raw) is None, "within the bounds the connector declares"


@pytest.mark.parametrize("raw", ["0", "0.0001", "1000000.01", "999999999999.99", "\u0665", "\uff15"])
def test_amounts_outside_the_default_bounds_or_in_other_digits_are_refused(raw: str) -> None:
    assert check_value(AMOUNT, raw) is not None, raw


def test_vendor_json_numbers_are_read_as_decimals_and_written_back_exactly() -> None:
    body, is_json = parse_body(b'{"price": 0.1, "other": 0.2, "qty": 3}')
    assert is_json and isinstance(body["price"], Decimal) and body["qty"] == 3
    assert decimal_string(body["price"] + body["other"]) == "0.30"
    assert dumps_body({"amount": Decimal("14.50"), "sum": Decimal("0.1") + Decimal("0.2")}) == '{"amount": 14.5, "sum": 0.3}'
    with pytest.raises(ValueError):
        dumps_body({"amount": Decimal("0.12345678901234567890")})  # no JSON number carries it exactly through this encoder


def test_to_decimal_refuses_floats_and_non_finite_amounts() -> None:
    with pytest.raises(TypeError):
        to_decimal(0.1)
    for bad in ("Infinity", "NaN"):
        with pytest.raises(ValueError):
            to_decimal(bad)
    assert to_decimal(None) == 0 and to_decimal("361.9500") == Decimal("361.95")


def test_magento_refund_estimate_adds_up_exactly() -> None:
    lines = {"1": {"price_incl_tax": Decimal("0.1")}, "2": {"price": Decimal("0.2")}}
    assert decimal_string(refund_estimate(lines, [("1", 1), ("2", 1)])) == "0.30"


def test_money_in_the_contract_is_a_decimal_string() -> None:
    from linkmesh_core.money import money

    assert money(Decimal("19.9"), "usd") == lookup_pb2.Money(amount="19.90", currency="USD")
