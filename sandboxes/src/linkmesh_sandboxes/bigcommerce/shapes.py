"""BigCommerce's document shapes, as its V2 and V3 APIs answer them: customers, addresses,
orders with their products, shipments, and the store's own record. ``data`` fills them with
the demo cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

STATUSES = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}


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
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)


def customer_group(group_id: int, name: str) -> dict[str, Any]:
    """A customer group as ``GET /v2/customer_groups/{id}`` answers it (customerGroup_Full), without
    discount rules (the reference's ``oneOf`` of four arrays any rule list matches several of)."""
    return {
        "id": group_id,
        "name": name,
        "is_default": False,
        "category_access": {"type": "all"},
        "date_created": "2024-01-08 09:00:00",
        "date_modified": "2024-01-08 09:00:00",
        "is_group_for_guests": False,
    }


def address(cid: int, first: str, last: str, line1: str, city: str, state: str, zip_: str, phone: str) -> dict[str, Any]:
    return {
        "id": cid * 10 + 1,
        "customer_id": cid,
        "first_name": first,
        "last_name": last,
        "company": "",
        "address1": line1,
        "address2": "",
        "city": city,
        "state_or_province": state,
        "postal_code": zip_,
        "country": "United States",
        "country_code": "US",
        "phone": phone,
        "address_type": "residential",
    }


def new_customer(
    cid: int, first: str, last: str, email: str, phone: str, created: datetime, address: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": cid,
        "email": email,
        "first_name": first,
        "last_name": last,
        "company": "",
        "phone": phone,
        "registration_ip_address": "",
        "notes": "",
        "tax_exempt_category": "",
        "customer_group_id": 0,
        "date_created": iso(created),
        "date_modified": iso(created + timedelta(days=3)),
        "address_count": 1 if address else 0,
        "attribute_count": 0,
        "authentication": {"force_password_reset": False},
        "addresses": [address] if address else [],
        "accepts_product_review_abandoned_cart_emails": False,
        "origin_channel_id": 1,
        "channel_ids": [1],
    }


def billing(c: dict[str, Any]) -> dict[str, Any]:
    a = c["addresses"][0] if c["addresses"] else {}
    return {
        "first_name": c["first_name"],
        "last_name": c["last_name"],
        "company": "",
        "street_1": a.get("address1", ""),
        "street_2": "",
        "city": a.get("city", ""),
        "state": a.get("state_or_province", ""),
        "zip": a.get("postal_code", ""),
        "country": "United States",
        "country_iso2": "US",
        "phone": c["phone"],
        "email": c["email"],
        "form_fields": [],
    }


ZERO_MONEY_FIELDS = (
    "subtotal_tax",
    "base_shipping_cost",
    "shipping_cost_ex_tax",
    "shipping_cost_inc_tax",
    "shipping_cost_tax",
    "base_handling_cost",
    "handling_cost_ex_tax",
    "handling_cost_inc_tax",
    "handling_cost_tax",
    "base_wrapping_cost",
    "wrapping_cost_ex_tax",
    "wrapping_cost_inc_tax",
    "wrapping_cost_tax",
    "total_tax",
    "refunded_amount",
    "store_credit_amount",
    "gift_certificate_amount",
    "coupon_discount",
)
# What every demo order says alike (one currency, one channel, no tax).
ORDER_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(ZERO_MONEY_FIELDS, "0.0000"),
    "shipping_cost_tax_class_id": 2,
    "handling_cost_tax_class_id": 2,
    "wrapping_cost_tax_class_id": 3,
    "payment_method": "Credit Card",
    "payment_provider_id": "",
    "payment_status": "captured",
    "order_is_digital": False,
    "ip_address": "",
    "ip_address_v6": "",
    "geoip_country": "",
    "geoip_country_iso2": "",
    "currency_id": 1,
    "currency_code": "USD",
    "currency_exchange_rate": "1.0000000000",
    "default_currency_id": 1,
    "default_currency_code": "USD",
    "store_default_currency_code": "USD",
    "store_default_to_transactional_exchange_rate": "1.0000000000",
    "staff_notes": "",
    "customer_message": "",
    "shipping_address_count": 1,
    "is_deleted": False,
    "ebay_order_id": "0",
    "cart_id": "",
    "is_email_opt_in": False,
    "order_source": "www",
    "channel_id": 1,
    "external_source": "",
    "external_id": "",
    "external_merchant_id": "",
    "tax_provider_id": "",
    "customer_locale": "en",
    "is_tax_inclusive_pricing": False,
}


def order_product(oid: int, n: int, product: dict[str, Any], qty: int, shipped: bool) -> dict[str, Any]:
    price = float(product["price"])
    return {
        "id": oid * 100 + n,
        "order_id": oid,
        "product_id": product["id"],
        "order_address_id": oid * 10,
        "name": product["name"],
        "sku": product["sku"],
        "type": "physical",
        "base_price": money(price),
        "price_ex_tax": money(price),
        "price_inc_tax": money(price),
        "price_tax": money(0),
        "base_total": money(price * qty),
        "total_ex_tax": money(price * qty),
        "total_inc_tax": money(price * qty),
        "total_tax": money(0),
        "quantity": qty,
        "is_refunded": False,
        "quantity_refunded": 0,
        "refund_amount": money(0),
        "quantity_shipped": qty if shipped else 0,
        "applied_discounts": [],
        "product_options": [],
        "configurable_fields": [],
        "variant_id": product["id"] * 10,
        "brand": "Summit",
    }


def order(
    store_hash: str,
    oid: int,
    customer: dict[str, Any],
    created: datetime,
    products: list[dict[str, Any]],
    status_id: int,
    discount: str,
    shipped_at: datetime | None,
) -> dict[str, Any]:
    base = f"https://api.bigcommerce.com/stores/{store_hash}/v2/orders/{oid}"
    subtotal = sum(float(p["total_inc_tax"]) for p in products)
    total = subtotal - float(discount)
    return {
        **ORDER_CONSTANTS,
        "id": oid,
        "customer_id": customer["id"],
        "date_created": rfc2822(created),
        "date_modified": rfc2822(created + timedelta(days=2)),
        "date_shipped": rfc2822(shipped_at) if shipped_at else "",
        "status_id": status_id,
        "status": STATUSES[status_id],
        "subtotal_ex_tax": money(subtotal),
        "subtotal_inc_tax": money(subtotal),
        "total_ex_tax": money(total),
        "total_inc_tax": money(total),
        "items_total": sum(p["quantity"] for p in products),
        "items_shipped": sum(p["quantity_shipped"] for p in products),
        "discount_amount": money(discount),
        "billing_address": billing(customer),
        "products": {"url": f"{base}/products", "resource": f"/orders/{oid}/products"},
        "shipping_addresses": {"url": f"{base}/shipping_addresses", "resource": f"/orders/{oid}/shipping_addresses"},
        "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{oid}/coupons"},
    }


def consignments(order: dict[str, Any], line_items: list[dict[str, Any]]) -> dict[str, Any]:
    """An order's consignments in the object structure (``orderConsignment_Get``): the
    sandbox's orders ship to one address, the billing one, in one shipping consignment."""
    address = {k: v for k, v in order["billing_address"].items() if k != "form_fields"}
    shipping = {
        "id": order["id"] * 10,  # the lines' order_address_id
        **address,
        "form_fields": [],
        "shipping_method": "Flat Rate",
        "line_items": line_items,
        "items_total": order["items_total"],
        "items_shipped": order["items_shipped"],
        "base_cost": order.get("base_shipping_cost", "0.0000"),
        "cost_ex_tax": order.get("shipping_cost_ex_tax", "0.0000"),
        "cost_inc_tax": order.get("shipping_cost_inc_tax", "0.0000"),
        "shipping_zone_id": 1,
        "shipping_zone_name": "United States",
    }
    return {"pickups": [], "shipping": [shipping], "downloads": [], "email": {"gift_certificates": []}}


def shipment(oid: int, n: int, customer: dict[str, Any], created: datetime, s: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": oid * 10 + n,
        "order_id": oid,
        "customer_id": customer["id"],
        "order_address_id": oid * 10,
        "date_created": rfc2822(created + timedelta(days=n)),
        "tracking_number": s["tracking_number"],
        "merchant_shipping_cost": money(0),
        "shipping_method": s["method"],
        "shipping_provider": s.get("provider", ""),
        "tracking_carrier": s.get("carrier", ""),
        "tracking_link": s.get("link", ""),
        "comments": "",
        "billing_address": billing(customer),
        "shipping_address": {**billing(customer), "country_iso2": "US"},
        "items": [{"order_product_id": oid * 100 + i, "product_id": pid, "quantity": qty} for i, (pid, qty) in enumerate(s["lines"], 1)],
        "shipping_provider_display_name": s.get("display", ""),
        "generated_tracking_link": s.get("generated", ""),
    }


def store_info(store_hash: str) -> dict[str, Any]:
    return {
        "id": store_hash,
        "account_uuid": "8d4d492f-17a1-4d95-b396-e1c5720815a5",
        "domain": "summit-outfitters.example",
        "secure_url": "https://summit-outfitters.example",
        "control_panel_base_url": f"https://store-{store_hash}.mybigcommerce.com",
        "status": "live",
        "name": "Summit Outfitters (sandbox)",
        "first_name": "Sam",
        "last_name": "Summit",
        "address": "1 Demo Way",
        "country": "United States",
        "country_code": "US",
        "phone": "415-555-0100",
        "admin_email": "admin@summit-outfitters.example",
        "order_email": "orders@summit-outfitters.example",
        "timezone": {"name": "America/Los_Angeles"},
        "language": "en",
        "currency": "USD",
        "currency_symbol": "$",
        "decimal_separator": ".",
        "thousands_separator": ",",
        "decimal_places": 2,
        "currency_symbol_location": "left",
        "weight_units": "LBS",
        "dimension_units": "Inches",
        "plan_name": "Standard",
        "plan_level": "Standard",
        "plan_is_trial": False,
        "industry": "Outdoor",
        "is_price_entered_with_tax": False,
        "store_id": 1001,
        "default_site_id": 1000,
        "default_channel_id": 1,
        "features": {},
    }
