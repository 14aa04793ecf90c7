"""ReturnLogic → the Lookup contract: the one place that knows ReturnLogic's fields.

ReturnLogic publishes no machine-readable schema. What follows is the best public
knowledge (the vendor's "ReturnLogic API (V1)" page and public client code, as
summarised in ``../shared/vendor-specs/README.md``); correct it here, and only here.

Envelope
  List endpoints (``GET /v1/rmas``, ``GET /v1/orders``) are read as
  ``{"data": [...], "skip", "limit", "total"}``; a bare array, or ``rmas`` /
  ``orders`` / ``items`` / ``results`` instead of ``data``, is accepted too.

Identity
  ReturnLogic has no customer object: a customer is their email. The external
  customer id is the email, trimmed and lower-cased; ``customerName`` of their
  latest RMA or order gives the name.

RMA → Return
  ``rlRmaId``                      → ``code`` (the RMA number agents quote), and ``id`` when ``id`` is absent
  ``id``                           → ``id``
  ``workflowStatus``               → ``status`` (as given, e.g. APPROVED, RECEIVED, REFUNDED)
  ``orderName`` / ``orderNumber``  → ``order_id`` (the shop's order number, "#" removed)
  ``timeline.createDate``          → ``created_at`` (ISO 8601)
  ``totals.refundTotal``           → ``refund_total`` (decimal string, ``totals.currency``)
  ``totals.exchangeTotal``         → ``exchange_total``
  ``shippingLabel.trackingNumber`` → ``return_shipment.tracking_number``
  ``shippingLabel.carrier``        → ``return_shipment.carrier``
  ``shippingLabel.trackingUrl``    → ``return_shipment.tracking_url`` (else the carrier's public page)
  ``rmaItems[].name``              → ``items[].name``
  ``rmaItems[].sku``               → ``items[].sku``
  ``rmaItems[].quantity``          → ``items[].quantity``
  ``rmaItems[].returnReasonDescription`` → ``items[].reason``
  RMA page                         → ``admin_url``: ``{app_base_url}/originate/rmas/{rlRmaId}``

Customer custom attribute
  ``rma_link``: the customer's RMAs in ReturnLogic's Originate module,
  ``{app_base_url}/originate/rmas?search={email}``, so an agent opens it in one click.

Start a return (action)
  The public API reads RMAs but cannot create one: the action answers
  ``{app_base_url}/originate/rmas/new?orderNumber={number}&email={email}``.

Search result extra attribute
  ``rma_codes``: the customer's RMA codes, newest first, comma-separated.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.contact_points import email_key
from linkmesh_core.money import money
from linkmesh_core.timestamps import from_iso
from linkmesh_core.tracking import tracking_url

LIST_KEYS = ("data", "rmas", "orders", "items", "results")


def items_of(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return [x for x in body if isinstance(x, dict)]
    if isinstance(body, dict):
        for key in LIST_KEYS:
            if isinstance(body.get(key), list):
                return [x for x in body[key] if isinstance(x, dict)]
    return []


def customer_name(rmas: list[dict[str, Any]], orders: list[dict[str, Any]]) -> str:
    for record in [*rmas, *orders]:
        if record.get("customerName"):
            return str(record["customerName"]).strip()
    return ""


def rma_codes(rmas: list[dict[str, Any]]) -> str:
    return ", ".join(str(r.get("rlRmaId") or r.get("id")) for r in rmas if r.get("rlRmaId") or r.get("id"))


def rma_link(app_base_url: str, email: str) -> str:
    return f"{app_base_url.rstrip('/')}/originate/rmas?search={quote(email)}"


def summary(email: str, rmas: list[dict[str, Any]], orders: list[dict[str, Any]]) -> lookup_pb2.CustomerSummary:
    return lookup_pb2.CustomerSummary(external_id=email_key(email), name=customer_name(rmas, orders), emails=[email_key(email)],
                                      extra={"rma_codes": rma_codes(rmas)})


def return_of(r: dict[str, Any], app_base_url: str) -> lookup_pb2.Return:
    totals = r.get("totals") or {}
    currency = str(totals.get("currency") or "USD")
    code = str(r.get("rlRmaId") or r.get("id") or "")
    result = lookup_pb2.Return(
        id=str(r.get("id") or code), code=code, status=str(r.get("workflowStatus") or ""),
        order_id=str(r.get("orderName") or r.get("orderNumber") or "").lstrip("#"),
        refund_total=money(totals.get("refundTotal") or 0, currency), exchange_total=money(totals.get("exchangeTotal") or 0, currency),
        admin_url=f"{app_base_url.rstrip('/')}/originate/rmas/{quote(code)}" if code else "",
    )
    created = from_iso((r.get("timeline") or {}).get("createDate"))
    if created:
        result.created_at.CopyFrom(created)
    for item in r.get("rmaItems") or []:
        result.items.append(lookup_pb2.ReturnItem(name=str(item.get("name") or ""), sku=str(item.get("sku") or ""),
                                                  quantity=int(item.get("quantity") or 0), reason=str(item.get("returnReasonDescription") or "")))
    label = r.get("shippingLabel") or {}
    if label.get("trackingNumber"):
        carrier = str(label.get("carrier") or "")
        result.return_shipment.CopyFrom(lookup_pb2.Shipment(
            carrier=carrier, tracking_number=str(label["trackingNumber"]),
            tracking_url=str(label.get("trackingUrl") or tracking_url(carrier, str(label["trackingNumber"]))),
        ))
    return result


def customer(email: str, rmas: list[dict[str, Any]], orders: list[dict[str, Any]], app_base_url: str) -> lookup_pb2.Customer:
    key = email_key(email)
    name = customer_name(rmas, orders)
    first, _, last = name.partition(" ")
    link = rma_link(app_base_url, key)
    return lookup_pb2.Customer(
        external_id=key, name=name, first_name=first, last_name=last, emails=[key],
        custom_attributes=[lookup_pb2.CustomAttribute(key="rma_link", label="Returns in ReturnLogic", value=link, url=link)],
        returns=[return_of(r, app_base_url) for r in rmas],
        links=[lookup_pb2.Link(label="Open returns in ReturnLogic", url=link)],
    )


def start_return_link(app_base_url: str, order_number: str, email: str) -> str:
    return f"{app_base_url.rstrip('/')}/originate/rmas/new?orderNumber={quote(order_number)}&email={quote(email)}"
