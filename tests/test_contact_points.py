from __future__ import annotations

import pytest

from linkmesh_core.contact_points import InvalidContactPoint, email_key, normalize_email, normalize_phone, phone_key


def test_emails_compare_trimmed_and_case_insensitively() -> None:
    assert normalize_email("  Jane.Smith@Example.COM ") == "jane.smith@example.com"
    assert email_key(" A@B.c ") == "a@b.c"


@pytest.mark.parametrize("raw", ["", "jane", "jane@", "@example.com", "a b@example.com"])
def test_invalid_emails_are_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidContactPoint):
        normalize_email(raw)


@pytest.mark.parametrize("raw", ["415-555-0102", "(415) 555-0102", "+1 415 555 0102", "4155550102", "+14155550102"])
def test_phones_are_stored_in_e164(raw: str) -> None:
    assert normalize_phone(raw, "US") == "+14155550102"


def test_default_region_reads_national_numbers() -> None:
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert phone_key("020 7946 0958", "US") is None


@pytest.mark.parametrize("raw", ["", "12", "not a phone", "+1 000 000 0000"])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidContactPoint):
        normalize_phone(raw, "US")
