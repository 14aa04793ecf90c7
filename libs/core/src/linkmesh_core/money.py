"""Money in the contract: a decimal string plus an ISO 4217 code, never a float.

Vendors' JSON is parsed with ``Decimal`` for every number with a fraction
(``VendorHTTP``), amounts are added up as ``Decimal`` and written back to
vendors as exact JSON numbers. An amount typed by a person is checked by
``parse_amount``: plain digits with an optional fraction, so ``Infinity``,
``NaN`` and ``1e400`` are refused rather than sent to a vendor.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from linkmesh.lookup.v1 import lookup_pb2

CENT = Decimal("0.01")
# At most 12 whole digits and 4 decimals: every real price, and nothing a vendor could misread.
# ASCII digits only: Python's \d, int() and Decimal() also take other scripts' digits ("１", "٥").
AMOUNT_RE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")


def to_decimal(value: object) -> Decimal:
    """A vendor's amount (a string or an exact number) as a finite Decimal; a float is refused."""
    if isinstance(value, float):
        raise TypeError(f"{value!r} is a float; parse vendor JSON with parse_float=Decimal")
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    return amount


def parse_amount(raw: str) -> Decimal:
    """An amount typed by a person: ``12``, ``12.5``, ``12.50``; raises ValueError otherwise."""
    text = raw.strip()
    if not AMOUNT_RE.fullmatch(text):
        raise ValueError("must be an amount such as 12.50 (digits, an optional point and up to 4 decimals)")
    return Decimal(text)


def json_number(value: Decimal) -> float:
    """A Decimal for a JSON encoder, refused unless the JSON number it writes is exactly the same amount."""
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} cannot be written as an exact JSON number")
    return number


def decimal_string(value: object) -> str:
    """``"361.9500"`` → ``"361.95"``; keeps more places only where they carry value."""
    amount = to_decimal(value)
    quantized = amount.quantize(CENT)
    return str(quantized if quantized == amount else amount.normalize())


def money(value: object, currency: str) -> lookup_pb2.Money:
    return lookup_pb2.Money(amount=decimal_string(value), currency=(currency or "").upper())
