"""Query-side normalisation of an email / phone pair, with per-field errors."""

from __future__ import annotations

from linkmesh_core.contact_points import InvalidContactPoint, normalize_email, normalize_phone
from linkmesh_core.errors import invalid_argument


def normalized_query(email: str, phone: str, region: str) -> tuple[str | None, str | None]:
    errors: dict[str, str] = {}
    out_email = out_phone = None
    if email.strip():
        try:
            out_email = normalize_email(email)
        except InvalidContactPoint as exc:
            errors["email"] = str(exc)
    if phone.strip():
        try:
            out_phone = normalize_phone(phone, region)
        except InvalidContactPoint as exc:
            errors["phone"] = str(exc)
    if errors:
        raise invalid_argument("the query is invalid", errors)
    return out_email, out_phone
