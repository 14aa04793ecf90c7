"""Demo data of the Magento sandbox, in Magento's own shapes.

Customers share emails with the BigCommerce sandbox (jane.smith, john.doe,
priya.patel) so one profile links to both systems; mo.gento@example.com exists
only here; no.orders.magento@example.com has no orders. Jane has a shipped
order with two shipments, a processing order, and a configurable product line.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ACCESS_TOKEN = "demo-magento-token"
STORE_CODES = ("default", "all")
BASE = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)

PRODUCTS: list[dict[str, Any]] = [
    {"id": 2001, "sku": "MH-TENT-2P", "name": "Ridge Tent 2P", "price": 249.0, "url_key": "ridge-tent-2p"},
    {"id": 2002, "sku": "MH-LAMP", "name": "Camp Lantern", "price": 39.5, "url_key": "camp-lantern"},
    {"id": 2003, "sku": "MH-JACKET", "name": "Down Jacket", "price": 189.0, "url_key": "down-jacket"},
    {"id": 2004, "sku": "MH-JACKET-M-BLUE", "name": "Down Jacket-M-Blue", "price": 189.0, "url_key": "down-jacket-m-blue"},
    {"id": 2005, "sku": "MH-STOVE", "name": "Trail Stove", "price": 64.99, "url_key": "trail-stove"},
]


def stamp(dt: datetime) -> str:
    """Magento's date format: ``Y-m-d H:i:s`` in UTC."""
    return dt.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Shop:
    access_token: str
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    shipments: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Cart price rules: id → whether coupons can be generated for it.
    rules: dict[int, dict[str, Any]] = field(
        default_factory=lambda: {
            1: {"rule_id": 1, "name": "Support goodwill 10%", "use_auto_generation": True, "is_active": True},
            2: {"rule_id": 2, "name": "Spring sale (fixed code)", "use_auto_generation": False, "is_active": True},
        }
    )
    coupons: list[str] = field(default_factory=list)
    creditmemos: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=lambda: {"order": 100, "shipment": 500, "item": 1000, "track": 700})

    def next_id(self, kind: str) -> int:
        self.next_ids[kind] += 1
        return self.next_ids[kind]


REGIONS = {"CA": ("California", 12), "NY": ("New York", 43), "TX": ("Texas", 57)}


def _address(cid: int, n: int, first: str, last: str, street: str, city: str, region: str, postcode: str, phone: str) -> dict[str, Any]:
    name, region_id = REGIONS[region]
    return {
        "id": cid * 10 + n,
        "customer_id": cid,
        "region": {"region_code": region, "region": name, "region_id": region_id},
        "region_id": region_id,
        "country_id": "US",
        "street": [street],
        "telephone": phone,
        "postcode": postcode,
        "city": city,
        "firstname": first,
        "lastname": last,
        "default_shipping": n == 1,
        "default_billing": n == 1,
    }


def new_customer(cid: int, first: str, last: str, email: str, created: datetime, addresses: list[dict[str, Any]]) -> dict[str, Any]:
    default = str(addresses[0]["id"]) if addresses else None
    customer = {
        "id": cid,
        "group_id": 1,
        "created_at": stamp(created),
        "updated_at": stamp(created + timedelta(days=2)),
        "created_in": "Default Store View",
        "email": email,
        "firstname": first,
        "lastname": last,
        "store_id": 1,
        "website_id": 1,
        "addresses": addresses,
        "disable_auto_group_change": 0,
        "extension_attributes": {"is_subscribed": False},
    }
    if default:
        customer["default_billing"] = default
        customer["default_shipping"] = default
    return customer


def _item(shop: Shop, order_id: int, product: dict[str, Any], qty: int, shipped: int, parent: int | None = None) -> dict[str, Any]:
    price = product["price"] if parent is None else 0.0
    item = {
        "item_id": shop.next_id("item"),
        "order_id": order_id,
        "sku": product["sku"],
        "name": product["name"],
        "product_id": product["id"],
        "product_type": "simple" if parent else ("configurable" if product["sku"] == "MH-JACKET" else "simple"),
        "price": price,
        "base_price": price,
        "price_incl_tax": price,
        "original_price": price,
        "row_total": price * qty,
        "qty_ordered": qty,
        "qty_shipped": shipped,
        "qty_invoiced": qty,
        "qty_canceled": 0,
        "qty_refunded": 0,
        "discount_amount": 0,
        "tax_amount": 0,
        "created_at": "",
        "is_virtual": 0,
        "store_id": 1,
    }
    if parent is not None:  # Magento's REST output leaves out null fields
        item["parent_item_id"] = parent
    return item


# What every demo order says alike: one currency, one store view, no tax, paid by check.
ORDER_CONSTANTS: dict[str, Any] = {
    "customer_is_guest": 0,
    "base_currency_code": "USD",
    "order_currency_code": "USD",
    "global_currency_code": "USD",
    "store_currency_code": "USD",
    "tax_amount": 0,
    "base_tax_amount": 0,
    "total_refunded": 0,
    "store_id": 1,
    "store_name": "Main Website\nMain Website Store\nDefault Store View",
}
PAYMENT: dict[str, Any] = {"method": "checkmo", "account_status": "", "cc_last4": ""}


def _order_items(
    shop: Shop, entity_id: int, created: datetime, lines: list[tuple[str, int]], state: str, shipped: bool
) -> list[dict[str, Any]]:
    invoiced = state not in ("new", "pending_payment", "canceled")
    items: list[dict[str, Any]] = []
    for sku, qty in lines:
        item = _item(shop, entity_id, shop.products[sku], qty, qty if shipped else 0)
        item["qty_invoiced"] = qty if invoiced else 0
        item["qty_canceled"] = qty if state == "canceled" else 0
        item["created_at"] = stamp(created)
        items.append(item)
        if sku == "MH-JACKET":  # a configurable line and its simple child
            child = _item(shop, entity_id, shop.products["MH-JACKET-M-BLUE"], qty, qty if shipped else 0, parent=item["item_id"])
            child["created_at"] = stamp(created)
            items.append(child)
    return items


def _order_address(customer: dict[str, Any], entity_id: int) -> dict[str, Any]:
    address = (customer.get("addresses") or [{}])[0]
    region = address.get("region") or {}
    return {
        "address_type": "shipping",
        "city": address.get("city", ""),
        "country_id": "US",
        "email": customer["email"],
        "firstname": customer["firstname"],
        "lastname": customer["lastname"],
        "postcode": address.get("postcode", ""),
        "street": address.get("street", [""]),
        "telephone": address.get("telephone", ""),
        "region": region.get("region", ""),
        "region_code": region.get("region_code", ""),
        "parent_id": entity_id,
        "entity_id": entity_id * 10,
    }


def _shipment(shop: Shop, order: dict[str, Any], created: datetime, group: list[tuple[str, str, str]]) -> dict[str, Any]:
    shipment_id = shop.next_id("shipment")
    items = [i for i in order["items"] if not i.get("parent_item_id")]
    return {
        "entity_id": shipment_id,
        "increment_id": f"000000{shipment_id}",
        "order_id": order["entity_id"],
        "customer_id": order["customer_id"],
        "created_at": stamp(created + timedelta(days=1)),
        "updated_at": stamp(created + timedelta(days=1)),
        "store_id": 1,
        "total_qty": sum(i["qty_ordered"] for i in items),
        "email_sent": 1,
        "items": [
            {
                "order_item_id": i["item_id"],
                "qty": i["qty_ordered"],
                "sku": i["sku"],
                "name": i["name"],
                "price": i["price"],
                "product_id": i["product_id"],
                "parent_id": shipment_id,
                "entity_id": i["item_id"] + 50000,
            }
            for i in items
        ],
        "tracks": [
            {
                "order_id": order["entity_id"],
                "parent_id": shipment_id,
                "entity_id": shop.next_id("track"),
                "weight": 1,
                "qty": 1,
                "description": "",
                "track_number": number,
                "title": title,
                "carrier_code": code,
                "created_at": stamp(created + timedelta(days=1)),
            }
            for number, title, code in group
        ],
        "comments": [],
        "packages": [],
    }


def add_order(
    shop: Shop,
    customer: dict[str, Any],
    created: datetime,
    lines: list[tuple[str, int]],
    *,
    state: str,
    status: str,
    shipped: bool,
    discount: float = 0.0,
    shipping: float = 5.0,
    tracks: list[list[tuple[str, str, str]]] | None = None,
    method: str = "Flat Rate - Fixed",
    carrier_method: str = "flatrate_flatrate",
) -> dict[str, Any]:
    entity_id = shop.next_id("order")
    paid = state not in ("new", "pending_payment", "canceled")
    items = _order_items(shop, entity_id, created, lines, state, shipped)
    subtotal = sum(shop.products[sku]["price"] * qty for sku, qty in lines)
    grand = round(subtotal - discount + shipping, 2)
    order_address = _order_address(customer, entity_id)
    order = {
        **ORDER_CONSTANTS,
        "entity_id": entity_id,
        "increment_id": f"000000{entity_id}",
        "customer_id": customer["id"],
        "customer_email": customer["email"],
        "customer_firstname": customer["firstname"],
        "customer_lastname": customer["lastname"],
        "created_at": stamp(created),
        "updated_at": stamp(created + timedelta(days=1)),
        "state": state,
        "status": status,
        "subtotal": subtotal,
        "base_subtotal": subtotal,
        "discount_amount": -discount,
        "base_discount_amount": -discount,
        "shipping_amount": shipping,
        "base_shipping_amount": shipping,
        "grand_total": grand,
        "base_grand_total": grand,
        "total_paid": grand if paid else 0,
        "base_total_paid": grand if paid else 0,
        "total_invoiced": grand if paid else 0,
        "total_qty_ordered": sum(q for _, q in lines),
        "shipping_description": method,
        "items": items,
        "billing_address": {**order_address, "address_type": "billing"},
        "payment": {**PAYMENT, "amount_ordered": grand, "amount_paid": grand, "additional_information": ["Check / Money order"]},
        "extension_attributes": {
            "shipping_assignments": [{"shipping": {"address": order_address, "method": carrier_method}, "items": items}]
        },
        "status_histories": [],
    }
    shop.orders[entity_id] = order
    for group in tracks or []:
        shipment = _shipment(shop, order, created, group)
        shop.shipments[shipment["entity_id"]] = shipment
    return order


# (id, first name, last name, email, addresses: street, city, region, postcode, phone)
PEOPLE = [
    (1, "Jane", "Smith", "jane.smith@example.com", [("12 Market St", "San Francisco", "CA", "94105", "415-555-0101")]),
    (2, "John", "Doe", "john.doe@example.com", [("40 Oak Ave", "Oakland", "CA", "94607", "415-555-0102")]),
    (3, "Priya", "Patel", "priya.patel@example.com", [("5 Hudson Yards", "New York", "NY", "10001", "212-555-0199")]),
    (4, "Mo", "Gento", "mo.gento@example.com", [("77 Congress Ave", "Austin", "TX", "78701", "512-555-0177")]),
    (5, "Nora", "Null", "no.orders.magento@example.com", []),
]


def _generated(shop: Shop, count: int) -> None:
    """Volume: the same customers as the BigCommerce sandbox's generated block, 12 orders each."""
    for n in range(1, count + 1):
        cid = 100 + n
        shop.customers[cid] = new_customer(
            cid,
            f"Customer{n:02d}",
            "Demo",
            f"customer{n:02d}@example.com",
            BASE - timedelta(days=n),
            [_address(cid, 1, f"Customer{n:02d}", "Demo", f"{n} Broadway", "New York", "NY", "10012", f"646-555-{n:04d}")],
        )
        for k in range(12):
            add_order(
                shop,
                shop.customers[cid],
                BASE + timedelta(days=k * 5 + n % 4),
                [(PRODUCTS[(n + k) % 3]["sku"], 1 + k % 2)],
                state="complete" if k % 2 else "processing",
                status="complete" if k % 2 else "processing",
                shipped=bool(k % 2),
                tracks=[[(f"1ZMG{cid:04d}{k:04d}", "United Parcel Service", "ups")]] if k % 2 else None,
            )


def build_shop(access_token: str = ACCESS_TOKEN, generated: int = 20) -> Shop:
    shop = Shop(access_token)
    for p in PRODUCTS:
        shop.products[p["sku"]] = copy.deepcopy(p)
    for i, (cid, first, last, email, addresses) in enumerate(PEOPLE):
        shop.customers[cid] = new_customer(
            cid,
            first,
            last,
            email,
            BASE - timedelta(days=300 - 20 * i),
            [_address(cid, n, first, last, *a) for n, a in enumerate(addresses, start=1)],
        )
    c = shop.customers
    add_order(
        shop,
        c[1],
        BASE + timedelta(days=3),
        [("MH-TENT-2P", 1), ("MH-LAMP", 2)],
        state="complete",
        status="complete",
        shipped=True,
        discount=10.0,
        tracks=[
            [("1Z999AA1M0000001", "United Parcel Service", "ups")],
            [("9400100000000000000001", "United States Postal Service", "usps")],
        ],
        method="UPS - Ground",
        carrier_method="ups_GND",
    )
    add_order(shop, c[1], BASE + timedelta(days=20), [("MH-JACKET", 1)], state="processing", status="processing", shipped=False)
    add_order(
        shop,
        c[2],
        BASE + timedelta(days=8),
        [("MH-STOVE", 1)],
        state="complete",
        status="complete",
        shipped=True,
        tracks=[[("770000000001", "Federal Express", "fedex")]],
        method="Federal Express - Ground",
        carrier_method="fedex_FEDEX_GROUND",
    )
    add_order(shop, c[4], BASE + timedelta(days=12), [("MH-LAMP", 1)], state="new", status="pending", shipped=False)
    add_order(shop, c[4], BASE + timedelta(days=30), [("MH-STOVE", 2)], state="canceled", status="canceled", shipped=False)
    _generated(shop, generated)
    # Priya Patel also checked out once as a guest: the order has no customer_id, only her email.
    guest = add_order(
        shop, {**c[3], "id": None}, BASE + timedelta(days=40), [("MH-LAMP", 1)], state="processing", status="processing", shipped=False
    )
    guest.pop("customer_id")
    guest["customer_is_guest"] = 1
    return shop
