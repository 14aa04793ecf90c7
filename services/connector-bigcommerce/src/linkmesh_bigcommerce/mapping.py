"""BigCommerce shapes → the Lookup contract's shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import phonenumbers
from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.contact_points import phone_key
from linkmesh_core.money import money, to_decimal
from linkmesh_core.timestamps import from_iso, from_rfc2822
from linkmesh_core.tracking import tracking_url

SHIPPED_STATUS_IDS = {2, 10}  # Shipped, Completed


def timestamp(value: str | None) -> Timestamp | None:
    """V2 dates are RFC 2822 (``Wed, 10 Jan 2018 21:05:30 +0000``), V3 dates ISO 8601."""
    return from_rfc2822(value) or from_iso(value)


def full_name(c: dict[str, Any]) -> str:
    return " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p).strip()


def phones_of(c: dict[str, Any], region: str) -> list[lookup_pb2.Phone]:
    """The customer's phone, then address phones; E.164 where parseable, de-duplicated."""
    out: list[lookup_pb2.Phone] = []
    seen: set[str] = set()
    for raw, kind in [(c.get("phone"), "phone"), *[(a.get("phone"), "address") for a in c.get("addresses") or []]]:
        if not raw:
            continue
        number = phone_key(raw, region) or raw
        if number not in seen:
            seen.add(number)
            out.append(lookup_pb2.Phone(number=number, type=kind))
    return out


def summary(c: dict[str, Any], region: str) -> lookup_pb2.CustomerSummary:
    return lookup_pb2.CustomerSummary(
        external_id=str(c["id"]), name=full_name(c), emails=[c["email"]] if c.get("email") else [], phones=phones_of(c, region)
    )


def address(c: dict[str, Any]) -> lookup_pb2.Address | None:
    addresses = c.get("addresses") or []
    if not addresses:
        return None
    a = addresses[0]
    return lookup_pb2.Address(
        line1=a.get("address1", ""),
        line2=a.get("address2", ""),
        city=a.get("city", ""),
        region=a.get("state_or_province", ""),
        postal_code=a.get("postal_code", ""),
        country_code=a.get("country_code", ""),
        company=a.get("company", ""),
    )


def phone_variants(e164: str) -> list[str]:
    """Spellings a merchant may have typed for one number.

    BigCommerce's ``phone:in`` compares the stored string exactly, and stores
    phones as typed, so an E.164 search alone misses ``415-555-0102``.
    """
    try:
        n = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return [e164]
    national = str(n.national_number)
    intl = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    nat = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
    variants = [e164, intl, nat, national, f"{n.country_code}{national}"]
    if n.country_code == 1 and len(national) == 10:
        a, b, c = national[:3], national[3:6], national[6:]
        variants += [f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"{a} {b} {c}", f"1-{a}-{b}-{c}", f"+1 {a} {b} {c}", f"+1-{a}-{b}-{c}"]
    return list(dict.fromkeys(v for v in variants if "," not in v))


def order(
    o: dict[str, Any],
    products: list[dict[str, Any]],
    shipments: list[dict[str, Any]],
    *,
    control_panel: str,
    storefront: str,
    product_paths: dict[int, str],
    partial: Sequence[str] = (),
) -> lookup_pb2.Order:
    currency = o.get("currency_code") or o.get("default_currency_code") or ""
    discount = to_decimal(o.get("discount_amount")) + to_decimal(o.get("coupon_discount"))
    items_total = int(to_decimal(o.get("items_total")))
    items_shipped = int(to_decimal(o.get("items_shipped")))
    fulfilled = o.get("status_id") in SHIPPED_STATUS_IDS or (items_total > 0 and items_shipped >= items_total)
    result = lookup_pb2.Order(
        id=str(o["id"]),
        number=str(o["id"]),
        admin_url=f"{control_panel}/manage/orders/{o['id']}" if control_panel else "",
        total=money(o.get("total_inc_tax"), currency),
        discount=money(discount, currency),
        status=o.get("status", ""),
        fulfilled=fulfilled,
        partial=list(partial),
    )
    created = timestamp(o.get("date_created"))
    if created:
        result.created_at.CopyFrom(created)
    for s in shipments:
        shipment = lookup_pb2.Shipment(
            id=str(s.get("id", "")),
            method=s.get("shipping_method", ""),
            carrier=s.get("shipping_provider_display_name") or s.get("tracking_carrier") or str(s.get("shipping_provider") or ""),
            tracking_number=s.get("tracking_number", ""),
            tracking_url=s.get("tracking_link")
            or s.get("generated_tracking_link")
            or tracking_url(str(s.get("tracking_carrier") or s.get("shipping_provider") or ""), s.get("tracking_number", "")),
        )
        shipped = timestamp(s.get("date_created"))
        if shipped:
            shipment.shipped_at.CopyFrom(shipped)
        result.shipments.append(shipment)
    for p in products:
        path = product_paths.get(int(p.get("product_id") or 0), "")
        result.lines.append(
            lookup_pb2.OrderLine(
                id=str(p.get("id", "")),
                name=p.get("name", ""),
                sku=p.get("sku", ""),
                unit_price=money(p.get("price_inc_tax") or p.get("base_price"), currency),
                quantity=int(p.get("quantity") or 0),
                product_url=f"{storefront.rstrip('/')}{path}" if storefront and path else "",
            )
        )
    return result


def customer(c: dict[str, Any], orders: list[lookup_pb2.Order], *, control_panel: str, region: str, group: str = "") -> lookup_pb2.Customer:
    """``group``: the name of the customer's group (``GET /v2/customer_groups/{id}``), where known."""
    result = lookup_pb2.Customer(
        external_id=str(c["id"]),
        name=full_name(c),
        first_name=c.get("first_name", ""),
        last_name=c.get("last_name", ""),
        emails=[c["email"]] if c.get("email") else [],
        phones=phones_of(c, region),
        admin_url=f"{control_panel}/manage/customers/{c['id']}/edit" if control_panel else "",
        orders=orders,
    )
    a = address(c)
    if a is not None:
        result.address.CopyFrom(a)
    since = timestamp(c.get("date_created"))
    if since:
        result.customer_since.CopyFrom(since)
    if c.get("company"):
        result.custom_attributes.append(lookup_pb2.CustomAttribute(key="company", label="Company", value=c["company"]))
    if c.get("customer_group_id"):
        # The group's name; its number where the store did not say it (no groups on its plan).
        shown = group or f"Group #{c['customer_group_id']}"
        result.custom_attributes.append(lookup_pb2.CustomAttribute(key="customer_group", label="Customer group", value=shown))
    if result.admin_url:
        result.links.append(lookup_pb2.Link(label="Open in BigCommerce", url=result.admin_url))
    return result


CONSIGNMENT_KINDS = ("shipping", "pickups", "downloads")


def lines_of(order: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The order's lines (``/orders/{id}/products`` records) as its consignments carry them
    (``include=consignments.line_items``), or None when they cannot be trusted to be all of
    them: the store left them out or as links, or their quantities do not add up to the
    order's ``items_total`` (a line in a consignment kind not read here, say). None costs a
    ``/products`` call, never a wrong order."""
    found = order.get("consignments")
    if not isinstance(found, dict):
        return None
    groups = [c for kind in CONSIGNMENT_KINDS for c in found.get(kind) or () if isinstance(c, dict)]
    groups += [c for c in (found.get("email") or {}).get("gift_certificates") or () if isinstance(c, dict)]
    lines: dict[Any, dict[str, Any]] = {}
    for consignment in groups:
        items = consignment.get("line_items")
        for line in items if isinstance(items, list) else [items]:
            if not isinstance(line, dict) or "id" not in line or "quantity" not in line:
                return None  # a link, not the line
            lines.setdefault(line["id"], line)
    try:
        if sum(to_decimal(line["quantity"]) for line in lines.values()) != to_decimal(order.get("items_total")):
            return None
    except (TypeError, ValueError):
        return None
    return sorted(lines.values(), key=lambda line: int(line["id"]) if str(line["id"]).isdigit() else 0)
