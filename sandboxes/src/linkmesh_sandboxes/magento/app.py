"""An aiohttp server imitating the Magento 2 admin REST endpoints linkmesh calls,
as ``vendor-specs/magento/admin-schema-2.4.9.yaml`` defines them.

Paths are ``/rest/{store_code}/V1/...`` (or ``/rest/V1/...`` for the default
store); ``Authorization: Bearer <token>``; searches under the store's Web API input
limits (``search_criteria.InputLimits``: 20 items without a page size, at most 300); errors are Magento's
``{"message": "... %1 ...", "parameters": [...]}`` (positional) or with named
placeholders (``%fieldName``) and an object of parameters.

- ``GET /V1/customers/search``, ``GET /V1/customers/{id}``, ``POST /V1/customers``
- ``GET /V1/orders``, ``GET /V1/orders/{id}``
- ``GET /V1/shipments``
- ``GET /V1/products``
- ``GET /V1/store/storeConfigs``
- actions: ``POST /V1/orders/{id}/cancel`` (false once shipped or complete),
  ``POST /V1/order/{id}/refund`` (a credit memo, within what was invoiced),
  ``POST /V1/coupons/generate`` (for a rule that allows auto-generation)
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.kit import DATA_KEYS
from linkmesh_sandboxes.knobs import STATE, SandboxState, add_control_routes, knobs_middleware
from linkmesh_sandboxes.magento import search_criteria as sc
from linkmesh_sandboxes.magento.data import ACCESS_TOKEN, STORE_CODES, Shop, build_shop, new_customer, stamp

SHOP = web.AppKey("magento_shop", Shop)
LIMITS = web.AppKey("magento_input_limits", sc.InputLimits)
TOKEN = web.AppKey("magento_token", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACL = {
    "customers": "Magento_Customer::customer",
    "orders": "Magento_Sales::actions_view",
    "shipments": "Magento_Sales::shipment",
    "products": "Magento_Catalog::products",
    "store": "Magento_Backend::store",
}


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def magento_error(err: sc.MagentoError) -> web.Response:
    return web.json_response(err.body(), status=err.status)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/rest/"):
        return await handler(request)
    store_code = request.match_info.get("store_code", "default")
    if store_code not in STORE_CODES:
        return magento_error(sc.MagentoError(404, "The store that was requested wasn't found. Verify the store and try again."))
    header = request.headers.get("Authorization", "")
    resource = next((acl for key, acl in ACL.items() if f"/V1/{key}" in request.path), "Magento_Backend::admin")
    if header != f"Bearer {request.app[SHOP].access_token}":
        return magento_error(sc.MagentoError(401, "The consumer isn't authorized to access %resources.", {"resources": resource}))
    try:
        return await handler(request)
    except sc.MagentoError as err:
        return magento_error(err)


def _search(request: web.Request, items: list[dict[str, Any]], searchable: set[str], value_of: Any = None) -> web.Response:
    """A search endpoint: criteria parsed, input limits applied, then filtered, sorted and paged."""
    criteria = sc.parse(request.query)
    request.app[LIMITS].check(criteria)
    page, total = sc.apply(items, criteria, searchable, value_of)
    return web.json_response({"items": page, "search_criteria": criteria.echo(), "total_count": total})


def _entity_value(item: dict[str, Any], name: str) -> Any:
    """An EAV entity's field; its ``entity_id`` column is answered as ``id``."""
    return item.get("id") if name == "entity_id" else item.get(name)


def _scalar_fields(items: list[dict[str, Any]], extra: set[str] | None = None) -> set[str]:
    out = set(extra or ())
    for item in items:
        out |= {k for k, v in item.items() if not isinstance(v, (dict, list))}
    return out


CUSTOMER_FIELDS = {
    "id",
    "entity_id",
    "email",
    "firstname",
    "lastname",
    "created_at",
    "updated_at",
    "group_id",
    "store_id",
    "website_id",
    "dob",
    "gender",
    "taxvat",
    "middlename",
    "prefix",
    "suffix",
    "created_in",
    "default_billing",
    "default_shipping",
}


async def customers_search(request: web.Request) -> web.Response:
    return _search(request, list(request.app[SHOP].customers.values()), CUSTOMER_FIELDS, _entity_value)


def _id(request: web.Request, name: str, field_name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit():
        raise sc.MagentoError(
            400,
            'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
            {"value": raw, "type": "int"},
        )
    return int(raw)


async def get_customer(request: web.Request) -> web.Response:
    cid = _id(request, "customer_id", "customerId")
    customer = request.app[SHOP].customers.get(cid)
    if customer is None:
        raise sc.MagentoError(404, "No such entity with %fieldName = %fieldValue", {"fieldName": "customerId", "fieldValue": cid})
    return web.json_response(customer)


async def create_customer(request: web.Request) -> web.Response:
    """``POST /V1/customers`` ``{"customer": {...}, "password": "..."}``; emails are unique per website."""
    shop = request.app[SHOP]
    try:
        body = await request.json()
    except ValueError:
        raise sc.MagentoError(400, "Decoding error: %1", ["the request body is not valid JSON"]) from None
    customer = body.get("customer") if isinstance(body, dict) else None
    if not isinstance(customer, dict):
        raise sc.required("customer")
    for field in ("email", "firstname", "lastname"):
        if not isinstance(customer.get(field), str) or not customer[field].strip():
            raise sc.required(field)
    if any(c["email"].lower() == customer["email"].lower() for c in shop.customers.values()):
        raise sc.MagentoError(400, "A customer with the same email address already exists in an associated website.")
    cid = max(shop.customers) + 1
    addresses = []
    for n, a in enumerate(customer.get("addresses") or [], start=1):
        region = a.get("region") or {"region_code": "", "region": "", "region_id": 0}
        addresses.append(
            {
                **a,
                "id": cid * 10 + n,
                "customer_id": cid,
                "region": region,
                "region_id": region.get("region_id", 0),
                "default_billing": n == 1,
                "default_shipping": n == 1,
            }
        )
    created = new_customer(cid, customer["firstname"], customer["lastname"], customer["email"], datetime.now(UTC), addresses)
    shop.customers[cid] = created
    return web.json_response(created)


async def orders_search(request: web.Request) -> web.Response:
    orders = list(request.app[SHOP].orders.values())
    return _search(request, orders, _scalar_fields(orders))


async def get_order(request: web.Request) -> web.Response:
    oid = _id(request, "order_id", "id")
    order = request.app[SHOP].orders.get(oid)
    if order is None:
        raise sc.MagentoError(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
    return web.json_response(order)


async def shipments_search(request: web.Request) -> web.Response:
    shipments = list(request.app[SHOP].shipments.values())
    return _search(request, shipments, _scalar_fields(shipments, {"order_id", "entity_id", "increment_id", "created_at"}))


CANCELABLE_STATES = {"new", "pending_payment", "processing", "holded", "payment_review"}


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise sc.MagentoError(400, "Decoding error: %1", ["the request body is not valid JSON"]) from None
    if not isinstance(body, dict):
        raise sc.MagentoError(400, "Decoding error: %1", ["the request body must be a JSON object"])
    return body


def _order(request: web.Request, name: str) -> dict[str, Any]:
    oid = _id(request, name, "id")
    order = request.app[SHOP].orders.get(oid)
    if order is None:
        raise sc.MagentoError(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
    return order


async def cancel_order(request: web.Request) -> web.Response:
    """``POST /V1/orders/{id}/cancel``: a bare boolean; false when Magento cannot cancel
    (the order shipped, is complete, closed or already canceled)."""
    order = _order(request, "order_id")
    lines = [i for i in order["items"] if not i.get("parent_item_id")]
    if order["state"] not in CANCELABLE_STATES or any(i["qty_shipped"] for i in lines):
        return web.json_response(False)
    for item in order["items"]:
        item["qty_canceled"] = item["qty_ordered"] - item["qty_invoiced"]
    order["state"], order["status"], order["updated_at"] = "canceled", "canceled", stamp(datetime.now(UTC))
    return web.json_response(True)


async def refund_order(request: web.Request) -> web.Response:
    """``POST /V1/order/{orderId}/refund``: a credit memo for chosen items; answers its id."""
    shop = request.app[SHOP]
    order = _order(request, "order_id")
    body = await _body(request)
    if order["state"] in ("canceled", "closed") or not order.get("total_invoiced"):
        raise sc.MagentoError(400, "We can't create creditmemo for the order.")
    by_id = {i["item_id"]: i for i in order["items"]}
    requested = body.get("items") or [
        {"order_item_id": i["item_id"], "qty": i["qty_invoiced"] - i["qty_refunded"]}
        for i in order["items"]
        if not i.get("parent_item_id") and i["qty_invoiced"] > i["qty_refunded"]
    ]
    amount = 0.0
    for entry in requested:
        item = by_id.get(entry.get("order_item_id")) if isinstance(entry, dict) else None
        if item is None or item.get("parent_item_id"):
            raise sc.MagentoError(400, "The creditmemo contains product item that is not part of the original order.")
        qty = entry.get("qty")
        if not isinstance(qty, (int, float)) or qty <= 0 or qty > item["qty_invoiced"] - item["qty_refunded"]:
            raise sc.MagentoError(400, 'We found an invalid quantity to refund item "%1".', [item["sku"]])
        amount += item["price"] * qty
    if amount <= 0:
        raise sc.MagentoError(400, "The credit memo's total must be positive.")
    for entry in requested:
        by_id[entry["order_item_id"]]["qty_refunded"] += entry["qty"]
    order["total_refunded"] = round(order["total_refunded"] + amount, 2)
    order["updated_at"] = stamp(datetime.now(UTC))
    if all(i["qty_refunded"] >= i["qty_invoiced"] for i in order["items"] if not i.get("parent_item_id")):
        order["state"], order["status"] = "closed", "closed"
    memo_id = shop.next_id("shipment") + 10_000
    shop.creditmemos[memo_id] = {
        "entity_id": memo_id,
        "order_id": order["entity_id"],
        "grand_total": round(amount, 2),
        "created_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "items": [{"order_item_id": e["order_item_id"], "qty": e["qty"]} for e in requested],
    }
    return web.json_response(memo_id)


async def creditmemos_search(request: web.Request) -> web.Response:
    """``GET /V1/creditmemos``: credit memos by search criteria (an order's: ``order_id``)."""
    memos = list(request.app[SHOP].creditmemos.values())
    return _search(request, memos, _scalar_fields(memos, {"order_id", "entity_id", "created_at"}))


async def get_creditmemo(request: web.Request) -> web.Response:
    """``GET /V1/creditmemo/{id}``: a credit memo with its totals."""
    memo = request.app[SHOP].creditmemos.get(int(request.match_info["memo_id"])) if request.match_info["memo_id"].isdigit() else None
    if memo is None:
        raise sc.MagentoError(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
    return web.json_response(memo)


async def generate_coupons(request: web.Request) -> web.Response:
    """``POST /V1/coupons/generate``: codes for a cart price rule that allows auto-generation."""
    shop = request.app[SHOP]
    spec = (await _body(request)).get("couponSpec")
    if not isinstance(spec, dict):
        raise sc.required("couponSpec")
    for field in ("rule_id", "format", "quantity", "length"):
        if field not in spec:
            raise sc.required(field)
    rule = shop.rules.get(spec["rule_id"]) if isinstance(spec["rule_id"], int) else None
    if rule is None:
        raise sc.MagentoError(404, 'The rule with the "%1" ID wasn\'t found. Verify the ID and try again.', [spec["rule_id"]])
    if not rule["use_auto_generation"]:
        raise sc.MagentoError(400, "Specified rule does not allow automatic coupon generation")
    if spec["format"] not in ("alphanum", "alpha", "num") or not isinstance(spec["quantity"], int) or not 1 <= spec["quantity"] <= 100:
        raise sc.invalid_value(str(spec.get("format")), "format")
    alphabet = {"alphanum": "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", "alpha": "ABCDEFGHJKLMNPQRSTUVWXYZ", "num": "0123456789"}[spec["format"]]
    codes = [
        str(spec.get("prefix") or "")
        + "".join(secrets.choice(alphabet) for _ in range(int(spec["length"])))
        + str(spec.get("suffix") or "")
        for _ in range(spec["quantity"])
    ]
    shop.coupons.extend(codes)
    return web.json_response(codes)


def _product(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p["id"],
        "sku": p["sku"],
        "name": p["name"],
        "attribute_set_id": 4,
        "price": p["price"],
        "status": 1,
        "visibility": 4,
        "type_id": "simple",
        "created_at": "2025-10-01 00:00:00",
        "updated_at": "2025-10-01 00:00:00",
        "weight": 1,
        "extension_attributes": {"website_ids": [1]},
        "product_links": [],
        "options": [],
        "media_gallery_entries": [],
        "tier_prices": [],
        "custom_attributes": [{"attribute_code": "url_key", "value": p["url_key"]}, {"attribute_code": "description", "value": p["name"]}],
    }


async def products_search(request: web.Request) -> web.Response:
    products = [_product(p) for p in request.app[SHOP].products.values()]

    def value_of(item: dict[str, Any], name: str) -> Any:
        if name in item or name == "entity_id":
            return _entity_value(item, name)
        return next((a["value"] for a in item["custom_attributes"] if a["attribute_code"] == name), None)

    return _search(request, products, _scalar_fields(products, {"url_key", "description", "entity_id"}), value_of)


async def store_configs(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}/"
    config = {
        "id": 1,
        "code": "default",
        "website_id": 1,
        "locale": "en_US",
        "base_currency_code": "USD",
        "default_display_currency_code": "USD",
        "timezone": "America/Chicago",
        "weight_unit": "lbs",
        "base_url": base,
        "base_link_url": base,
        "base_static_url": f"{base}static/",
        "base_media_url": f"{base}media/",
        "secure_base_url": base,
        "secure_base_link_url": base,
        "secure_base_static_url": f"{base}static/",
        "secure_base_media_url": f"{base}media/",
    }
    return web.json_response([config])


async def storefront_product(request: web.Request) -> web.Response:
    """The storefront page of a product (``/{url_key}.html``), so product links resolve."""
    key = request.match_info["url_key"]
    product = next((p for p in request.app[SHOP].products.values() if p["url_key"] == key), None)
    if product is None:
        raise web.HTTPNotFound()
    return web.Response(text=f"<html><body><h1>{product['name']}</h1></body></html>", content_type="text/html")


def _seed(app: web.Application) -> None:
    app[SHOP] = build_shop(app[TOKEN])


def create_app(access_token: str = ACCESS_TOKEN, *, default_page_size: int = 20, max_page_size: int = 300) -> web.Application:
    """``default_page_size`` and ``max_page_size``: the store's Web API input limits (on, as Adobe recommends)."""
    app = web.Application(middlewares=[knobs_middleware(error_response), auth_middleware])
    app[LIMITS] = sc.InputLimits(True, default_page_size, max_page_size)
    app[STATE] = SandboxState()
    app[TOKEN] = access_token
    _seed(app)
    for prefix in ("/rest/{store_code}/V1", "/rest/V1"):
        app.router.add_get(f"{prefix}/customers/search", customers_search)
        app.router.add_post(f"{prefix}/customers", create_customer)
        app.router.add_get(f"{prefix}/customers/{{customer_id}}", get_customer)
        app.router.add_get(f"{prefix}/orders", orders_search)
        app.router.add_get(f"{prefix}/orders/{{order_id}}", get_order)
        app.router.add_post(f"{prefix}/orders/{{order_id}}/cancel", cancel_order)
        app.router.add_post(f"{prefix}/order/{{order_id}}/refund", refund_order)
        app.router.add_post(f"{prefix}/coupons/generate", generate_coupons)
        app.router.add_get(f"{prefix}/creditmemo/{{memo_id}}", get_creditmemo)
        app.router.add_get(f"{prefix}/creditmemos", creditmemos_search)
        app.router.add_get(f"{prefix}/shipments", shipments_search)
        app.router.add_get(f"{prefix}/products", products_search)
        app.router.add_get(f"{prefix}/store/storeConfigs", store_configs)
    app.router.add_get("/{url_key}.html", storefront_product)
    add_control_routes(app, _seed)
    app[DATA_KEYS] = {"shop": SHOP}
    return app
