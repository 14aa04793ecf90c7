"""Demo data of the BigCommerce sandbox, in BigCommerce's own shapes.

Fixed cases the tests rely on (emails are shared with the other sandboxes so
one customer links to every system):

- jane.smith@example.com: three orders, one shipped in several shipments.
- john.doe@example.com and joan.doe@example.com share the phone 415-555-0102.
- no.orders@example.com: a customer with no orders.
- order 5007: a guest order (customer_id 0) by john.doe@example.com, who also has an account.
- a block of generated customers (customerNN@example.com) for volume.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from linkmesh_sandboxes.bigcommerce.shapes import (
    STATUSES,
    Store,
    address,
    customer_group,
    iso,
    money,
    new_customer,
    order,
    order_product,
    rfc2822,
    shipment,
    store_info,
)

__all__ = [
    "ACCESS_TOKEN",
    "PRODUCTS",
    "STATUSES",
    "STORE_HASH",
    "Store",
    "add_order",
    "build_store",
    "iso",
    "money",
    "new_customer",
    "rfc2822",
]

STORE_HASH = "demo1"
ACCESS_TOKEN = "demo-bigcommerce-token"
BASE = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)

PRODUCTS: list[dict[str, Any]] = [
    {"id": 111, "name": "Trail Runner Shoe", "sku": "TR-SHOE-42", "price": "89.9500", "url": "/trail-runner-shoe/"},
    {"id": 112, "name": "Merino Hiking Sock", "sku": "MER-SOCK-M", "price": "14.5000", "url": "/merino-hiking-sock/"},
    {"id": 113, "name": "Waterproof Shell Jacket", "sku": "SHELL-JKT-L", "price": "179.0000", "url": "/waterproof-shell-jacket/"},
    {"id": 114, "name": "Insulated Bottle 750ml", "sku": "BOTTLE-750", "price": "32.0000", "url": "/insulated-bottle-750ml/"},
    {"id": 115, "name": "Daypack 22L", "sku": "PACK-22", "price": "74.5000", "url": "/daypack-22l/"},
]


# (id, first name, last name, email, phone, address: line 1, city, state, zip)
CUSTOMERS = [
    (101, "Jane", "Smith", "jane.smith@example.com", "+1 415-555-0101", ("12 Market St", "San Francisco", "California", "94105")),
    (102, "John", "Doe", "john.doe@example.com", "415-555-0102", ("40 Oak Ave", "Oakland", "California", "94607")),
    (103, "Joan", "Doe", "joan.doe@example.com", "415-555-0102", ("40 Oak Ave", "Oakland", "California", "94607")),
    (104, "Noah", "Nolan", "no.orders@example.com", "+14155550104", None),
    (105, "Priya", "Patel", "priya.patel@example.com", "(212) 555-0199", ("5 Hudson Yards", "New York", "New York", "10001")),
]


def _ups(tracking: str, lines: list[tuple[int, int]], method: str = "UPS Ground", **more: str) -> dict[str, Any]:
    return {"tracking_number": tracking, "method": method, "provider": "ups", "carrier": "ups", "lines": lines, **more}


# (order id, customer id, days after BASE, lines (product, quantity), status id, discount, shipments)
ORDERS: list[tuple[int, int, int, list[tuple[int, int]], int, str, list[dict[str, Any]]]] = [
    (
        5001,
        101,
        10,
        [(111, 1), (112, 3)],
        10,
        "5.00",
        [
            _ups(
                "1Z999AA10123456784", [(111, 1), (112, 3)], generated="https://www.ups.com/track?tracknum=1Z999AA10123456784", display="UPS"
            )
        ],
    ),
    (
        5002,
        101,
        40,
        [(113, 1), (114, 2), (115, 1)],
        2,
        "0",
        [
            {
                "tracking_number": "9400110200881234567890",
                "method": "USPS Priority",
                "provider": "usps",
                "carrier": "usps",
                "generated": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400110200881234567890",
                "display": "USPS",
                "lines": [(113, 1)],
            },
            {
                "tracking_number": "776600112233",
                "method": "FedEx Home",
                "provider": "fedex",
                "carrier": "fedex",
                "link": "https://www.fedex.com/fedextrack/?trknbr=776600112233",
                "display": "FedEx",
                "lines": [(114, 2)],
            },
            _ups("1Z999AA10123456799", [(115, 1)], display="UPS"),
        ],
    ),
    (5003, 101, 70, [(114, 1)], 11, "0", []),
    (5004, 102, 20, [(115, 1)], 2, "0", [_ups("1Z999AA10123450001", [(115, 1)])]),
    (5005, 103, 25, [(112, 2)], 11, "0", []),
    (5006, 105, 30, [(113, 1)], 10, "20.00", [_ups("1Z999AA10123450002", [(113, 1)], method="UPS Next Day")]),
]


def add_order(
    store: Store,
    oid: int,
    c: dict[str, Any],
    created: datetime,
    lines: list[tuple[int, int]],
    status_id: int,
    discount: str = "0",
    shipments: list[dict[str, Any]] | None = None,
) -> None:
    products = [order_product(oid, n, store.products[pid], qty, status_id in (2, 10)) for n, (pid, qty) in enumerate(lines, start=1)]
    store.orders[oid] = order(
        store.store_hash, oid, c, created, products, status_id, discount, created + timedelta(days=1) if shipments else None
    )
    store.order_products[oid] = products
    store.shipments[oid] = [shipment(oid, n, c, created, s) for n, s in enumerate(shipments or [], start=1)]


def _generated(store: Store, count: int) -> None:
    """``count`` customers with 12 orders each: more than the 10 most recent, so paging and sorting matter."""
    oid = 6000
    for n in range(1, count + 1):
        cid = 1000 + n
        phone = f"+1 646-555-{n:04d}"
        home = address(cid, f"Customer{n:02d}", "Demo", f"{n} Broadway", "New York", "New York", "10012", phone)
        store.customers[cid] = new_customer(
            cid, f"Customer{n:02d}", "Demo", f"customer{n:02d}@example.com", phone, BASE - timedelta(days=n), home
        )
        for k in range(12):
            oid += 1
            lines = [(PRODUCTS[(n + k) % len(PRODUCTS)]["id"], 1 + k % 3)]
            shipped = [_ups(f"1ZGEN{oid:010d}", lines)] if k % 2 else None
            add_order(store, oid, store.customers[cid], BASE + timedelta(days=k * 7 + n % 5), lines, 10 if k % 2 else 11, shipments=shipped)


def build_store(store_hash: str = STORE_HASH, access_token: str = ACCESS_TOKEN, generated: int = 40) -> Store:
    store = Store(store_hash, access_token)
    store.products = {p["id"]: copy.deepcopy(p) for p in PRODUCTS}
    store.info = store_info(store_hash)
    for i, (cid, first, last, email, phone, addr) in enumerate(CUSTOMERS):
        home = address(cid, first, last, *addr, phone) if addr else None
        store.customers[cid] = new_customer(cid, first, last, email, phone, BASE - timedelta(days=400 - i * 30), home)
    c = store.customers
    store.groups = {1: customer_group(1, "Retail"), 2: customer_group(2, "Wholesale")}
    c[101].update(company="Acme Outdoor", customer_group_id=2)
    for oid, cid, days, lines, status_id, discount, shipments in ORDERS:
        add_order(store, oid, c[cid], BASE + timedelta(days=days), lines, status_id, discount=discount, shipments=shipments)
    # John Doe also checked out once as a guest: the order has no customer (customer_id 0), only his billing email.
    add_order(store, 5007, {**c[102], "id": 0}, BASE + timedelta(days=35), [(114, 1)], 11)
    _generated(store, generated)
    return store
