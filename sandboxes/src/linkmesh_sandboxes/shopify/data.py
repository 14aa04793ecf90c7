"""Demo data of the Shopify sandbox: one shop, Summit Outfitters, whose customers also exist
in the other sandboxes.

- Jane Smith (jane.smith@example.com, +14155550101): orders #1001 (fulfilled with UPS
  tracking, a shoe returned and refunded), #1002 (paid, unfulfilled) and #1006, placed as a
  guest (no customer on the order, only her email).
- John Doe (john.doe@example.com, +14155550102): #1003, partially fulfilled.
- Priya Patel (priya.patel@example.com, +12125550199): #1004, paid.
- #1005: a guest order by mo.gento@example.com, who has no Shopify customer record.
- no.orders.shopify@example.com: a customer with no orders.
- Élise Martin (elise.martin@example.com): #1007, paid in EUR on this USD shop; a refund must
  name EUR (``RefundInput.currency``) and its amounts are in EUR.

Order numbers #1001-#1005 are the ones ReturnLogic knows (ReturnLogic reads the shop's orders).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

SHOP = "summit-outfitters.myshopify.com"
ACCESS_TOKEN = "shpat_demo_summit_outfitters_0001"
CURRENCY = "USD"
BASE = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
GATEWAY = "shopify_payments"


API_VERSION = "2025-01"
#: The app's client secret (API secret key): Shopify signs the app's webhook deliveries with it.
CLIENT_SECRET = "demo-shopify-client-secret"


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Line:
    id: int
    name: str
    sku: str
    quantity: int
    price: Decimal
    refunded: int = 0
    fulfilled: int = 0


@dataclass
class Order:
    id: int
    number: int
    email: str
    customer_id: int | None
    created: datetime
    lines: list[Line]
    shipping: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    tracking: list[tuple[str, str, str]] = field(default_factory=list)  # number, company, url
    #: Its fulfillment's displayStatus as the carrier's events left it ("" : FULFILLED), and when it was delivered.
    delivery: str = ""
    delivered: datetime | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    #: When a refund or a cancel last changed it (None: as placed).
    updated: datetime | None = None
    paid: bool = True
    #: The currency the customer paid in; amounts above are in it. ``shop_rate``: shop currency per unit of it.
    presentment: str = CURRENCY
    shop_rate: Decimal = Decimal("1")

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def total(self) -> Decimal:
        return sum((l.price * l.quantity for l in self.lines), Decimal("0")) + self.shipping - self.discount

    @property
    def refunded(self) -> Decimal:
        return sum((Decimal(r["amount"]) for r in self.refunds), Decimal("0"))


@dataclass
class Customer:
    id: int
    first: str
    last: str
    email: str
    phone: str | None
    created: datetime
    address: dict[str, str] | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass
class Shop:
    domain: str = SHOP
    name: str = "Summit Outfitters (sandbox)"
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    discounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 9000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


def _address(line1: str, city: str, province: str, zip_code: str, phone: str) -> dict[str, str]:
    return {
        "address1": line1,
        "address2": "",
        "city": city,
        "provinceCode": province,
        "zip": zip_code,
        "countryCodeV2": "US",
        "company": "",
        "phone": phone,
    }


def _people() -> list[Customer]:
    return [
        Customer(
            7001,
            "Jane",
            "Smith",
            "jane.smith@example.com",
            "+14155550101",
            BASE - timedelta(days=500),
            _address("12 Market St", "San Francisco", "CA", "94105", "+14155550101"),
            ["vip", "newsletter"],
            "Prefers email.",
        ),
        Customer(
            7002,
            "John",
            "Doe",
            "john.doe@example.com",
            "+14155550102",
            BASE - timedelta(days=400),
            _address("40 Oak Ave", "Oakland", "CA", "94607", "+14155550102"),
        ),
        Customer(
            7003,
            "Priya",
            "Patel",
            "priya.patel@example.com",
            "+12125550199",
            BASE - timedelta(days=300),
            _address("5 Hudson Yards", "New York", "NY", "10001", "+12125550199"),
            ["wholesale"],
        ),
        Customer(7004, "Nia", "Noorders", "no.orders.shopify@example.com", None, BASE - timedelta(days=30)),
        Customer(7005, "Élise", "Martin", "elise.martin@example.com", None, BASE - timedelta(days=60)),
    ]


Product = tuple[str, str, Decimal]  # name, SKU, price
SHOE: Product = ("Trail Runner Shoe", "TR-SHOE-42", Decimal("89.95"))
SOCK: Product = ("Merino Hiking Sock", "MER-SOCK-M", Decimal("14.50"))
JACKET: Product = ("Waterproof Shell Jacket", "SHELL-JKT-L", Decimal("179.00"))
PACK: Product = ("Daypack 22L", "PACK-22", Decimal("74.50"))
BOTTLE: Product = ("Insulated Bottle 750ml", "BOTTLE-750", Decimal("32.00"))
LANTERN: Product = ("Camp Lantern", "MH-LAMP", Decimal("39.50"))


def _order(
    shop: Shop, oid: int, number: int, email: str, customer: int | None, days: int, lines: list[tuple[Product, int]], **kw: Any
) -> Order:
    o = Order(
        oid,
        number,
        email,
        customer,
        BASE - timedelta(days=days),
        [Line(oid * 10 + n, name, sku, qty, price) for n, ((name, sku, price), qty) in enumerate(lines, 1)],
        **kw,
    )
    shop.orders[oid] = o
    return o


def _janes_first_order(shop: Shop) -> None:
    """#1001: fulfilled, one shoe refunded and returned (too small)."""
    o1 = _order(
        shop,
        5101,
        1001,
        "jane.smith@example.com",
        7001,
        40,
        [(SHOE, 1), (SOCK, 3)],
        shipping=Decimal("5.00"),
        tracking=[("1Z999AA10123456784", "UPS", "https://www.ups.com/track?tracknum=1Z999AA10123456784")],
    )
    for line in o1.lines:
        line.fulfilled = line.quantity
    o1.delivery, o1.delivered = "DELIVERED", o1.created + timedelta(days=3)
    o1.lines[0].refunded = 1
    o1.refunds.append(
        {"id": 8101, "created": iso(BASE - timedelta(days=30)), "amount": "89.95", "note": "Too small", "lines": [(o1.lines[0].id, 1)]}
    )
    o1.returns.append({"id": 8201, "name": "#1001-R1", "status": "CLOSED", "lines": [(o1.lines[0].id, 1, "SIZE_TOO_SMALL", "Too small")]})


def _generated(shop: Shop, count: int) -> None:
    """Volume: the generated customers of the other sandboxes, 12 orders each (more than the 10 most recent, so sorting matters)."""
    number, oid = 2000, 6000
    for n in range(1, count + 1):
        cid = 7100 + n
        shop.customers[cid] = Customer(
            cid,
            f"Customer{n:02d}",
            "Demo",
            f"customer{n:02d}@example.com",
            f"+1646555{n:04d}",
            BASE - timedelta(days=n),
            _address(f"{n} Broadway", "New York", "NY", "10012", f"+1646555{n:04d}"),
        )
        for k in range(12):
            number, oid = number + 1, oid + 1
            _order(
                shop,
                oid,
                number,
                f"customer{n:02d}@example.com",
                cid,
                200 - k * 7 - n % 5,
                [((PACK, SHOE, BOTTLE)[(n + k) % 3], 1 + k % 2)],
            )


def build_shop(generated: int = 12) -> Shop:
    shop = Shop()
    for c in _people():
        shop.customers[c.id] = c
    _janes_first_order(shop)
    _order(shop, 5102, 1002, "jane.smith@example.com", 7001, 10, [(JACKET, 1)])
    o3 = _order(
        shop,
        5103,
        1003,
        "john.doe@example.com",
        7002,
        20,
        [(PACK, 1), (BOTTLE, 1)],
        tracking=[("9400110200881234567890", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400110200881234567890")],
    )
    o3.lines[0].fulfilled = 1
    o3.delivery = "IN_TRANSIT"
    _order(shop, 5104, 1004, "priya.patel@example.com", 7003, 5, [(BOTTLE, 2)], discount=Decimal("6.40"))
    _order(shop, 5105, 1005, "mo.gento@example.com", None, 15, [(LANTERN, 1)])
    _order(shop, 5106, 1006, "jane.smith@example.com", None, 2, [(SOCK, 2)])
    # Paid in euros on this US-dollar shop (Shopify Markets): refunded only in EUR, named in RefundInput.currency.
    _order(
        shop,
        5107,
        1007,
        "elise.martin@example.com",
        7005,
        8,
        [(("Waterproof Shell Jacket", "SHELL-JKT-L", Decimal("165.00")), 1), (("Merino Hiking Sock", "MER-SOCK-M", Decimal("13.50")), 2)],
        shipping=Decimal("9.00"),
        presentment="EUR",
        shop_rate=Decimal("1.0850"),
    )
    _generated(shop, generated)
    return shop


def copy_shop(shop: Shop) -> Shop:
    return copy.deepcopy(shop)
