"""The protocol's JSON, from and to the profile service's vocabulary.

A lookup's query is read from the protocol's body (``values``); a customer is answered as a
BASIC result (``summary``) or a DETAILED one (``detailed``: its orders, returns and other
records as transactions); an action is offered by its ``formUrl``, this adaptor's own route
beside the lookup URL (``…/apps/{app_id}/actions/{action}?customer={external id}[&order={order
id}]``), whose ``GET`` answers the form (``form``: ``{title, submitButton, closeButton,
actionUrl, sections}``, one ``input`` section per field) and whose ``POST`` carries the values
keyed by ``attr`` (``params_of``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from linkmesh.lookup.v1 import lookup_pb2

TYPE_HINTS = {"integer": "A whole number", "decimal": "An amount, e.g. 12.50", "lines": "line id:quantity, comma-separated"}


def values(query: dict[str, Any], *names: str) -> list[str]:
    """The query's values of these names, as strings or arrays of them (blanks left out)."""
    out: list[str] = []
    for name in names:
        value = query.get(name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
                out.append(str(v).strip())
    return out


def _drop_empty(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v not in ("", None, [], {})}


def summary(c: lookup_pb2.CustomerSummary | lookup_pb2.Customer) -> dict[str, Any]:
    return _drop_empty(
        {
            "externalCustomerId": c.external_id,
            "name": c.name,
            "emails": [{"original": e} for e in c.emails],
            "phones": [_drop_empty({"original": p.number, "type": p.type.upper()}) for p in c.phones],
        }
    )


def _time(message: Any, field: str) -> str:
    return getattr(message, field).ToJsonString() if message.HasField(field) else ""


def _product(line: lookup_pb2.OrderLine) -> dict[str, Any]:
    return _drop_empty(
        {
            "id": line.id,
            "name": line.name,
            "sku": line.sku,
            "quantity": line.quantity,
            "unitPrice": line.unit_price.amount if line.HasField("unit_price") else "",
            "productUrl": line.product_url,
        }
    )


def _fulfillment(s: lookup_pb2.Shipment) -> dict[str, Any]:
    return _drop_empty(
        {
            "trackingNumber": s.tracking_number,
            "trackingUrl": s.tracking_url,
            "carrier": s.carrier,
            # Where the parcel is (Gladly's "delivered"), else what the system called the shipment.
            "status": s.delivery or s.method,
            "shippedAt": _time(s, "shipped_at"),
        }
    )


def order_transaction(o: lookup_pb2.Order) -> dict[str, Any]:
    return _drop_empty(
        {
            "type": "ORDER",
            "orderNumber": o.number or o.id,
            "orderStatus": o.status,
            "createdAt": _time(o, "created_at"),
            "orderTotal": o.total.amount if o.HasField("total") else "",
            "currencyCode": o.total.currency if o.HasField("total") else "",
            "orderLink": o.admin_url,
            "itemCount": sum(line.quantity for line in o.lines) or None,
            "products": [_product(line) for line in o.lines],
            "fulfillments": [_fulfillment(s) for s in o.shipments],
        }
    )


def return_transaction(r: lookup_pb2.Return) -> dict[str, Any]:
    refund = f"{r.refund_total.amount} {r.refund_total.currency}".strip() if r.HasField("refund_total") else ""
    return _drop_empty(
        {
            "type": "GENERIC",
            "name": f"Return {r.code or r.id}",
            "status": r.status,
            "orderNumber": r.order_id,
            "createdAt": _time(r, "created_at"),
            "refundTotal": refund,
            "items": ", ".join(f"{i.quantity} × {i.name}" for i in r.items),
            "link": r.admin_url,
        }
    )


def other_transaction(t: lookup_pb2.Transaction) -> dict[str, Any]:
    return _drop_empty(
        {"type": t.type or "GENERIC", "name": t.title, "createdAt": _time(t, "created_at"), **{f.key: f.value for f in t.fields}}
    )


def action_url(base: str, action: str, customer: str, order: str = "") -> str:
    query = urlencode({"customer": customer, **({"order": order} if order else {})}, quote_via=quote)
    return f"{base}/actions/{quote(action, safe='')}?{query}"


def _offers(specs: list[lookup_pb2.ActionSpec], base: str, customer: str, order: str = "") -> list[dict[str, str]]:
    """The actions on an order (``order`` given) or on the customer, each by its form's URL."""
    return [
        {"name": s.label or s.name, "formUrl": action_url(base, s.name, customer, order)} for s in specs if s.order_required == bool(order)
    ]


def detailed(c: lookup_pb2.Customer, actions: list[lookup_pb2.ActionSpec], base: str) -> dict[str, Any]:
    """A DETAILED result; ``actions`` offered on the customer and on each order (``base``: the
    adaptor's path up to the app, which the action routes extend)."""
    a = c.address
    region = " ".join(x for x in (a.region, a.postal_code) if x)
    address = ", ".join(x for x in (a.line1, a.line2, a.city, region, a.country_code) if x)
    attributes = {ca.key: ca.value for ca in c.custom_attributes}
    if c.HasField("customer_since"):
        attributes.setdefault("customerSince", c.customer_since.ToJsonString())
    if c.admin_url:
        attributes.setdefault("adminUrl", c.admin_url)
    orders = []
    for o in c.orders:
        transaction = order_transaction(o)
        offered = _offers(actions, base, c.external_id, o.id)
        orders.append({**transaction, "actions": offered} if offered else transaction)
    return _drop_empty(
        {
            **summary(c),
            "address": address,
            "customAttributes": attributes,
            "transactions": [*orders, *(return_transaction(r) for r in c.returns), *(other_transaction(t) for t in c.transactions)],
            "actions": _offers(actions, base, c.external_id),
        }
    )


def section(f: lookup_pb2.FormField) -> dict[str, Any]:
    """One form field as the protocol's ``input`` section."""
    kind = {"boolean": "checkbox", "select": "select"}.get(f.type, "text")
    spec: dict[str, Any] = {"type": kind}
    if not f.required:
        spec["optional"] = True
    if f.placeholder:
        spec["placeholder"] = f.placeholder
    if kind == "select":
        labels = {c.value: c.label for c in f.choices}
        spec["options"] = [{"text": labels.get(o, o), "value": o} for o in f.options]
    out: dict[str, Any] = {"type": "input", "label": f.label or f.name, "attr": f.name, "input": spec}
    # A caller types lines as text: the format first, then what the connector says of the field.
    hint = "; ".join(h for h in (TYPE_HINTS["lines"], f.hint) if h) if f.type == "lines" else f.hint or TYPE_HINTS.get(f.type, "")
    if hint:
        out["hint"] = hint
    if f.default_value:
        out["defaultValue"] = f.default_value
    return out


def form(spec: lookup_pb2.ActionSpec, url: str) -> dict[str, Any]:
    return {
        "title": spec.label or spec.name,
        "submitButton": spec.label or "Submit",
        "closeButton": "Cancel",
        "actionUrl": url,
        "sections": [section(f) for f in spec.fields if f.type != "note"],
    }


def json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def params_of(body: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The posted values as the action's params (a checkbox's JSON boolean as "true"/"false",
    numbers as written), and an error per value that is not one."""
    params: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    for attr, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[attr] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            params[attr] = json.dumps(value)
        elif isinstance(value, str):
            if value.strip():
                params[attr] = value.strip()
        else:
            errors.append({"attr": attr, "detail": "must be a single value (text, number or true/false)"})
    return params, errors


def done(message: str, result: dict[str, str]) -> dict[str, str]:
    """A run action's answer: its message, and what the vendor answered as its detail."""
    detail = result.get("detail") or "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items() if v)
    return {"message": message, **({"detail": detail} if detail else {})}
