"""Shopify's GraphQL objects → the lookup contract. Ids travel as Shopify's numeric ids
(the tail of ``gid://shopify/Order/5101``), as its admin URLs use them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import paging
from linkmesh_core.contact_points import phone_key
from linkmesh_core.timestamps import from_iso

ADMIN = "https://admin.shopify.com/store/{store}"
STATUS = {
    "PAID": "paid",
    "PENDING": "payment pending",
    "AUTHORIZED": "authorized",
    "PARTIALLY_PAID": "partially paid",
    "PARTIALLY_REFUNDED": "partially refunded",
    "REFUNDED": "refunded",
    "VOIDED": "voided",
    "EXPIRED": "expired",
}


# A fulfillment's displayStatus (FulfillmentDisplayStatus) as the contract's delivery words: what
# the carrier's events say of the parcel; the states before it leaves (label printed, confirmed,
# fulfilled, marked as fulfilled, submitted) say nothing of where it is.
DELIVERY = {
    "IN_TRANSIT": "in_transit",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "DELIVERED": "delivered",
    "ATTEMPTED_DELIVERY": "attempted_delivery",
    "DELAYED": "delayed",
    "FAILURE": "failed",
    "NOT_DELIVERED": "failed",
    "READY_FOR_PICKUP": "ready_for_pickup",
    "PICKED_UP": "picked_up",
}


def number_of(gid: Any) -> str:
    """``gid://shopify/Order/5101`` → ``5101``."""
    return str(gid or "").rsplit("/", 1)[-1]


def gid(kind: str, number: str) -> str:
    return f"gid://shopify/{kind}/{number}"


SHOWN = "presentmentMoney"  # orders are shown in the currency the customer paid in


def money(bag: Any, side: str = "shopMoney") -> lookup_pb2.Money | None:
    """One side of a MoneyBag: ``shopMoney`` (the shop's currency) or ``presentmentMoney`` (the
    currency the customer paid in)."""
    value = (bag or {}).get(side) or {}
    if value.get("amount") is None:
        return None
    try:
        amount = Decimal(str(value["amount"]))
    except InvalidOperation:
        return None
    return lookup_pb2.Money(amount=f"{amount:.2f}", currency=str(value.get("currencyCode") or ""))


def refunded(bag: Any) -> tuple[str, dict[str, str]]:
    """What a refund's ``totalRefundedSet`` says to an agent: the amount in the currency the
    customer paid in, and the shop's when it differs; with the action's result fields."""
    paid = money(bag, "presentmentMoney") or money(bag) or lookup_pb2.Money(amount="0.00")
    said, result = f"{paid.amount} {paid.currency}".strip(), {"amount": paid.amount, "currency": paid.currency}
    shop = money(bag)
    if shop is not None and shop.currency != paid.currency:
        said += f" ({shop.amount} {shop.currency} in the shop's currency)"
        result.update(shop_amount=shop.amount, shop_currency=shop.currency)
    return said, result


def phones(c: dict[str, Any], region: str) -> list[lookup_pb2.Phone]:
    raw = c.get("phone")
    if not raw:
        return []
    return [lookup_pb2.Phone(number=phone_key(raw, region) or raw, type="mobile")]


def summary(c: dict[str, Any], region: str) -> lookup_pb2.CustomerSummary:
    return lookup_pb2.CustomerSummary(
        external_id=number_of(c["id"]),
        name=str(c.get("displayName") or ""),
        emails=[c["email"]] if c.get("email") else [],
        phones=phones(c, region),
    )


def order(o: dict[str, Any], store: str) -> lookup_pb2.Order:
    oid = number_of(o["id"])
    status = (
        "cancelled"
        if o.get("cancelledAt")
        else STATUS.get(str(o.get("displayFinancialStatus") or ""), str(o.get("displayFinancialStatus") or "").lower())
    )
    out = lookup_pb2.Order(
        id=oid,
        number=str(o.get("name") or oid),
        admin_url=f"{ADMIN.format(store=store)}/orders/{oid}",
        status=status,
        fulfilled=o.get("displayFulfillmentStatus") == "FULFILLED",
    )
    if (total := money(o.get("totalPriceSet"), SHOWN)) is not None:
        out.total.CopyFrom(total)
    discount = money(o.get("totalDiscountsSet"), SHOWN)
    if discount is not None and Decimal(discount.amount):
        out.discount.CopyFrom(discount)
    if (created := from_iso(o.get("processedAt") or o.get("createdAt"))) is not None:
        out.created_at.CopyFrom(created)
    items = o.get("lineItems") or {}
    for line in items.get("nodes") or []:
        ol = lookup_pb2.OrderLine(
            id=number_of(line["id"]),
            name=str(line.get("name") or ""),
            sku=str(line.get("sku") or ""),
            quantity=int(line.get("quantity") or 0),
        )
        if (price := money(line.get("originalUnitPriceSet"), SHOWN)) is not None:
            ol.unit_price.CopyFrom(price)
        ol.product_url = str((line.get("product") or {}).get("onlineStoreUrl") or "")  # null while not published
        out.lines.append(ol)
    if (items.get("pageInfo") or {}).get("hasNextPage"):
        out.partial.append(paging.LINES)
    for f in o.get("fulfillments") or []:
        for t in f.get("trackingInfo") or [{}]:
            s = lookup_pb2.Shipment(
                id=number_of(f["id"]),
                carrier=str(t.get("company") or ""),
                tracking_number=str(t.get("number") or ""),
                tracking_url=str(t.get("url") or ""),
            )
            if (shipped := from_iso(f.get("createdAt"))) is not None:
                s.shipped_at.CopyFrom(shipped)
            s.delivery = DELIVERY.get(str(f.get("displayStatus") or ""), "")
            if (delivered := from_iso(f.get("deliveredAt"))) is not None:
                s.delivered_at.CopyFrom(delivered)
            out.shipments.append(s)
    return out


def returns(o: dict[str, Any], store: str) -> list[lookup_pb2.Return]:
    oid = number_of(o["id"])
    out = []
    for r in (o.get("returns") or {}).get("nodes") or []:
        ret = lookup_pb2.Return(
            id=number_of(r["id"]),
            code=str(r.get("name") or ""),
            status=str(r.get("status") or "").lower(),
            order_id=str(o.get("name") or oid),
            admin_url=f"{ADMIN.format(store=store)}/orders/{oid}",
        )
        for item in (r.get("returnLineItems") or {}).get("nodes") or []:
            line = (item.get("fulfillmentLineItem") or {}).get("lineItem") or {}
            ret.items.append(
                lookup_pb2.ReturnItem(
                    name=str(line.get("name") or ""),
                    sku=str(line.get("sku") or ""),
                    quantity=int(item.get("quantity") or 0),
                    reason=str(item.get("returnReason") or "").replace("_", " ").lower(),
                )
            )
        out.append(ret)
    return out


def customer(c: dict[str, Any], orders: list[dict[str, Any]], store: str, region: str) -> lookup_pb2.Customer:
    cid = number_of(c["id"])
    out = lookup_pb2.Customer(
        external_id=cid,
        name=str(c.get("displayName") or ""),
        first_name=str(c.get("firstName") or ""),
        last_name=str(c.get("lastName") or ""),
        emails=[c["email"]] if c.get("email") else [],
        phones=phones(c, region),
        admin_url=f"{ADMIN.format(store=store)}/customers/{cid}",
    )
    if (since := from_iso(c.get("createdAt"))) is not None:
        out.customer_since.CopyFrom(since)
    a = c.get("defaultAddress")
    if a:
        out.address.CopyFrom(
            lookup_pb2.Address(
                line1=str(a.get("address1") or ""),
                line2=str(a.get("address2") or ""),
                city=str(a.get("city") or ""),
                region=str(a.get("provinceCode") or ""),
                postal_code=str(a.get("zip") or ""),
                country_code=str(a.get("countryCodeV2") or ""),
                company=str(a.get("company") or ""),
            )
        )
    if c.get("tags"):
        out.custom_attributes.append(lookup_pb2.CustomAttribute(key="tags", label="Tags", value=", ".join(c["tags"])))
    if c.get("note"):
        out.custom_attributes.append(lookup_pb2.CustomAttribute(key="note", label="Note", value=str(c["note"])))
    spent = c.get("amountSpent") or {}
    if spent.get("amount") is not None:
        out.custom_attributes.append(
            lookup_pb2.CustomAttribute(
                key="amount_spent",
                label="Amount spent",
                value=f"{Decimal(str(spent['amount'])):.2f} {spent.get('currencyCode') or ''}".strip(),
            )
        )
    for o in orders:
        out.orders.append(order(o, store))
        out.returns.extend(returns(o, store))
    out.links.append(lookup_pb2.Link(label="Open in Shopify", url=out.admin_url))
    return out
