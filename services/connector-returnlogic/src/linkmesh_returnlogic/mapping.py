"""ReturnLogic → the Lookup contract: the one place that knows ReturnLogic's fields.

ReturnLogic publishes no machine-readable schema. What follows is the best public
knowledge; correct it here, and only here. Sources:
- the vendor's "ReturnLogic API (V1)" page (api.returnlogic.com/v1/docs): bearer auth,
  errors 400/401/429/503, the rate-limit headers, List Orders' ``email``, ``orderNumber``,
  ``skip``, ``limit`` (1-250), and a list answered as a bare JSON array;
- public client code corrected against live answers: ``mgayton43/nolimitssupport``,
  ``src/lib/returnlogic.ts`` at commit a815489 ("Fix Return Logic API field mappings"):
  ``rlRmaId``, ``workflowStatus``, ``orderName``, ``timeline.createDate``,
  ``totals.refund.total``, ``totals.exchange.total``, ``totals.giftCard.total``,
  ``shippingLabel.{trackingNumber, carrier, trackingUrl}``, ``rmaItems[]`` with
  ``returnReasonDescription``, and the RMA page
  ``https://originate.returnlogic.com/originate/rma/{rlRmaId}``;
- Kong's rate-limiting plugin documentation, for the header names
  (``X-RateLimit-Remaining-Second`` and ``-Minute``).

Envelope and paging
  Lists (``GET /v1/rmas``, ``GET /v1/orders``) are a bare JSON array, as the vendor's page
  shows; ``{"data": [...]}`` (or ``rmas`` / ``orders`` / ``items`` / ``results``) is accepted
  too. Every list is paged with ``skip`` and ``limit`` (250): a page shorter than the limit
  is the last (or ``total``, when an envelope gives one); no list is read as one page on
  trust.

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
  ``totals.refund.total``         → ``refund_total`` (a decimal, ``totals.currency`` else USD;
                                     the flat ``totals.refundTotal`` is read when it is all there is)
  ``totals.exchange.total``       → ``exchange_total``
  ``totals.giftCard.total``       → ``store_credit`` (refunded as a gift card)
  ``shippingLabel.trackingNumber`` → ``return_shipment.tracking_number``
  ``shippingLabel.carrier``        → ``return_shipment.carrier``
  ``shippingLabel.trackingUrl``    → ``return_shipment.tracking_url`` (else the carrier's public page)
  ``rmaItems[].name``              → ``items[].name``
  ``rmaItems[].sku``               → ``items[].sku``
  ``rmaItems[].quantity``          → ``items[].quantity``
  ``rmaItems[].returnReasonDescription`` → ``items[].reason``
  RMA page                         → ``admin_url``: ``{app_base_url}/originate/rma/{rlRmaId}``
                                     (``app_base_url`` defaults to https://originate.returnlogic.com)
  Returns, and the codes in a search result, are newest first by ``timeline.createDate``
  (sorted here: the API promises no order).

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

from decimal import Decimal
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


def newest_first(rmas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By ``timeline.createDate``, newest first; an RMA without a readable date goes last."""

    def created(r: dict[str, Any]) -> float:
        stamp = from_iso((r.get("timeline") or {}).get("createDate"))
        return stamp.seconds + stamp.nanos / 1e9 if stamp else float("-inf")

    return sorted(rmas, key=created, reverse=True)


def rma_codes(rmas: list[dict[str, Any]]) -> str:
    return ", ".join(str(r.get("rlRmaId") or r.get("id")) for r in newest_first(rmas) if r.get("rlRmaId") or r.get("id"))


def total(totals: dict[str, Any], name: str, flat: str) -> Any:
    """``totals.<name>.total`` (what live answers carry), else the flat ``totals.<flat>``."""
    nested = totals.get(name)
    if isinstance(nested, dict) and nested.get("total") not in (None, ""):
        return nested["total"]
    return totals.get(flat) or 0


def rma_link(app_base_url: str, email: str) -> str:
    return f"{app_base_url.rstrip('/')}/originate/rmas?search={quote(email)}"


def summary(email: str, rmas: list[dict[str, Any]], orders: list[dict[str, Any]]) -> lookup_pb2.CustomerSummary:
    return lookup_pb2.CustomerSummary(
        external_id=email_key(email), name=customer_name(rmas, orders), emails=[email_key(email)], extra={"rma_codes": rma_codes(rmas)}
    )


def return_of(r: dict[str, Any], app_base_url: str) -> lookup_pb2.Return:
    totals = r.get("totals") or {}
    currency = str(totals.get("currency") or "USD")
    code = str(r.get("rlRmaId") or r.get("id") or "")
    result = lookup_pb2.Return(
        id=str(r.get("id") or code),
        code=code,
        status=str(r.get("workflowStatus") or ""),
        order_id=str(r.get("orderName") or r.get("orderNumber") or "").lstrip("#"),
        refund_total=money(total(totals, "refund", "refundTotal"), currency),
        exchange_total=money(total(totals, "exchange", "exchangeTotal"), currency),
        admin_url=f"{app_base_url.rstrip('/')}/originate/rma/{quote(code)}" if code else "",
    )
    store_credit = money(total(totals, "giftCard", "giftCardTotal"), currency)
    if Decimal(store_credit.amount or "0") != 0:
        result.store_credit.CopyFrom(store_credit)
    created = from_iso((r.get("timeline") or {}).get("createDate"))
    if created:
        result.created_at.CopyFrom(created)
    for item in r.get("rmaItems") or []:
        result.items.append(
            lookup_pb2.ReturnItem(
                name=str(item.get("name") or ""),
                sku=str(item.get("sku") or ""),
                quantity=int(item.get("quantity") or 0),
                reason=str(item.get("returnReasonDescription") or ""),
            )
        )
    label = r.get("shippingLabel") or {}
    if label.get("trackingNumber"):
        carrier = str(label.get("carrier") or "")
        result.return_shipment.CopyFrom(
            lookup_pb2.Shipment(
                carrier=carrier,
                tracking_number=str(label["trackingNumber"]),
                tracking_url=str(label.get("trackingUrl") or tracking_url(carrier, str(label["trackingNumber"]))),
            )
        )
    return result


def customer(email: str, rmas: list[dict[str, Any]], orders: list[dict[str, Any]], app_base_url: str) -> lookup_pb2.Customer:
    key = email_key(email)
    name = customer_name(rmas, orders)
    first, _, last = name.partition(" ")
    link = rma_link(app_base_url, key)
    return lookup_pb2.Customer(
        external_id=key,
        name=name,
        first_name=first,
        last_name=last,
        emails=[key],
        custom_attributes=[lookup_pb2.CustomAttribute(key="rma_link", label="Returns in ReturnLogic", value=link, url=link)],
        returns=[return_of(r, app_base_url) for r in newest_first(rmas)],
        links=[lookup_pb2.Link(label="Open returns in ReturnLogic", url=link)],
    )


def start_return_link(app_base_url: str, order_number: str, email: str) -> str:
    return f"{app_base_url.rstrip('/')}/originate/rmas/new?orderNumber={quote(order_number)}&email={quote(email)}"
