"""A lookup adaptor's answers → the Lookup contract, read as adaptors really answer.

Amounts arrive as formatted strings ("$100.00", "1,234.50", "49.00 USD", "n/a") or numbers;
counts as strings or numbers; dates as ISO-8601, "10/05/2026", "2026-10-05", RFC 2822 or
epoch milliseconds. Whatever parses is mapped; whatever does not is left out of the typed
field (and kept as text where the contract has room for it): a display field never fails a
lookup. ORDER transactions become orders; every other type is kept as a Transaction with its
fields as text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.contact_points import InvalidContactPoint, normalize_phone
from linkmesh_core.money import decimal_string
from linkmesh_core.timestamps import from_datetime, from_iso, from_rfc2822
from linkmesh_core.tracking import tracking_url

SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "C$": "CAD", "A$": "AUD", "CA$": "CAD", "AU$": "AUD"}
NUMBER = re.compile(r"-?\d[\d,.\s']*")
CODE = re.compile(r"\b([A-Z]{3})\b")
FULFILLED = {"fulfilled", "delivered", "completed", "complete", "shipped"}
ORDER_KEYS = {
    "type",
    "orderNumber",
    "createdAt",
    "orderStatus",
    "orderTotal",
    "currencyCode",
    "itemCount",
    "orderLink",
    "customerOrderUrl",
    "note",
    "products",
    "fulfillments",
    "actions",
    "id",
}
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y")


# A fulfillment's status in the contract's delivery words (an adaptor writes its own: "delivered",
# "In Transit", "out-for-delivery"); another word stays the shipment's method, as said.
DELIVERY = {
    "in transit": "in_transit",
    "out for delivery": "out_for_delivery",
    "delivered": "delivered",
    "attempted delivery": "attempted_delivery",
    "delayed": "delayed",
    "failed": "failed",
    "failure": "failed",
    "ready for pickup": "ready_for_pickup",
    "picked up": "picked_up",
}


def text(value: Any) -> str:
    """Any JSON value as display text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "), default=str, ensure_ascii=False)
    return str(value).strip()


def amount(value: Any, currency_code: Any = None) -> lookup_pb2.Money | None:
    """``"$100.00"`` + ``currencyCode`` → Money; None when it does not parse."""
    if isinstance(value, (dict, list, bool)):
        return None
    raw = text(value)
    if not raw:
        return None
    match = NUMBER.search(raw)
    if match is None:
        return None
    digits = re.sub(r"[\s']", "", match.group(0)).rstrip(".,")
    if "," in digits and "." in digits:  # the last separator is the decimal point
        digits = digits.replace(",", "") if digits.rfind(".") > digits.rfind(",") else digits.replace(".", "").replace(",", ".")
    elif "," in digits:
        whole, _, fraction = digits.rpartition(",")
        digits = f"{whole.replace(',', '')}.{fraction}" if len(fraction) in (1, 2) else digits.replace(",", "")
    try:
        number = Decimal(digits)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    currency = text(currency_code).upper()
    if not currency:
        code = CODE.search(raw)
        prefix, suffix = raw[: match.start()].strip(), raw[match.end() :].strip()
        symbol = SYMBOLS.get(prefix) or (SYMBOLS.get(prefix[-1:]) if prefix else None) or (SYMBOLS.get(suffix[:1]) if suffix else None)
        currency = code.group(1) if code else symbol or ""
    return lookup_pb2.Money(amount=decimal_string(number), currency=currency)


def timestamp(value: Any) -> Timestamp | None:
    """A date in any common shape; None when none fits."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, (int, float, Decimal)) or (isinstance(value, str) and value.strip().isdigit() and len(value.strip()) >= 10):
        number = float(value)
        try:
            return from_datetime(datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC))
        except (OverflowError, OSError, ValueError):
            return None
    raw = text(value)
    parsed = from_iso(raw)
    if parsed is not None:
        if "T" not in raw and len(raw) == 10:  # a bare date is that day, UTC
            return from_datetime(datetime.fromisoformat(raw).replace(tzinfo=UTC))
        return parsed
    for fmt in DATE_FORMATS:
        try:
            return from_datetime(datetime.strptime(raw, fmt).replace(tzinfo=UTC))
        except ValueError:
            continue
    return from_rfc2822(raw)


def count(value: Any) -> int:
    try:
        return max(int(Decimal(text(value))), 0)
    except (InvalidOperation, ValueError):
        return 0


def values(value: Any) -> list[Any]:
    """A field that may be one value or a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def email_of(entry: Any) -> str:
    return text(entry.get("original") if isinstance(entry, dict) else entry)


def phone_of(entry: Any, region: str) -> lookup_pb2.Phone | None:
    raw = text(entry.get("original") if isinstance(entry, dict) else entry)
    if not raw:
        return None
    try:
        number = normalize_phone(raw, region)
    except InvalidContactPoint:
        number = raw
    kind = text(entry.get("type")).lower() if isinstance(entry, dict) else ""
    return lookup_pb2.Phone(number=number, type=kind)


def actions(entries: Any) -> list[lookup_pb2.RecordAction]:
    out = []
    for entry in values(entries):
        if isinstance(entry, dict) and text(entry.get("formUrl")):
            out.append(lookup_pb2.RecordAction(name=text(entry.get("name")) or "Action", form_url=text(entry["formUrl"])))
    return out


def summary(result: dict[str, Any], region: str) -> lookup_pb2.CustomerSummary | None:
    """A BASIC result; None without an ``externalCustomerId`` (nothing could be linked)."""
    external_id = text(result.get("externalCustomerId"))
    if not external_id:
        return None
    return lookup_pb2.CustomerSummary(
        external_id=external_id,
        name=text(result.get("name")),
        emails=[e for e in (email_of(x) for x in values(result.get("emails"))) if e],
        phones=[p for p in (phone_of(x, region) for x in values(result.get("phones"))) if p is not None],
    )


def address(value: Any) -> lookup_pb2.Address | None:
    if isinstance(value, dict):
        line1 = text(value.get("line1") or value.get("street") or value.get("address1") or value.get("street1"))
        return lookup_pb2.Address(
            line1=line1,
            line2=text(value.get("line2") or value.get("address2") or value.get("street2")),
            city=text(value.get("city")),
            region=text(value.get("region") or value.get("state") or value.get("province")),
            postal_code=text(value.get("postalCode") or value.get("zip") or value.get("postal_code")),
            country_code=text(value.get("countryCode") or value.get("country")).upper()[:2]
            if len(text(value.get("countryCode") or value.get("country"))) == 2
            else "",
            company=text(value.get("company")),
        )
    line = text(value)
    return lookup_pb2.Address(line1=line) if line else None


def label(key: str) -> str:
    """``memberSince`` → "Member since"."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else key


def custom_attributes(value: Any) -> list[lookup_pb2.CustomAttribute]:
    if not isinstance(value, dict):
        return []
    return [lookup_pb2.CustomAttribute(key=str(k), label=label(str(k)), value=text(v)) for k, v in value.items() if text(v)]


def order(t: dict[str, Any]) -> lookup_pb2.Order:
    currency = text(t.get("currencyCode")).upper()
    number = text(t.get("orderNumber") or t.get("id"))
    out = lookup_pb2.Order(
        id=number, number=number, admin_url=text(t.get("orderLink")), status=text(t.get("orderStatus")), actions=actions(t.get("actions"))
    )
    total = amount(t.get("orderTotal"), currency)
    if total is not None:
        out.total.CopyFrom(total)
    created = timestamp(t.get("createdAt"))
    if created is not None:
        out.created_at.CopyFrom(created)
    products = [p for p in values(t.get("products")) if isinstance(p, dict)]
    for p in products:
        line = lookup_pb2.OrderLine(
            id=text(p.get("id")),
            name=text(p.get("name")),
            sku=text(p.get("sku")),
            quantity=count(p.get("quantity")) or 1,
            product_url=text(p.get("productUrl") or p.get("url")),
        )
        price = amount(p.get("unitPrice") or p.get("price"), currency or (total.currency if total is not None else ""))
        if price is not None:
            line.unit_price.CopyFrom(price)
        out.lines.append(line)
    for i, f in enumerate(x for x in values(t.get("fulfillments")) if isinstance(x, dict)):
        carrier, number_ = text(f.get("carrier")), text(f.get("trackingNumber"))
        said = text(f.get("status"))
        delivery = DELIVERY.get(said.lower().replace("-", " ").replace("_", " "), "")
        shipment = lookup_pb2.Shipment(
            id=text(f.get("id")) or str(i + 1),
            method=text(f.get("service")) or ("" if delivery else said),
            delivery=delivery,
            carrier=carrier,
            tracking_number=number_,
            tracking_url=text(f.get("trackingUrl")) or tracking_url(carrier, number_),
        )
        shipped = timestamp(f.get("shippedAt") or f.get("shippedDate"))
        if shipped is not None:
            shipment.shipped_at.CopyFrom(shipped)
        out.shipments.append(shipment)
    status = out.status.lower()
    out.fulfilled = status in FULFILLED or (bool(products) and all(text(p.get("status")).lower() in FULFILLED for p in products))
    return out


def transaction(t: dict[str, Any]) -> lookup_pb2.Transaction:
    kind = text(t.get("type")).upper() or "GENERIC"
    title = text(t.get("name") or t.get("title") or t.get("description")) or kind.title()
    out = lookup_pb2.Transaction(type=kind, title=title, actions=actions(t.get("actions")))
    for key, value in t.items():
        if key in ("type", "actions", "name", "title") or not text(value):
            continue
        out.fields.append(lookup_pb2.CustomAttribute(key=key, label=label(key), value=text(value)))
    created = timestamp(t.get("createdAt") or t.get("startDate") or t.get("startsAt"))
    if created is not None:
        out.created_at.CopyFrom(created)
    return out


def customer(result: dict[str, Any], region: str, max_orders: int = 10) -> lookup_pb2.Customer:
    """A DETAILED result."""
    found = summary(result, region)
    out = lookup_pb2.Customer(
        external_id=found.external_id if found else "",
        name=text(result.get("name")),
        emails=list(found.emails) if found else [],
        phones=list(found.phones) if found else [],
        custom_attributes=custom_attributes(result.get("customAttributes")),
        actions=actions(result.get("actions")),
    )
    first, _, last = out.name.partition(" ")
    out.first_name, out.last_name = first, last
    where = address(result.get("address"))
    if where is not None:
        out.address.CopyFrom(where)
    orders = []
    for t in values(result.get("transactions")):
        if not isinstance(t, dict):
            continue
        if text(t.get("type")).upper() == "ORDER":
            orders.append(order(t))
        else:
            out.transactions.append(transaction(t))
    # Most recent first; an order whose date did not parse goes last, in the adaptor's order.
    orders.sort(
        key=lambda o: o.created_at.ToDatetime(tzinfo=UTC) if o.HasField("created_at") else datetime.min.replace(tzinfo=UTC), reverse=True
    )
    out.orders.extend(orders[:max_orders])
    if len(orders) > max_orders:
        out.partial.append("orders")
    return out


FIELD_TYPES = {"text": "string", "textarea": "string", "select": "select", "checkbox": "boolean", "number": "decimal"}


def form(answer: dict[str, Any]) -> lookup_pb2.ActionForm:
    """An adaptor's form → ActionForm. A section that is not an input is shown as a note."""
    out = lookup_pb2.ActionForm(
        title=text(answer.get("title")) or "Action",
        submit_label=text(answer.get("submitButton")) or "Submit",
        close_label=text(answer.get("closeButton")) or "Cancel",
        action_url=text(answer.get("actionUrl")),
    )
    for section in values(answer.get("sections")):
        if not isinstance(section, dict):
            continue
        given = section.get("input")
        spec: dict[str, Any] = given if isinstance(given, dict) else {}
        attr = text(section.get("attr"))
        if text(section.get("type")).lower() != "input" or not attr:
            if text(section.get("label")) or text(section.get("hint")) or text(section.get("text")):
                out.fields.append(
                    lookup_pb2.FormField(
                        name=attr, type="note", label=text(section.get("label") or section.get("text")), hint=text(section.get("hint"))
                    )
                )
            continue
        kind = FIELD_TYPES.get(text(spec.get("type")).lower(), "string")
        field = lookup_pb2.FormField(
            name=attr,
            label=text(section.get("label")) or attr,
            type=kind,
            hint=text(section.get("hint")),
            required=not bool(spec.get("optional")) and kind != "boolean",
            default_value=text(section.get("defaultValue")),
            placeholder=text(spec.get("placeholder")),
        )
        for option in values(spec.get("options")):
            value = text(option.get("value") if isinstance(option, dict) else option)
            shown = text(option.get("text") if isinstance(option, dict) else option) or value
            field.options.append(value)
            field.choices.append(lookup_pb2.FormChoice(label=shown, value=value))
        out.fields.append(field)
    return out


def form_values(spec: lookup_pb2.ActionForm, params: dict[str, str]) -> dict[str, Any]:
    """The values the adaptor is sent, keyed by ``attr``: a checkbox as a JSON boolean, a
    field left empty with its default."""
    out: dict[str, Any] = {}
    for f in spec.fields:
        if f.type == "note" or not f.name:
            continue
        value = params.get(f.name, "").strip() or f.default_value
        if f.type == "boolean":
            out[f.name] = value.lower() == "true"
        elif value:
            out[f.name] = value
    return out
