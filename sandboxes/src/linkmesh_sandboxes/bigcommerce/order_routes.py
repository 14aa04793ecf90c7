"""``/v2/orders`` and their products and shipments, ``/v3/catalog/products``, and an order's status change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.bigcommerce import data, hooks
from linkmesh_sandboxes.bigcommerce.data import STATUSES, rfc2822
from linkmesh_sandboxes.bigcommerce.http import (
    Invalid,
    csv_param,
    error_response,
    int_param,
    invalid,
    json_body,
    meta,
    store_of,
    v2_page,
    v3_list_query,
)
from linkmesh_sandboxes.bigcommerce.shapes import consignments


def _order_sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    if field in ("date_created", "date_modified"):
        return lambda o: parsedate_to_datetime(o[field])
    return lambda o: o[field]


async def get_orders(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    try:
        page, limit = int_param(request, "page", 1, 1, 10_000), int_param(request, "limit", 50)
        customer_id = int_param(request, "customer_id", 0, 0, 2**31) if "customer_id" in request.query else None
        status_id = int_param(request, "status_id", 0, 0, 20) if "status_id" in request.query else None
        min_id = int_param(request, "min_id", 0, 0, 2**31)
        max_id = int_param(request, "max_id", 2**31, 0, 2**31)
    except Invalid as exc:
        return invalid(request, exc)
    sort = request.query.get("sort", "id:asc")
    field, _, direction = sort.partition(":")
    if field not in {"id", "customer_id", "date_created", "date_modified", "status_id", "channel_id", "external_id"} or direction not in (
        "",
        "asc",
        "desc",
    ):
        return error_response(request, 400, f"The sort field '{sort}' is invalid.")
    email = request.query.get("email")
    try:
        modified_after = _when(request.query.get("min_date_modified", ""))
    except ValueError:
        return error_response(request, 400, "The field 'min_date_modified' is invalid.")
    orders = [
        o
        for o in store.orders.values()
        if (customer_id is None or o["customer_id"] == customer_id)
        and (status_id is None or o["status_id"] == status_id)
        and (email is None or o["billing_address"]["email"].lower() == email.lower())
        and min_id <= o["id"] <= max_id
        and (modified_after is None or parsedate_to_datetime(o["date_modified"]) >= modified_after)
    ]
    orders.sort(key=_order_sort_key(field), reverse=direction == "desc")
    window = orders[(page - 1) * limit : page * limit]
    if not window:
        return web.Response(status=204)
    return web.json_response([with_includes(request, o) for o in window])


def with_includes(request: web.Request, order: dict[str, Any]) -> dict[str, Any]:
    """The order with what ``include`` asks for: ``consignments`` (each consignment's line
    items as links) or ``consignments.line_items`` (as ``/products`` answers them), in the object
    structure when ``consignment_structure=object`` is given (else the consignments' link)."""
    include = set(csv_param(request, "include") or ())
    if not include & {"consignments", "consignments.line_items"}:
        return order
    base = order["products"]["url"].rsplit("/products", 1)[0]
    if request.query.get("consignment_structure") != "object":
        return {**order, "consignments": {"url": f"{base}/consignments", "resource": f"/orders/{order['id']}/consignments"}}
    lines = store_of(request).order_products[order["id"]]
    items = (
        lines
        if "consignments.line_items" in include
        else [{"url": f"{base}/products/{p['id']}", "resource": f"/orders/{order['id']}/products/{p['id']}"} for p in lines]
    )
    return {**order, "consignments": consignments(order, items)}


def _when(text: str) -> datetime | None:
    """A date the V2 filters take (RFC 2822 or ISO 8601); None when absent; ValueError when neither."""
    if not text:
        return None
    for parse in (parsedate_to_datetime, lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))):
        try:
            when = parse(text)
        except (TypeError, ValueError):
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    raise ValueError(text)


def order_or_404(request: web.Request) -> dict[str, Any] | web.Response:
    store = store_of(request)
    try:
        oid = int(request.match_info["order_id"])
    except ValueError:
        return error_response(request, 404, "The requested resource was not found.")
    order = store.orders.get(oid)
    if order is None:
        return error_response(request, 404, "The requested resource was not found.")
    return order


async def get_order(request: web.Request) -> web.Response:
    order = order_or_404(request)
    return order if isinstance(order, web.Response) else web.json_response(with_includes(request, order))


async def get_order_products(request: web.Request) -> web.StreamResponse:
    order = order_or_404(request)
    if isinstance(order, web.Response):
        return order
    return v2_page(request, store_of(request).order_products[order["id"]])


async def get_order_shipments(request: web.Request) -> web.StreamResponse:
    order = order_or_404(request)
    if isinstance(order, web.Response):
        return order
    return v2_page(request, store_of(request).shipments[order["id"]])


async def get_catalog_products(request: web.Request) -> web.Response:
    store = store_of(request)
    try:
        page, limit, id_set = v3_list_query(request)
    except Invalid as exc:
        return invalid(request, exc)
    fields = csv_param(request, "include_fields")
    matched = [p for p in sorted(store.products.values(), key=lambda p: p["id"]) if id_set is None or p["id"] in id_set]
    data = []
    for p in matched[(page - 1) * limit : page * limit]:
        full = {
            "id": p["id"],
            "name": p["name"],
            "type": "physical",
            "sku": p["sku"],
            "price": float(p["price"]),
            "weight": 1,
            "is_visible": True,
            "custom_url": {"url": p["url"], "is_customized": False},
        }
        data.append({k: v for k, v in full.items() if fields is None or k in fields or k == "id"})
    return web.json_response({"data": data, "meta": meta(len(matched), page, limit, request.path)})


STATUS_NAMES = STATUSES  # the names BigCommerce gives each status id


NOT_REFUNDABLE = {0, 5, 6}


async def update_order(request: web.Request) -> web.Response:
    """``PUT /v2/orders/{id}``: here, the order status (``status_id``)."""
    order = order_or_404(request)
    if isinstance(order, web.Response):
        return order
    try:
        body = await json_body(request)
    except Invalid as exc:
        return error_response(request, 400, exc.message)
    status_id = body.get("status_id") if isinstance(body, dict) else None
    if not isinstance(status_id, int) or status_id not in STATUS_NAMES:
        return error_response(request, 400, "The field 'status_id' is invalid.")
    previous = order["status_id"]
    order["status_id"], order["status"] = status_id, STATUS_NAMES[status_id]
    order["date_modified"] = rfc2822(datetime.now(UTC))
    if previous != status_id:
        status = {"previous_status_id": previous, "new_status_id": status_id}
        hooks.emit(request, "store/order/statusUpdated", {"type": "order", "id": order["id"], "status": status})
        hooks.emit(request, "store/order/updated", {"type": "order", "id": order["id"]})
    return web.json_response(order)


async def create_order(request: web.Request) -> web.Response:
    """``POST /v2/orders``: here, an order of catalog products (``products`` of ``product_id`` and
    ``quantity``) for a customer (``customer_id``; 0 is a guest, named by ``billing_address.email``),
    in ``status_id`` (11, Awaiting Fulfillment, unless given). Tells the hooks ``store/order/created``."""
    store = store_of(request)
    try:
        body = await json_body(request)
    except Invalid as exc:
        return error_response(request, 400, exc.message)
    body = body if isinstance(body, dict) else {}
    lines = body.get("products")
    if not isinstance(lines, list) or not lines:
        return error_response(request, 400, "The field 'products' is invalid.")
    if any(
        not isinstance(line, dict) or line.get("product_id") not in store.products or not isinstance(line.get("quantity"), int)
        for line in lines
    ):
        return error_response(request, 400, "The field 'products' is invalid.")
    customer_id = body.get("customer_id", 0)
    billing: dict[str, Any] = body["billing_address"] if isinstance(body.get("billing_address"), dict) else {}
    if customer_id and customer_id not in store.customers:
        return error_response(request, 400, "The field 'customer_id' is invalid.")
    if not customer_id and not billing.get("email"):
        return error_response(request, 400, "The field 'billing_address' is invalid.")
    status_id = body.get("status_id", 11)
    if status_id not in STATUS_NAMES:
        return error_response(request, 400, "The field 'status_id' is invalid.")
    buyer = (
        store.customers[customer_id]
        if customer_id
        else {
            "id": 0,
            "first_name": billing.get("first_name", ""),
            "last_name": billing.get("last_name", ""),
            "email": billing["email"],
            "phone": billing.get("phone", ""),
            "addresses": [],
        }
    )
    oid = max(store.orders, default=5000) + 1
    data.add_order(store, oid, buyer, datetime.now(UTC), [(int(line["product_id"]), int(line["quantity"])) for line in lines], status_id)
    hooks.emit(request, "store/order/created", {"type": "order", "id": oid})
    return web.json_response(store.orders[oid], status=201)
