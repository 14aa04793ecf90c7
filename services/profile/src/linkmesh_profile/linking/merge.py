"""How an app's DETAILED data lands on the customer profile.

- The app's data (orders, returns, its custom attributes) lives with its link
  and is replaced whole by each refresh.
- With "overwrite existing values" on, the app's name, address and custom
  attributes overwrite the profile's editable ones; off, they fill only blanks.
- Emails and phones are only ever added, never removed or overwritten, and one
  that belongs to another customer is not added.
- Every value pulled onto the profile remembers its app (``field_sources``,
  ``attribute_sources``), so unlinking removes exactly what came from the app
  and keeps what an agent set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.contact_points import InvalidContactPoint, normalize_email, phone_key
from linkmesh_profile.db.documents import message_to_doc

if TYPE_CHECKING:
    from linkmesh_profile.model.customer import Customer


def attribute_key(raw: str) -> str:
    """A vendor attribute key usable as a MongoDB field name."""
    key = raw.strip().replace(".", "_")
    return "_" + key[1:] if key.startswith("$") else key


def profile_update(customer: Customer, app_id: str, overwrite: bool, data: lookup_pb2.Customer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``$set`` and ``$unset`` that apply ``data`` to the editable fields of ``customer``."""
    set_: dict[str, Any] = {}
    unset: dict[str, Any] = {}
    name = data.name.strip()
    if name and (overwrite or not customer.name) and customer.name != name:
        set_["name"] = name
        set_["field_sources.name"] = app_id
    address = (
        {k: v for k, v in message_to_doc(data.address).items() if isinstance(v, str) and v.strip()} if data.HasField("address") else {}
    )
    if address and (overwrite or not customer.address) and dict(customer.address) != address:
        set_["address"] = address
        set_["field_sources.address"] = app_id
    current = customer.custom_attributes
    sources = customer.attribute_sources
    answered = {attribute_key(a.key): a.value for a in data.custom_attributes if a.key.strip() and a.value != ""}
    for key, value in answered.items():
        owner = sources.get(key)
        if key not in current or overwrite or owner == app_id:
            if current.get(key) != value or owner != app_id:
                set_[f"custom_attributes.{key}"] = value
                set_[f"attribute_sources.{key}"] = app_id
    for key, owner in sources.items():
        if owner == app_id and key not in answered:
            unset[f"custom_attributes.{key}"] = ""
            unset[f"attribute_sources.{key}"] = ""
    return set_, unset


def contact_points(data: lookup_pb2.Customer, region: str) -> tuple[list[str], list[str]]:
    """The app's emails (normalised) and phones (E.164) that are usable."""
    emails = []
    for raw in data.emails:
        try:
            emails.append(normalize_email(raw))
        except InvalidContactPoint:
            continue
    phones = [p for p in (phone_key(ph.number, region) for ph in data.phones) if p]
    return list(dict.fromkeys(emails)), list(dict.fromkeys(phones))


def unlink_cleanup(customer: Customer, app_ids: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Removes the values that came from ``app_ids``; values an agent set stay."""
    set_: dict[str, Any] = {}
    unset: dict[str, Any] = {}
    for field, owner in customer.field_sources.items():
        if owner in app_ids:
            if field == "name":
                set_["name"] = ""
            else:
                unset[field] = ""
            unset[f"field_sources.{field}"] = ""
    for key, owner in customer.attribute_sources.items():
        if owner in app_ids:
            unset[f"custom_attributes.{key}"] = ""
            unset[f"attribute_sources.{key}"] = ""
    return set_, unset
