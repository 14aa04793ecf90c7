"""A customer as the HTTP API answers it: ``profile.v1.Customer``'s JSON with every field, each
phone also as people write it, and null for a time or an address it does not have.

The gateway writes it from GetCustomer's message; the profile writes the same from its stored
document for GetCustomerJson (``linkmesh_profile.db.documents.customer_view``), which the
gateway passes through: both go through ``customer_json`` for all but a link's data.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from linkmesh_core.contact_points import display_phone
from linkmesh_core.proto_dict import message_dict


def phones_formatted(phones: list[str]) -> list[str]:
    """Each stored number as people write it (``phones`` keeps E.164), in the same order."""
    return [display_phone(p) for p in phones]


def customer_json(message: Message) -> dict[str, Any]:
    out = message_dict(message, with_defaults=True)
    out["phones_formatted"] = phones_formatted(out.get("phones", []))
    for field in ("address", "last_contact_at"):
        out.setdefault(field, None)
    for link in out.get("links", []):
        link.setdefault("stale", None)
        link.setdefault("refreshed_at", None)
    return out
