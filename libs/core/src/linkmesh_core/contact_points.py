"""Email and phone normalisation: the one place that decides equality.

Emails are validated with email-validator and compared trimmed and
case-insensitively; phones are validated and compared in E.164 with
phonenumbers, parsed in a default region when they carry no country code.
Both are pure and costly (a contact, a search and every vendor answer normalise the
same few values again), so valid results are remembered (bounded, least recently used).
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidContactPoint(ValueError):
    pass


@lru_cache(maxsize=16384)
def normalize_email(raw: str) -> str:
    """The canonical, comparable form of an email address (lower-cased)."""
    value = (raw or "").strip()
    if not value:
        raise InvalidContactPoint("email is empty")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContactPoint(f"{value!r} is not a valid email address: {exc}") from None
    return result.normalized.lower()


def email_key(raw: str) -> str:
    """Comparison key for an email that may not be valid (vendor data): trimmed, lower-cased."""
    return (raw or "").strip().lower()


@lru_cache(maxsize=16384)
def normalize_phone(raw: str, default_region: str = "US") -> str:
    """The E.164 form of a phone number."""
    value = (raw or "").strip()
    if not value:
        raise InvalidContactPoint("phone is empty")
    try:
        number = phonenumbers.parse(value, default_region.upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidContactPoint(f"{value!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContactPoint(f"{value!r} is not a valid phone number") from None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=16384)
def display_phone(e164: str) -> str:
    """A stored (E.164) number as people write it across borders: "+1 415-555-0101"; a value
    that does not parse is shown as it is."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def phone_key(raw: str, default_region: str = "US") -> str | None:
    """E.164 for comparison, or None when the value is not a usable phone number."""
    try:
        return normalize_phone(raw, default_region)
    except InvalidContactPoint:
        return None
