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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

STORE_HASH = "demo1"
ACCESS_TOKEN = "demo-bigcommerce-token"
BASE = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)

STATUSES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
    6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
    11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}

PRODUCTS: list[dict[str, Any]] = [
    {"id": 111, "name": "Trail Runner Shoe", "sku": "TR-SHOE-42", "price": "89.9500", "url": "/trail-runner-shoe/"},
    {"id": 112, "name": "Merino Hiking Sock", "sku": "MER-SOCK-M", "price": "14.5000", "url": "/merino-hiking-sock/"},
    {"id": 113, "name": "Waterproof Shell Jacket", "sku": "SHELL-JKT-L", "price": "179.0000", "url": "/waterproof-shell-jacket/"},
    {"id": 114, "name": "Insulated Bottle 750ml", "sku": "BOTTLE-750", "price": "32.0000", "url": "/insulated-bottle-750ml/"},
    {"id": 115, "name": "Daypack 22L", "sku": "PACK-22", "price": "74.5000", "url": "/daypack-22l/"},
]


def rfc2822(dt: datetime) -> str:
    return format_datetime(dt)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: float | str) -> str:
    return f"{float(value):.4f}"


@dataclass
class Store:
    store_hash: str
    access_token: str
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    order_products: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    shipments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)


def _address(cid: int, first: str, last: str, line1: str, city: str, state: str, zip_: str, phone: str) -> dict[str, Any]:
    return {
        "id": cid * 10 + 1, "customer_id": cid, "first_name": first, "last_name": last, "company": "",
        "address1": line1, "address2": "", "city": city, "state_or_province": state, "postal_code": zip_,
        "country": "United States", "country_code": "US", "phone": phone, "address_type": "residential",
    }


def new_customer(cid: int, first: str, last: str, email: str, phone: str, created: datetime, address: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": cid, "email": email, "first_name": first, "last_name": last, "company": "", "phone": phone,
        "registration_ip_address": "", "notes": "", "tax_exempt_category": "", "customer_group_id": 0,
        "date_created": iso(created), "date_modified": iso(created + timedelta(days=3)),
        "address_count": 1 if address else 0, "attribute_count": 0,
        "authentication": {"force_password_reset": False},
        "addresses": [address] if address else [],
        "accepts_product_review_abandoned_cart_emails": False, "origin_channel_id": 1, "channel_ids": [1],
    }


def _billing(c: dict[str, Any]) -> dict[str, Any]:
    a = c["addresses"][0] if c["addresses"] else {}
    return {
        "first_name": c["first_name"], "last_name": c["last_name"], "company": "", "street_1": a.get("address1", ""),
        "street_2": "", "city": a.get("city", ""), "state": a.get("state_or_province", ""), "zip": a.get("postal_code", ""),
        "country": "United States", "country_iso2": "US", "phone": c["phone"], "email": c["email"], "form_fields": [],
    }


def add_order(store: Store, oid: int, c: dict[str, Any], created: datetime, lines: list[tuple[int, int]],
               status_id: int, discount: str = "0", shipments: list[dict[str, Any]] | None = None) -> None:
    base = f"https://api.bigcommerce.com/stores/{store.store_hash}/v2/orders/{oid}"
    products = []
    subtotal = 0.0
    for n, (pid, qty) in enumerate(lines, start=1):
        p = store.products[pid]
        price = float(p["price"])
        subtotal += price * qty
        products.append({
            "id": oid * 100 + n, "order_id": oid, "product_id": pid, "order_address_id": oid * 10, "name": p["name"],
            "sku": p["sku"], "type": "physical", "base_price": money(price), "price_ex_tax": money(price),
            "price_inc_tax": money(price), "price_tax": money(0), "base_total": money(price * qty),
            "total_ex_tax": money(price * qty), "total_inc_tax": money(price * qty), "total_tax": money(0),
            "quantity": qty, "is_refunded": False, "quantity_refunded": 0, "refund_amount": money(0),
            "quantity_shipped": qty if status_id in (2, 10) else 0, "applied_discounts": [], "product_options": [],
            "configurable_fields": [], "variant_id": pid * 10, "brand": "Summit",
        })
    total = subtotal - float(discount)
    shipped = sum(p["quantity_shipped"] for p in products)
    store.orders[oid] = {
        "id": oid, "customer_id": c["id"], "date_created": rfc2822(created), "date_modified": rfc2822(created + timedelta(days=2)),
        "date_shipped": rfc2822(created + timedelta(days=1)) if shipments else "", "status_id": status_id,
        "status": STATUSES[status_id], "subtotal_ex_tax": money(subtotal), "subtotal_inc_tax": money(subtotal),
        "subtotal_tax": money(0), "base_shipping_cost": money(0), "shipping_cost_ex_tax": money(0),
        "shipping_cost_inc_tax": money(0), "shipping_cost_tax": money(0), "shipping_cost_tax_class_id": 2,
        "base_handling_cost": money(0), "handling_cost_ex_tax": money(0), "handling_cost_inc_tax": money(0),
        "handling_cost_tax": money(0), "handling_cost_tax_class_id": 2, "base_wrapping_cost": money(0),
        "wrapping_cost_ex_tax": money(0), "wrapping_cost_inc_tax": money(0), "wrapping_cost_tax": money(0),
        "wrapping_cost_tax_class_id": 3, "total_ex_tax": money(total), "total_inc_tax": money(total), "total_tax": money(0),
        "items_total": sum(q for _, q in lines), "items_shipped": shipped, "payment_method": "Credit Card",
        "payment_provider_id": "", "payment_status": "captured", "refunded_amount": money(0), "order_is_digital": False,
        "store_credit_amount": money(0), "gift_certificate_amount": money(0), "ip_address": "", "ip_address_v6": "",
        "geoip_country": "", "geoip_country_iso2": "", "currency_id": 1, "currency_code": "USD",
        "currency_exchange_rate": "1.0000000000", "default_currency_id": 1, "default_currency_code": "USD",
        "store_default_currency_code": "USD", "store_default_to_transactional_exchange_rate": "1.0000000000",
        "staff_notes": "", "customer_message": "", "discount_amount": money(discount), "coupon_discount": money(0),
        "shipping_address_count": 1, "is_deleted": False, "ebay_order_id": "0", "cart_id": "",
        "billing_address": _billing(c), "is_email_opt_in": False, "order_source": "www", "channel_id": 1,
        "external_source": "", "external_id": "", "external_merchant_id": "", "tax_provider_id": "",
        "customer_locale": "en", "is_tax_inclusive_pricing": False,
        "products": {"url": f"{base}/products", "resource": f"/orders/{oid}/products"},
        "shipping_addresses": {"url": f"{base}/shipping_addresses", "resource": f"/orders/{oid}/shipping_addresses"},
        "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{oid}/coupons"},
    }
    store.order_products[oid] = products
    store.shipments[oid] = []
    for n, s in enumerate(shipments or [], start=1):
        store.shipments[oid].append({
            "id": oid * 10 + n, "order_id": oid, "customer_id": c["id"], "order_address_id": oid * 10,
            "date_created": rfc2822(created + timedelta(days=n)), "tracking_number": s["tracking_number"],
            "merchant_shipping_cost": money(0), "shipping_method": s["method"], "shipping_provider": s.get("provider", ""),
            "tracking_carrier": s.get("carrier", ""), "tracking_link": s.get("link", ""), "comments": "",
            "billing_address": _billing(c), "shipping_address": {**_billing(c), "country_iso2": "US"},
            "items": [{"order_product_id": oid * 100 + i, "product_id": pid, "quantity": qty} for i, (pid, qty) in enumerate(s["lines"], 1)],
            "shipping_provider_display_name": s.get("display", ""),
            "generated_tracking_link": s.get("generated", ""),
        })


def build_store(store_hash: str = STORE_HASH, access_token: str = ACCESS_TOKEN, generated: int = 40) -> Store:
    store = Store(store_hash, access_token)
    store.products = {p["id"]: copy.deepcopy(p) for p in PRODUCTS}
    store.info = {
        "id": store_hash, "account_uuid": "8d4d492f-17a1-4d95-b396-e1c5720815a5", "domain": "summit-outfitters.example",
        "secure_url": "https://summit-outfitters.example",
        "control_panel_base_url": f"https://store-{store_hash}.mybigcommerce.com", "status": "live",
        "name": "Summit Outfitters (sandbox)", "first_name": "Sam", "last_name": "Summit", "address": "1 Demo Way",
        "country": "United States", "country_code": "US", "phone": "415-555-0100", "admin_email": "admin@summit-outfitters.example",
        "order_email": "orders@summit-outfitters.example", "timezone": {"name": "America/Los_Angeles"},
        "language": "en", "currency": "USD", "currency_symbol": "$", "decimal_separator": ".",
        "thousands_separator": ",", "decimal_places": 2, "currency_symbol_location": "left",
        "weight_units": "LBS", "dimension_units": "Inches", "plan_name": "Standard", "plan_level": "Standard",
        "plan_is_trial": False, "industry": "Outdoor", "is_price_entered_with_tax": False,
        "store_id": 1001, "default_site_id": 1000, "default_channel_id": 1, "features": {},
    }
    fixed = [
        (101, "Jane", "Smith", "jane.smith@example.com", "+1 415-555-0101", ("12 Market St", "San Francisco", "California", "94105")),
        (102, "John", "Doe", "john.doe@example.com", "415-555-0102", ("40 Oak Ave", "Oakland", "California", "94607")),
        (103, "Joan", "Doe", "joan.doe@example.com", "415-555-0102", ("40 Oak Ave", "Oakland", "California", "94607")),
        (104, "Noah", "Nolan", "no.orders@example.com", "+14155550104", None),
        (105, "Priya", "Patel", "priya.patel@example.com", "(212) 555-0199", ("5 Hudson Yards", "New York", "New York", "10001")),
    ]
    for i, (cid, first, last, email, phone, addr) in enumerate(fixed):
        address = _address(cid, first, last, *addr, phone) if addr else None
        store.customers[cid] = new_customer(cid, first, last, email, phone, BASE - timedelta(days=400 - i * 30), address)
    c = store.customers
    c[101].update(company="Acme Outdoor", customer_group_id=2)
    add_order(store, 5001, c[101], BASE + timedelta(days=10), [(111, 1), (112, 3)], 10, discount="5.00",
               shipments=[{"tracking_number": "1Z999AA10123456784", "method": "UPS Ground", "provider": "ups", "carrier": "ups",
                           "generated": "https://www.ups.com/track?tracknum=1Z999AA10123456784", "display": "UPS", "lines": [(111, 1), (112, 3)]}])
    add_order(store, 5002, c[101], BASE + timedelta(days=40), [(113, 1), (114, 2), (115, 1)], 2,
               shipments=[
                   {"tracking_number": "9400110200881234567890", "method": "USPS Priority", "provider": "usps", "carrier": "usps",
                    "generated": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400110200881234567890", "display": "USPS", "lines": [(113, 1)]},
                   {"tracking_number": "776600112233", "method": "FedEx Home", "provider": "fedex", "carrier": "fedex",
                    "link": "https://www.fedex.com/fedextrack/?trknbr=776600112233", "display": "FedEx", "lines": [(114, 2)]},
                   {"tracking_number": "1Z999AA10123456799", "method": "UPS Ground", "provider": "ups", "carrier": "ups",
                    "display": "UPS", "lines": [(115, 1)]},
               ])
    add_order(store, 5003, c[101], BASE + timedelta(days=70), [(114, 1)], 11)
    add_order(store, 5004, c[102], BASE + timedelta(days=20), [(115, 1)], 2,
               shipments=[{"tracking_number": "1Z999AA10123450001", "method": "UPS Ground", "provider": "ups", "carrier": "ups", "lines": [(115, 1)]}])
    add_order(store, 5005, c[103], BASE + timedelta(days=25), [(112, 2)], 11)
    add_order(store, 5006, c[105], BASE + timedelta(days=30), [(113, 1)], 10, discount="20.00",
               shipments=[{"tracking_number": "1Z999AA10123450002", "method": "UPS Next Day", "provider": "ups", "carrier": "ups", "lines": [(113, 1)]}])
    # John Doe also checked out once as a guest: the order has no customer (customer_id 0), only his billing email.
    add_order(store, 5007, {**c[102], "id": 0}, BASE + timedelta(days=35), [(114, 1)], 11)
    oid = 6000
    for n in range(1, generated + 1):
        cid = 1000 + n
        phone = f"+1 646-555-{n:04d}"
        store.customers[cid] = new_customer(cid, f"Customer{n:02d}", "Demo", f"customer{n:02d}@example.com", phone,
                                         BASE - timedelta(days=n), _address(cid, f"Customer{n:02d}", "Demo", f"{n} Broadway", "New York", "New York", "10012", phone))
        for k in range(12):  # more than the 10 most recent, so paging and sorting matter
            oid += 1
            lines = [(PRODUCTS[(n + k) % len(PRODUCTS)]["id"], 1 + k % 3)]
            add_order(store, oid, store.customers[cid], BASE + timedelta(days=k * 7 + n % 5), lines, 10 if k % 2 else 11,
                       shipments=[{"tracking_number": f"1ZGEN{oid:010d}", "method": "UPS Ground", "provider": "ups", "carrier": "ups", "lines": lines}] if k % 2 else None)
    return store
