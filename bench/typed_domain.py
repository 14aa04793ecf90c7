"""What the typed domain costs on the hot path: an app read from its document once (by the app
cache, when the apps change) against reading the document's fields on every request.

Prints, per operation, the time of the typed way as a ratio to the raw document's in the same
run: building an ``App`` from its document (paid once per app per reload of the cache), and
what a request reads of an app (id, name, type, active, the fields it searches by).

Run: ``python bench/typed_domain.py`` (no services, no database).
"""

from __future__ import annotations

import timeit
from typing import Any

from bson import ObjectId

from linkmesh_profile.db.documents import customer_to_proto
from linkmesh_profile.model.app import App
from linkmesh_profile.model.customer import Customer

DOC: dict[str, Any] = {
    "_id": ObjectId(),
    "type": "bigcommerce",
    "name": "Summit Outfitters",
    "active": True,
    "settings": {"store_hash": "demo1", "api_base_url": "https://api.bigcommerce.com"},
    "secrets": {"access_token": "gAAAA-encrypted"},
    "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
    "search_result_attributes": [{"attribute": "name", "label": "Name"}, {"attribute": "email", "label": "Email"}],
    "auto_link_fields": ["email"],
    "overwrite_existing_values": False,
    "actions_enabled": True,
}


def raw_request_reads(doc: dict[str, Any]) -> tuple[Any, ...]:
    return (
        str(doc["_id"]),
        doc["name"],
        doc["type"],
        doc.get("active", True),
        {a["attribute"] for a in doc.get("search_query_attributes", [])},
        bool(doc.get("actions_enabled")),
    )


def typed_request_reads(app: App) -> tuple[Any, ...]:
    return (app.id, app.name, app.type, app.active, app.searches_by, app.actions_enabled)


def customer_doc(links: int = 5, orders: int = 20) -> dict[str, Any]:
    """A customer linked to ``links`` systems, each with ``orders`` orders (the fullest demo customer's shape)."""
    order = {
        "id": "5001",
        "number": "5001",
        "status": "Shipped",
        "total": {"amount": "179.00", "currency": "USD"},
        "lines": [],
        "shipments": [],
    }
    data = {"external_id": "101", "name": "Jane Smith", "emails": ["jane@example.com"], "orders": [dict(order) for _ in range(orders)]}
    return {
        "_id": ObjectId(),
        "name": "Jane Smith",
        "emails": ["jane@example.com"],
        "phones": ["+15555550123"],
        "address": {"line1": "1 Main St", "city": "Austin", "country_code": "US"},
        "custom_attributes": {"tier": "gold"},
        "field_sources": {"name": "a0"},
        "attribute_sources": {"tier": "a0"},
        "links": {f"a{i}": {"external_customer_id": "101", "app_type": "bigcommerce", "data": data} for i in range(links)},
        "link_keys": [f"a{i}:101" for i in range(links)],
        "unlinked_apps": [],
        "links_version": 3,
    }


def raw_customer_reads(doc: dict[str, Any]) -> tuple[Any, ...]:
    links = doc.get("links") or {}
    return (
        str(doc["_id"]),
        doc.get("emails", []),
        doc.get("phones", []),
        set(links),
        [link["external_customer_id"] for link in links.values()],
    )


def typed_customer_reads(customer: Customer) -> tuple[Any, ...]:
    return (
        customer.id,
        customer.emails,
        customer.phones,
        set(customer.links),
        [link.external_customer_id for link in customer.links.values()],
    )


def per_call(stmt: Any, number: int = 200_000) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number


def main() -> None:
    app = App.from_doc(DOC)
    copy = per_call(lambda: dict(DOC), 100_000)
    build = per_call(lambda: App.from_doc(DOC), 100_000)
    raw = per_call(lambda: raw_request_reads(DOC))
    typed = per_call(lambda: typed_request_reads(app))
    print("typed domain (model.app.App, a frozen dataclass with slots) against the raw document")
    print(
        f"  read from the document once per cache reload: App.from_doc {build * 1e6:6.2f} µs, "
        f"{build / copy:5.2f}x a shallow dict copy ({copy * 1e6:.2f} µs)"
    )
    print(f"  what a request reads of an app:  typed {typed * 1e6:6.3f} µs, raw {raw * 1e6:6.3f} µs: {typed / raw:5.2f}x")
    doc = customer_doc()
    customer = Customer.from_doc(doc)
    build = per_call(lambda: Customer.from_doc(doc), 20_000)
    proto = per_call(lambda: customer_to_proto(customer, {}), 200)
    raw = per_call(lambda: raw_customer_reads(doc), 100_000)
    typed = per_call(lambda: typed_customer_reads(customer), 100_000)
    print("typed domain (model.customer.Customer; 5 links of 20 orders each, their data kept as read) against the raw document")
    print(
        f"  read once per database read: Customer.from_doc {build * 1e6:6.2f} µs, "
        f"{build / proto:6.3f}x of turning it into the API's message ({proto * 1e6:.0f} µs), which a profile answer pays anyway"
    )
    print(f"  what a contact reads of a customer:  typed {typed * 1e6:6.3f} µs, raw {raw * 1e6:6.3f} µs: {typed / raw:5.2f}x")


if __name__ == "__main__":
    main()
