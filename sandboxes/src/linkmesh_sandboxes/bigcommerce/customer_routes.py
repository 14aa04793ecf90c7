"""``/v3/customers``: search, create and update in batches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.bigcommerce import hooks
from linkmesh_sandboxes.bigcommerce.data import iso, new_customer
from linkmesh_sandboxes.bigcommerce.http import Invalid, csv_param, error_response, invalid, meta, store_of, v3_list_query


async def get_customers(request: web.Request) -> web.Response:
    store = store_of(request)
    try:
        page, limit, id_set = v3_list_query(request)
    except Invalid as exc:
        return invalid(request, exc)
    emails = csv_param(request, "email:in")
    phones = csv_param(request, "phone:in")
    includes = set(csv_param(request, "include") or [])
    unknown = includes - {"addresses", "storecredit", "attributes", "formfields", "shopper_profile_id", "segment_ids"}
    if unknown:
        return invalid(request, Invalid("include", f"unknown include value(s): {', '.join(sorted(unknown))}"))
    matched = []
    for c in store.customers.values():
        if id_set is not None and c["id"] not in id_set:
            continue
        # BigCommerce compares emails case-insensitively and phones as stored strings.
        if emails is not None and c["email"].lower() not in {e.lower() for e in emails}:
            continue
        if phones is not None and c["phone"] not in phones:
            continue
        matched.append(c)
    matched.sort(key=lambda c: c["id"])
    window = matched[(page - 1) * limit : page * limit]
    data = []
    for c in window:
        item = {k: v for k, v in c.items() if k != "addresses"}
        if "addresses" in includes:
            item["addresses"] = c["addresses"]
        data.append(item)
    return web.json_response({"data": data, "meta": meta(len(matched), page, limit, request.path)})


WRITABLE = ("email", "first_name", "last_name", "company", "phone", "notes", "customer_group_id")


async def _customer_batch(request: web.Request) -> list[dict[str, Any]] | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return error_response(request, 400, "The request body is not valid JSON.")
    if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
        return error_response(request, 422, "The request body must be an array of customers.")
    if len(body) > 10:
        return error_response(request, 413, "The maximum number of items allowed in the array is 10.")
    return body


def _address_from(cid: int, a: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "id": cid * 10 + n,
        "customer_id": cid,
        "first_name": a.get("first_name", ""),
        "last_name": a.get("last_name", ""),
        "company": a.get("company", ""),
        "address1": a.get("address1", ""),
        "address2": a.get("address2", ""),
        "city": a.get("city", ""),
        "state_or_province": a.get("state_or_province", ""),
        "postal_code": a.get("postal_code", ""),
        "country": a.get("country", ""),
        "country_code": a.get("country_code", ""),
        "phone": a.get("phone", ""),
        "address_type": a.get("address_type", "residential"),
    }


async def create_customers(request: web.Request) -> web.Response:
    """``POST /v3/customers``: email, first_name and last_name are required; emails are unique per store."""
    store = store_of(request)
    body = await _customer_batch(request)
    if isinstance(body, web.Response):
        return body
    errors: dict[str, str] = {}
    taken = {c["email"].lower() for c in store.customers.values()}
    for i, item in enumerate(body):
        for field in ("email", "first_name", "last_name"):
            if not isinstance(item.get(field), str) or not item[field].strip():
                errors[f"[{i}].{field}"] = f"{field} is required"
        if isinstance(item.get("email"), str) and item["email"].lower() in taken:
            errors[f"[{i}].email"] = f"The email address {item['email']} is already in use."
    if errors:
        return error_response(request, 422, "Create customers failed.", errors)
    created = []
    for item in body:
        cid = max(store.customers) + 1
        customer = new_customer(cid, item["first_name"], item["last_name"], item["email"], item.get("phone", ""), datetime.now(UTC), None)
        customer.update({k: item[k] for k in ("company", "notes", "customer_group_id") if k in item})
        customer["addresses"] = [_address_from(cid, a, n) for n, a in enumerate(item.get("addresses") or [], start=1)]
        customer["address_count"] = len(customer["addresses"])
        customer["date_modified"] = iso(datetime.now(UTC))
        store.customers[cid] = customer
        created.append(customer)
    return web.json_response({"data": created, "meta": {}})


async def update_customers(request: web.Request) -> web.Response:
    """``PUT /v3/customers``: each item names the customer by ``id``."""
    store = store_of(request)
    body = await _customer_batch(request)
    if isinstance(body, web.Response):
        return body
    errors = {
        f"[{i}].id": "id is required and must name an existing customer"
        for i, item in enumerate(body)
        if item.get("id") not in store.customers
    }
    if errors:
        return error_response(request, 422, "Update customers failed.", errors)
    updated = []
    for item in body:
        customer = store.customers[item["id"]]
        customer.update({k: v for k, v in item.items() if k in WRITABLE})
        if "addresses" in item:
            customer["addresses"] = [_address_from(customer["id"], a, n) for n, a in enumerate(item["addresses"] or [], start=1)]
            customer["address_count"] = len(customer["addresses"])
        updated.append({k: v for k, v in customer.items() if k != "addresses"})
        hooks.emit(request, "store/customer/updated", {"type": "customer", "id": customer["id"]})
    return web.json_response({"data": updated, "meta": {}})
