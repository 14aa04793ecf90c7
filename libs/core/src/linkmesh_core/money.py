"""Money in the contract: a decimal string plus an ISO 4217 code, never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from linkmesh.lookup.v1 import lookup_pb2

CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None


def decimal_string(value: object) -> str:
    """``"361.9500"`` → ``"361.95"``; keeps more places only where they carry value."""
    amount = to_decimal(value)
    quantized = amount.quantize(CENT)
    return str(quantized if quantized == amount else amount.normalize())


def money(value: object, currency: str) -> lookup_pb2.Money:
    return lookup_pb2.Money(amount=decimal_string(value), currency=(currency or "").upper())
