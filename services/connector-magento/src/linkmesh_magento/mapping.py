"""Magento shapes → the Lookup contract's shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.contact_points import phone_key
from linkmesh_core.money import money, to_decimal
from linkmesh_core.timestamps import from_utc_sql
from linkmesh_core.tracking import tracking_url

FULFILLED_STATES = {"complete", "closed"}


def timestamp(value: str | None) -> Timestamp | None:
    """Magento answers ``Y-m-d H:i:s`` in UTC."""
    return from_utc_sql(value)


def full_name(c: dict[str, Any]) -> str:
    return " ".join(p for p in (c.get("firstname"), c.get("lastname")) if p).strip()


def phones_of(c: dict[str, Any], region: str) -> list[lookup_pb2.Phone]:
    """Magento customers have no phone of their own; their addresses do."""
    out, seen = [], set()
    for a in c.get("addresses") or []:
        raw = a.get("telephone")
        if raw:
            number = phone_key(raw, a.get("country_id") or region) or raw
            if number not in seen:
                seen.add(number)
                out.append(lookup_pb2.Phone(number=number, type="address"))
    return out


def summary(c: dict[str, Any], region: str) -> lookup_pb2.CustomerSummary:
    return lookup_pb2.CustomerSummary(
        external_id=str(c["id"]), name=full_name(c), emails=[c["email"]] if c.get("email") else [], phones=phones_of(c, region)
    )


def default_address(c: dict[str, Any]) -> dict[str, Any] | None:
    addresses = c.get("addresses") or []
    wanted = str(c.get("default_billing") or c.get("default_shipping") or "")
    return next((a for a in addresses if str(a.get("id")) == wanted), addresses[0] if addresses else None)


def address(a: dict[str, Any]) -> lookup_pb2.Address:
    street = list(a.get("street") or [])
    region = a.get("region") or {}
    return lookup_pb2.Address(
        line1=street[0] if street else "",
        line2=", ".join(street[1:]),
        city=a.get("city", ""),
        region=region.get("region", "") if isinstance(region, dict) else str(region),
        postal_code=a.get("postcode", ""),
        country_code=a.get("country_id", ""),
        company=a.get("company", "") or "",
    )


def is_fulfilled(o: dict[str, Any]) -> bool:
    if o.get("state") in FULFILLED_STATES:
        return True
    lines = [i for i in o.get("items") or [] if not i.get("parent_item_id")]
    return bool(lines) and all(to_decimal(i.get("qty_shipped")) >= to_decimal(i.get("qty_ordered")) for i in lines)


def shipping_method(o: dict[str, Any]) -> str:
    if o.get("shipping_description"):
        return str(o["shipping_description"])
    for assignment in (o.get("extension_attributes") or {}).get("shipping_assignments") or []:
        method = (assignment.get("shipping") or {}).get("method")
        if method:
            return str(method)
    return ""


def order(
    o: dict[str, Any],
    shipments: list[dict[str, Any]],
    *,
    admin_base: str,
    storefront: str,
    url_keys: dict[str, str],
    partial: Sequence[str] = (),
) -> lookup_pb2.Order:
    currency = o.get("order_currency_code") or o.get("base_currency_code") or ""
    result = lookup_pb2.Order(
        id=str(o["entity_id"]),
        number=str(o.get("increment_id") or o["entity_id"]),
        admin_url=f"{admin_base}/sales/order/view/order_id/{o['entity_id']}" if admin_base else "",
        total=money(o.get("grand_total"), currency),
        discount=money(abs(to_decimal(o.get("discount_amount"))), currency),
        status=str(o.get("status") or o.get("state") or ""),
        fulfilled=is_fulfilled(o),
        partial=list(partial),
    )
    created = timestamp(o.get("created_at"))
    if created:
        result.created_at.CopyFrom(created)
    method = shipping_method(o)
    for s in sorted(shipments, key=lambda s: s.get("created_at") or ""):
        for t in s.get("tracks") or []:
            shipment = lookup_pb2.Shipment(
                id=str(s.get("entity_id", "")),
                method=method,
                carrier=t.get("title") or t.get("carrier_code") or "",
                tracking_number=t.get("track_number", ""),
                tracking_url=tracking_url(t.get("carrier_code") or t.get("title") or "", t.get("track_number", "")),
            )
            shipped = timestamp(s.get("created_at"))
            if shipped:
                shipment.shipped_at.CopyFrom(shipped)
            result.shipments.append(shipment)
    for i in o.get("items") or []:
        if i.get("parent_item_id"):
            continue  # the simple child of a configurable line: the parent carries name, price and quantity
        key = url_keys.get(i.get("sku", ""))
        result.lines.append(
            lookup_pb2.OrderLine(
                id=str(i.get("item_id", "")),
                name=i.get("name", ""),
                sku=i.get("sku", ""),
                unit_price=money(i.get("price_incl_tax") or i.get("price") or 0, currency),
                quantity=int(to_decimal(i.get("qty_ordered"))),
                product_url=f"{storefront.rstrip('/')}/{key}.html" if storefront and key else "",
            )
        )
    return result


def customer(c: dict[str, Any], orders: list[lookup_pb2.Order], *, admin_base: str, region: str) -> lookup_pb2.Customer:
    result = lookup_pb2.Customer(
        external_id=str(c["id"]),
        name=full_name(c),
        first_name=c.get("firstname", ""),
        last_name=c.get("lastname", ""),
        emails=[c["email"]] if c.get("email") else [],
        phones=phones_of(c, region),
        admin_url=f"{admin_base}/customer/index/edit/id/{c['id']}" if admin_base else "",
        orders=orders,
    )
    a = default_address(c)
    if a is not None:
        result.address.CopyFrom(address(a))
    since = timestamp(c.get("created_at"))
    if since:
        result.customer_since.CopyFrom(since)
    if result.admin_url:
        result.links.append(lookup_pb2.Link(label="Open in Magento admin", url=result.admin_url))
    return result
