"""An aiohttp server imitating the BigCommerce REST endpoints linkmesh calls.

Paths, query syntax, the ``X-Auth-Token`` check, status codes, rate-limit headers
and response shapes follow BigCommerce's published specifications (``vendor-specs/README.md``):

- ``GET /stores/{hash}/v3/customers`` (``email:in``, ``phone:in``, ``id:in``, ``include=addresses``, page, limit),
  ``POST`` and ``PUT /v3/customers`` (batches of up to 10)
- ``GET /stores/{hash}/v2/orders`` (customer_id, email, status_id, min_id, max_id, sort, page, limit)
  and ``/v2/orders/{id}``, ``/v2/orders/{id}/products``, ``/v2/orders/{id}/shipments`` (page, limit)
- ``GET /stores/{hash}/v3/catalog/products`` (``id:in``, ``include_fields``)
- ``GET /stores/{hash}/v2/store``
- actions: ``PUT /v2/orders/{id}`` (status), ``POST /v3/orders/{id}/payment_actions/refund_quotes``
  and ``/refunds`` (never more than is left to refund), ``POST /v2/coupons`` (unique codes)

Lists answer ``limit`` items (default 50, at most 250) of ``page``: V3 with
``meta.pagination``, V2 as a bare array, or ``204 No Content`` with an empty body
when the page holds nothing; V2 errors are ``[{"status", "message"}]``, V3 errors
``{"status", "title", "type", "errors"}``. Every vendor response carries the
``X-Rate-Limit-*`` headers of the store's window; past the quota the answer is
429 with ``X-Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.bigcommerce import records
from linkmesh_sandboxes.bigcommerce.data import ACCESS_TOKEN, STORE_HASH, Store, build_store, iso, new_customer, rfc2822
from linkmesh_sandboxes.kit import DATA_KEYS
from linkmesh_sandboxes.knobs import STATE, SandboxState, add_control_routes, knobs_middleware

STORES = web.AppKey("bigcommerce_stores", dict)
SEEDS = web.AppKey("bigcommerce_seed_stores", list)
ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _is_v2(request: web.Request) -> bool:
    return "/v2/" in request.path


def error_response(request: web.Request, status: int, message: str, errors: dict[str, str] | None = None) -> web.Response:
    if _is_v2(request):
        return web.json_response([{"status": status, "message": message}], status=status)
    return web.json_response({"status": status, "title": message, "type": ERROR_TYPE, "errors": errors or {}}, status=status)


def _store(request: web.Request) -> Store:
    return request.app[STORES][request.match_info["store_hash"]]


@web.middleware
async def store_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Store lookup, token check, Accept check on V2, and the store's rate-limit window."""
    store_hash = request.match_info.get("store_hash")
    if store_hash is None:
        return await handler(request)
    store = request.app[STORES].get(store_hash)
    if store is None:
        return error_response(request, 404, "Store not found")
    token = request.headers.get("X-Auth-Token", "")
    if not token:
        return error_response(request, 401, "No auth token was provided (X-Auth-Token).")
    if token != store.access_token:
        return error_response(request, 401, "The access token is invalid or has been revoked.")
    if _is_v2(request):
        accept = request.headers.get("Accept", "*/*")
        if "json" not in accept and "*/*" not in accept:
            return error_response(request, 406, "The requested content type is not available; send Accept: application/json.")
    state: SandboxState = request.app[STATE]
    allowed, left, reset_ms = state.take(store_hash)
    headers = {
        "X-Rate-Limit-Requests-Left": str(left),
        "X-Rate-Limit-Requests-Quota": str(state.knobs.rate_limit_quota),
        "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
        "X-Rate-Limit-Time-Window-Ms": str(state.knobs.rate_limit_window_ms),
    }
    if not allowed:
        response = error_response(request, 429, "You have exceeded the rate limit for this store. Retry after the window resets.")
        headers["X-Retry-After"] = str(max(math.ceil(reset_ms / 1000), 1))
    else:
        try:
            response = await handler(request)  # type: ignore[assignment]
        except web.HTTPException as exc:
            response = error_response(request, exc.status, exc.reason)
    response.headers.update(headers)
    return response


def _int(request: web.Request, name: str, default: int, lo: int = 1, hi: int = 250) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Invalid(name, f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise _Invalid(name, f"{name} must be between {lo} and {hi}")
    return value


def _csv(request: web.Request, name: str) -> list[str] | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    return [v for v in raw.split(",") if v != ""]


class _Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _invalid(request: web.Request, exc: _Invalid) -> web.Response:
    if _is_v2(request):
        return error_response(request, 400, exc.message)
    return error_response(request, 422, "The filter(s) are invalid", {exc.field: exc.message})


def _meta(total: int, page: int, limit: int, path: str) -> dict[str, Any]:
    pages = max(math.ceil(total / limit), 1) if total else 0
    links: dict[str, Any] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    count = max(min(limit, total - (page - 1) * limit), 0)
    return {"pagination": {"total": total, "count": count, "per_page": limit, "current_page": page, "total_pages": pages, "links": links}}


def _v3_list_query(request: web.Request) -> tuple[int, int, set[int] | None]:
    """``page``, ``limit`` and ``id:in`` of a V3 list endpoint."""
    page, limit = _int(request, "page", 1, 1, 10_000), _int(request, "limit", 50)
    ids = _csv(request, "id:in")
    try:
        return page, limit, ({int(i) for i in ids} if ids is not None else None)
    except ValueError:
        raise _Invalid("id:in", "id:in must be a list of integers") from None


async def get_customers(request: web.Request) -> web.Response:
    store = _store(request)
    try:
        page, limit, id_set = _v3_list_query(request)
    except _Invalid as exc:
        return _invalid(request, exc)
    emails = _csv(request, "email:in")
    phones = _csv(request, "phone:in")
    includes = set(_csv(request, "include") or [])
    unknown = includes - {"addresses", "storecredit", "attributes", "formfields", "shopper_profile_id", "segment_ids"}
    if unknown:
        return _invalid(request, _Invalid("include", f"unknown include value(s): {', '.join(sorted(unknown))}"))
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
    window = matched[(page - 1) * limit: page * limit]
    data = []
    for c in window:
        item = {k: v for k, v in c.items() if k != "addresses"}
        if "addresses" in includes:
            item["addresses"] = c["addresses"]
        data.append(item)
    return web.json_response({"data": data, "meta": _meta(len(matched), page, limit, request.path)})


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
    return {"id": cid * 10 + n, "customer_id": cid, "first_name": a.get("first_name", ""), "last_name": a.get("last_name", ""),
            "company": a.get("company", ""), "address1": a.get("address1", ""), "address2": a.get("address2", ""),
            "city": a.get("city", ""), "state_or_province": a.get("state_or_province", ""), "postal_code": a.get("postal_code", ""),
            "country": a.get("country", ""), "country_code": a.get("country_code", ""), "phone": a.get("phone", ""),
            "address_type": a.get("address_type", "residential")}


async def create_customers(request: web.Request) -> web.Response:
    """``POST /v3/customers``: email, first_name and last_name are required; emails are unique per store."""
    store = _store(request)
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
        customer = new_customer(cid, item["first_name"], item["last_name"], item["email"], item.get("phone", ""),
                             datetime.now(UTC), None)
        customer.update({k: item[k] for k in ("company", "notes", "customer_group_id") if k in item})
        customer["addresses"] = [_address_from(cid, a, n) for n, a in enumerate(item.get("addresses") or [], start=1)]
        customer["address_count"] = len(customer["addresses"])
        customer["date_modified"] = iso(datetime.now(UTC))
        store.customers[cid] = customer
        created.append(customer)
    return web.json_response({"data": created, "meta": {}})


async def update_customers(request: web.Request) -> web.Response:
    """``PUT /v3/customers``: each item names the customer by ``id``."""
    store = _store(request)
    body = await _customer_batch(request)
    if isinstance(body, web.Response):
        return body
    errors = {f"[{i}].id": "id is required and must name an existing customer"
              for i, item in enumerate(body) if item.get("id") not in store.customers}
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
    return web.json_response({"data": updated, "meta": {}})


def _order_sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    if field in ("date_created", "date_modified"):
        return lambda o: parsedate_to_datetime(o[field])
    return lambda o: o[field]


async def get_orders(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    try:
        page, limit = _int(request, "page", 1, 1, 10_000), _int(request, "limit", 50)
        customer_id = _int(request, "customer_id", 0, 0, 2**31) if "customer_id" in request.query else None
        status_id = _int(request, "status_id", 0, 0, 20) if "status_id" in request.query else None
        min_id = _int(request, "min_id", 0, 0, 2**31)
        max_id = _int(request, "max_id", 2**31, 0, 2**31)
    except _Invalid as exc:
        return _invalid(request, exc)
    sort = request.query.get("sort", "id:asc")
    field, _, direction = sort.partition(":")
    if field not in {"id", "customer_id", "date_created", "date_modified", "status_id", "channel_id", "external_id"} or direction not in ("", "asc", "desc"):
        return error_response(request, 400, f"The sort field '{sort}' is invalid.")
    email = request.query.get("email")
    orders = [
        o for o in store.orders.values()
        if (customer_id is None or o["customer_id"] == customer_id)
        and (status_id is None or o["status_id"] == status_id)
        and (email is None or o["billing_address"]["email"].lower() == email.lower())
        and min_id <= o["id"] <= max_id
    ]
    orders.sort(key=_order_sort_key(field), reverse=direction == "desc")
    window = orders[(page - 1) * limit: page * limit]
    if not window:
        return web.Response(status=204)
    return web.json_response(window)


def _order_or_404(request: web.Request) -> dict[str, Any] | web.Response:
    store = _store(request)
    try:
        oid = int(request.match_info["order_id"])
    except ValueError:
        return error_response(request, 404, "The requested resource was not found.")
    order = store.orders.get(oid)
    if order is None:
        return error_response(request, 404, "The requested resource was not found.")
    return order


async def get_order(request: web.Request) -> web.Response:
    order = _order_or_404(request)
    return order if isinstance(order, web.Response) else web.json_response(order)


def _v2_page(request: web.Request, items: list[dict[str, Any]]) -> web.StreamResponse:
    """A V2 sub-list: ``page`` and ``limit`` (default 50, at most 250), a bare array, and
    ``204 No Content`` when the page holds nothing. V2 says nothing of what follows."""
    try:
        page, limit = _int(request, "page", 1, 1, 10_000), _int(request, "limit", 50)
    except _Invalid as exc:
        return _invalid(request, exc)
    window = items[(page - 1) * limit: page * limit]
    if not window:
        return web.Response(status=204)
    return web.json_response(window)


async def get_order_products(request: web.Request) -> web.StreamResponse:
    order = _order_or_404(request)
    if isinstance(order, web.Response):
        return order
    return _v2_page(request, _store(request).order_products[order["id"]])


async def get_order_shipments(request: web.Request) -> web.StreamResponse:
    order = _order_or_404(request)
    if isinstance(order, web.Response):
        return order
    return _v2_page(request, _store(request).shipments[order["id"]])


async def get_catalog_products(request: web.Request) -> web.Response:
    store = _store(request)
    try:
        page, limit, id_set = _v3_list_query(request)
    except _Invalid as exc:
        return _invalid(request, exc)
    fields = _csv(request, "include_fields")
    matched = [p for p in sorted(store.products.values(), key=lambda p: p["id"]) if id_set is None or p["id"] in id_set]
    data = []
    for p in matched[(page - 1) * limit: page * limit]:
        full = {
            "id": p["id"], "name": p["name"], "type": "physical", "sku": p["sku"], "price": float(p["price"]),
            "weight": 1, "is_visible": True, "custom_url": {"url": p["url"], "is_customized": False},
        }
        data.append({k: v for k, v in full.items() if fields is None or k in fields or k == "id"})
    return web.json_response({"data": data, "meta": _meta(len(matched), page, limit, request.path)})


STATUS_NAMES = {0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled", 6: "Declined",
                7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed", 11: "Awaiting Fulfillment",
                12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded"}
NOT_REFUNDABLE = {0, 5, 6}


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise _Invalid("body", "The request body is not valid JSON.") from None


async def update_order(request: web.Request) -> web.Response:
    """``PUT /v2/orders/{id}``: here, the order status (``status_id``)."""
    order = _order_or_404(request)
    if isinstance(order, web.Response):
        return order
    try:
        body = await _json_body(request)
    except _Invalid as exc:
        return error_response(request, 400, exc.message)
    status_id = body.get("status_id") if isinstance(body, dict) else None
    if not isinstance(status_id, int) or status_id not in STATUS_NAMES:
        return error_response(request, 400, "The field 'status_id' is invalid.")
    order["status_id"], order["status"] = status_id, STATUS_NAMES[status_id]
    order["date_modified"] = rfc2822(datetime.now(UTC))
    return web.json_response(order)


def _refund_lines(store: Store, order: dict[str, Any], items: Any) -> tuple[float, list[dict[str, Any]]]:
    """Validates PRODUCT refund items against what is left to refund; answers (amount, items)."""
    if order["status_id"] in NOT_REFUNDABLE:
        raise _Invalid("order", f"Order {order['id']} is {order['status']} and cannot be refunded.")
    if not isinstance(items, list) or not items:
        raise _Invalid("items", "At least one item is required.")
    products = {p["id"]: p for p in store.order_products[order["id"]]}
    amount = 0.0
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("item_type") != "PRODUCT" or not isinstance(item.get("quantity"), int):
            raise _Invalid(f"items[{i}]", "Each item needs item_type PRODUCT, item_id and an integer quantity.")
        product = products.get(item.get("item_id"))
        if product is None:
            raise _Invalid(f"items[{i}].item_id", f"Order product {item.get('item_id')} is not on order {order['id']}.")
        left = product["quantity"] - product["quantity_refunded"]
        if not 0 < item["quantity"] <= left:
            raise _Invalid(f"items[{i}].quantity", f"Only {left} of order product {product['id']} can be refunded.")
        amount += float(product["price_inc_tax"]) * item["quantity"]
    return round(amount, 2), items


def _failed(order_id: int, status: int, error: str) -> web.Response:
    return web.json_response({"data": [{"order_id": order_id, "status": status, "error": error}], "meta": {}}, status=status)


async def refund_quote(request: web.Request) -> web.Response:
    """``POST /v3/orders/{id}/payment_actions/refund_quotes``."""
    order = _order_or_404(request)
    if isinstance(order, web.Response):
        return order
    try:
        body = await _json_body(request)
        amount, _ = _refund_lines(_store(request), order, (body or {}).get("items"))
    except _Invalid as exc:
        return error_response(request, 422, exc.message, {exc.field: exc.message})
    left = round(float(order["total_inc_tax"]) - float(order["refunded_amount"]), 2)
    amount = min(amount, left)
    return web.json_response({"data": {
        "order_id": order["id"], "total_refund_amount": amount, "total_refund_tax_amount": 0, "order_level_refund_amount": 0,
        "rounding": 0, "adjustment": 0, "tax_inclusive": True,
        "refund_methods": [[{"provider_id": "checkout_stripe", "provider_description": "Stripe", "amount": amount, "offline": False,
                             "offline_provider": False, "offline_reason": ""}]],
    }, "meta": {}}, status=201)


async def create_refund(request: web.Request) -> web.Response:
    """``POST /v3/orders/{id}/payment_actions/refunds``: never more than was paid."""
    store = _store(request)
    order = _order_or_404(request)
    if isinstance(order, web.Response):
        return order
    try:
        body = await _json_body(request)
        amount, items = _refund_lines(store, order, (body or {}).get("items"))
    except _Invalid as exc:
        return _failed(order["id"] if isinstance(order, dict) else 0, 422, exc.message)
    payments = (body or {}).get("payments")
    if not isinstance(payments, list) or not payments:
        return _failed(order["id"], 422, "At least one payment is required.")
    paid_back = round(sum(float(p.get("amount") or 0) for p in payments if isinstance(p, dict)), 2)
    left = round(float(order["total_inc_tax"]) - float(order["refunded_amount"]), 2)
    if paid_back > left + 0.001:
        return _failed(order["id"], 422, f"The refund amount {paid_back:.2f} exceeds the {left:.2f} available to refund.")
    if abs(paid_back - min(amount, left)) > 0.01:
        return _failed(order["id"], 422, "The payments do not add up to the refund quote.")
    products = {p["id"]: p for p in store.order_products[order["id"]]}
    for item in items:
        product = products[item["item_id"]]
        product["quantity_refunded"] += item["quantity"]
        product["is_refunded"] = product["quantity_refunded"] >= product["quantity"]
        product["refund_amount"] = f"{float(product['refund_amount']) + float(product['price_inc_tax']) * item['quantity']:.4f}"
    order["refunded_amount"] = f"{float(order['refunded_amount']) + paid_back:.4f}"
    fully = float(order["refunded_amount"]) >= float(order["total_inc_tax"]) - 0.001
    order["status_id"] = 4 if fully else 14
    order["status"] = STATUS_NAMES[order["status_id"]]
    refund_id = 1 + sum(len(r) for r in records.refunds_of(store).values())
    refund = {
        "id": refund_id, "order_id": order["id"], "user_id": 0, "created": datetime.now(UTC).isoformat(),
        "reason": str(items[0].get("reason") or ""), "total_amount": paid_back, "total_tax": 0, "uses_merchant_override_values": False,
        "items": [{"item_type": "PRODUCT", "item_id": i["item_id"], "reason": str(i.get("reason") or ""), "quantity": i["quantity"],
                   "adjustments": [], "requested_amount": round(float(products[i["item_id"]]["price_inc_tax"]) * i["quantity"], 2)} for i in items],
        "payments": [{"id": refund_id * 10, "provider_id": p.get("provider_id", ""), "amount": float(p.get("amount") or 0),
                      "offline": bool(p.get("offline")), "is_declined": False, "declined_message": "", "transaction_id": ""}
                     for p in payments],
    }
    records.keep_refund(store, refund)
    return web.json_response({"data": refund, "meta": {}}, status=201)


async def get_refunds(request: web.Request) -> web.Response:
    order = _order_or_404(request)
    if isinstance(order, web.Response):
        return order
    return records.list_refunds(_store(request), order["id"])


async def get_coupons(request: web.Request) -> web.Response:
    return records.list_coupons(_store(request), request.query)


COUPON_TYPES = {"per_item_discount", "per_total_discount", "shipping_discount", "free_shipping", "percentage_discount", "promotion"}


async def create_coupon(request: web.Request) -> web.Response:
    """``POST /v2/coupons`` (legacy coupons): codes are unique per store."""
    store = _store(request)
    try:
        body = await _json_body(request)
    except _Invalid as exc:
        return error_response(request, 400, exc.message)
    if not isinstance(body, dict):
        return error_response(request, 400, "The request body must be a JSON object.")
    for field in ("name", "code", "type", "amount", "applies_to"):
        if field not in body or body[field] in ("", None):
            return error_response(request, 400, f"The required field '{field}' was not supplied.")
    if body["type"] not in COUPON_TYPES:
        return error_response(request, 400, "The field 'type' is invalid.")
    if any(c["code"].lower() == str(body["code"]).lower() for c in store.coupons.values()):
        return error_response(request, 409, f"The coupon code '{body['code']}' is already in use.")
    coupon_id = len(store.coupons) + 1
    coupon = {
        "id": coupon_id, "name": body["name"], "type": body["type"], "amount": f"{float(body['amount']):.4f}",
        "min_purchase": f"{float(body.get('min_purchase') or 0):.4f}", "expires": body.get("expires", ""), "enabled": bool(body.get("enabled", True)),
        "code": body["code"], "applies_to": body["applies_to"], "num_uses": 0, "max_uses": int(body.get("max_uses") or 0),
        "max_uses_per_customer": int(body.get("max_uses_per_customer") or 0), "restricted_to": body.get("restricted_to") or {},
        "shipping_methods": body.get("shipping_methods") or [], "date_created": rfc2822(datetime.now(UTC)),
    }
    store.coupons[coupon_id] = coupon
    return web.json_response(coupon, status=201)


async def get_store(request: web.Request) -> web.Response:
    return web.json_response(_store(request).info)


def _seed(app: web.Application) -> None:
    seeds = app[SEEDS]
    app[STORES].clear()
    for store_hash, token in seeds:
        app[STORES][store_hash] = build_store(store_hash, token)


def create_app(stores: list[tuple[str, str]] | None = None, *, rate_limit_quota: int = 150, rate_limit_window_ms: int = 30_000) -> web.Application:
    app = web.Application(middlewares=[knobs_middleware(error_response), store_middleware])
    state = SandboxState()
    state.knobs.rate_limit_quota = rate_limit_quota
    state.knobs.rate_limit_window_ms = rate_limit_window_ms
    app[STATE] = state
    app[STORES] = {}
    app[SEEDS] = stores or [(STORE_HASH, ACCESS_TOKEN)]
    app[DATA_KEYS] = {"stores": STORES}
    _seed(app)
    prefix = "/stores/{store_hash}"
    app.router.add_get(f"{prefix}/v3/customers", get_customers)
    app.router.add_post(f"{prefix}/v3/customers", create_customers)
    app.router.add_put(f"{prefix}/v3/customers", update_customers)
    app.router.add_get(f"{prefix}/v2/orders", get_orders)
    app.router.add_get(f"{prefix}/v2/orders/{{order_id}}", get_order)
    app.router.add_put(f"{prefix}/v2/orders/{{order_id}}", update_order)
    app.router.add_post(f"{prefix}/v3/orders/{{order_id}}/payment_actions/refund_quotes", refund_quote)
    app.router.add_post(f"{prefix}/v3/orders/{{order_id}}/payment_actions/refunds", create_refund)
    app.router.add_get(f"{prefix}/v3/orders/{{order_id}}/payment_actions/refunds", get_refunds)
    app.router.add_get(f"{prefix}/v2/coupons", get_coupons)
    app.router.add_post(f"{prefix}/v2/coupons", create_coupon)
    app.router.add_get(f"{prefix}/v2/orders/{{order_id}}/products", get_order_products)
    app.router.add_get(f"{prefix}/v2/orders/{{order_id}}/shipments", get_order_shipments)
    app.router.add_get(f"{prefix}/v3/catalog/products", get_catalog_products)
    app.router.add_get(f"{prefix}/v2/store", get_store)
    add_control_routes(app, _seed)
    return app
