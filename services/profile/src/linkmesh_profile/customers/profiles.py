"""Customer profiles: validation of the editable fields, and their storage rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2
from pymongo.errors import DuplicateKeyError

from linkmesh_core.contact_points import InvalidContactPoint, normalize_email, normalize_phone
from linkmesh_core.errors import already_exists, invalid_argument, not_found
from linkmesh_profile.db.documents import message_to_doc
from linkmesh_profile.db.store import Store, now

if TYPE_CHECKING:
    from linkmesh_profile.model.customer import Customer, Listing

EDITABLE = ("name", "emails", "phones", "address", "custom_attributes")
MAX_NAME = 200
MAX_CONTACT_POINTS = 20
MAX_ATTRIBUTES = 100


def _contact_points(field: str, values: Iterable[str], normalize: Callable[[str], str], errors: dict[str, str]) -> list[str]:
    """Normalised, de-duplicated values; each bad one is named as ``field[i]``."""
    out: list[str] = []
    for i, raw in enumerate(values):
        try:
            value = normalize(raw)
        except InvalidContactPoint as exc:
            errors[f"{field}[{i}]"] = str(exc)
            continue
        if value not in out:
            out.append(value)
    if len(out) > MAX_CONTACT_POINTS:
        errors[field] = f"at most {MAX_CONTACT_POINTS} {field}"
    return out


def clean_fields(data: profile_pb2.CustomerInput, fields: tuple[str, ...] | list[str], region: str) -> dict[str, Any]:
    """Validates and normalises ``fields`` of ``data``; raises INVALID_ARGUMENT naming every bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field in fields:
        if field not in EDITABLE:
            errors[field] = f"is not an editable field (one of: {', '.join(EDITABLE)})"
    if "name" in fields:
        name = data.name.strip()
        if len(name) > MAX_NAME:
            errors["name"] = f"must be at most {MAX_NAME} characters"
        out["name"] = name
    if "emails" in fields:
        out["emails"] = _contact_points("emails", data.emails, normalize_email, errors)
    if "phones" in fields:
        out["phones"] = _contact_points("phones", data.phones, lambda raw: normalize_phone(raw, region), errors)
    if "address" in fields:
        address = message_to_doc(data.address) if data.HasField("address") else {}
        if address.get("country_code") and (len(address["country_code"]) != 2 or not address["country_code"].isalpha()):
            errors["address.country_code"] = "must be a two-letter ISO country code"
        elif address.get("country_code"):
            address["country_code"] = address["country_code"].upper()
        out["address"] = {k: v.strip() for k, v in address.items() if isinstance(v, str) and v.strip()}
    if "custom_attributes" in fields:
        attributes = {}
        for key, value in data.custom_attributes.items():
            if not key.strip() or len(key) > 100 or "." in key or key.startswith("$") or "\x00" in key:
                shown = key[:100].encode("unicode_escape").decode("ascii")
                errors[f"custom_attributes.{shown}"] = "keys must be 1-100 characters, without '.', NUL or a leading '$'"
            else:
                attributes[key.strip()] = value
        if len(attributes) > MAX_ATTRIBUTES:
            errors["custom_attributes"] = f"at most {MAX_ATTRIBUTES} attributes"
        out["custom_attributes"] = attributes
    if errors:
        raise invalid_argument("the customer is invalid", errors)
    return out


async def explain_duplicate(store: Store, emails: list[str], phones: list[str], exclude: ObjectId | None = None) -> Exception:
    """An ALREADY_EXISTS error naming each email or phone another customer owns."""
    owners = await store.owners_of(emails, phones, exclude)
    fields: dict[str, str] = {}
    for owner in owners:
        for i, email in enumerate(emails):
            if email in owner.emails:
                fields[f"emails[{i}]"] = f"{email} belongs to customer {owner.id}"
        for i, phone in enumerate(phones):
            if phone in owner.phones:
                fields[f"phones[{i}]"] = f"{phone} belongs to customer {owner.id}"
    return already_exists("an email or phone of this customer belongs to another customer", fields)


async def create_customer(store: Store, data: profile_pb2.CustomerInput, region: str) -> Customer:
    fields = clean_fields(data, EDITABLE, region)
    stamp = now()
    # The id is ours before the write: if the write is retried after it landed (a lost
    # answer), the duplicate is recognised as this request's own customer, not a conflict.
    oid = ObjectId()
    try:
        return await store.insert_customer(
            {**fields, "_id": oid, "links": {}, "link_keys": [], "unlinked_apps": [], "created_at": stamp, "updated_at": stamp}
        )
    except DuplicateKeyError:
        own = await store.get_customer(str(oid))
        if own is not None:
            return own
        raise await explain_duplicate(store, fields["emails"], fields["phones"], oid) from None


async def update_customer(store: Store, customer_id: str, data: profile_pb2.CustomerInput, paths: list[str], region: str) -> Customer:
    if not paths:
        raise invalid_argument("say which fields to update", {"update_mask": f"name at least one of: {', '.join(EDITABLE)}"})
    changes = clean_fields(data, paths, region)
    current = await store.get_customer(customer_id)
    if current is None:
        raise not_found(f"no customer {customer_id}")
    # What an agent sets is the agent's: no app owns it any more. An edited profile is no longer
    # provisional (linkmesh_profile.customers.folding): it is never folded into another.
    owned = [f"field_sources.{f}" for f in ("name", "address") if f in changes]
    sources: dict[str, Any] = {"attribute_sources": {}} if "custom_attributes" in changes else {}
    update = {"$set": {**changes, **sources, "updated_at": now()}, "$unset": {"provisional_until": "", **{f: "" for f in owned}}}
    try:
        updated = await store.update_customer(current.id, update)
    except DuplicateKeyError:
        raise await explain_duplicate(store, changes.get("emails", []), changes.get("phones", []), current.oid) from None
    if updated is None:
        raise not_found(f"no customer {customer_id}")
    return updated


async def require_customer(store: Store, customer_id: str) -> Customer:
    customer = await store.get_customer(customer_id)
    if customer is None:
        raise not_found(f"no customer {customer_id}")
    return customer


async def require_listing(store: Store, customer_id: str) -> Listing:
    """``require_customer`` without the data the customer's links pulled."""
    listing = await store.get_listing(customer_id)
    if listing is None:
        raise not_found(f"no customer {customer_id}")
    return listing
