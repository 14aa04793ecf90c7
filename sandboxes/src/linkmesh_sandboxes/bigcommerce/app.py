"""An aiohttp server imitating the BigCommerce REST endpoints linkmesh calls.

Paths, query syntax, the ``X-Auth-Token`` check, status codes, rate-limit headers
and response shapes follow BigCommerce's published specifications (``vendor-specs/README.md``):

- ``GET /stores/{hash}/v3/customers`` (``email:in``, ``phone:in``, ``id:in``, ``include=addresses``, page, limit),
  ``POST`` and ``PUT /v3/customers`` (batches of up to 10)
- ``GET /stores/{hash}/v2/orders`` (customer_id, email, status_id, min_id, max_id, sort, page, limit;
  include=consignments or consignments.line_items, with consignment_structure=object)
  and ``/v2/orders/{id}``, ``/v2/orders/{id}/products``, ``/v2/orders/{id}/shipments`` (page, limit)
- ``GET /stores/{hash}/v3/catalog/products`` (``id:in``, ``include_fields``)
- ``GET /stores/{hash}/v2/store`` and ``/v2/customer_groups/{id}`` (a group's name; 404 for none)
- webhooks: ``/v3/hooks`` and ``/v3/hooks/{id}`` (``linkmesh_sandboxes.bigcommerce.hooks``), delivered
  when an order's status changes or a refund is made
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

from aiohttp import web

from linkmesh_sandboxes.bigcommerce.customer_routes import create_customers, get_customers, update_customers
from linkmesh_sandboxes.bigcommerce.data import ACCESS_TOKEN, STORE_HASH, build_store
from linkmesh_sandboxes.bigcommerce.hooks import add_hook_routes
from linkmesh_sandboxes.bigcommerce.http import SEEDS, STORES, error_response, store_middleware, store_of
from linkmesh_sandboxes.bigcommerce.order_routes import (
    create_order,
    get_catalog_products,
    get_order,
    get_order_products,
    get_order_shipments,
    get_orders,
    update_order,
)
from linkmesh_sandboxes.bigcommerce.payment_routes import create_coupon, create_refund, get_coupons, get_refunds, refund_quote
from linkmesh_sandboxes.deliveries import add_delivery_routes
from linkmesh_sandboxes.kit import DATA_KEYS
from linkmesh_sandboxes.knobs import STATE, SandboxState, add_control_routes, knobs_middleware

__all__ = ["STORES", "create_app"]


async def get_store(request: web.Request) -> web.Response:
    return web.json_response(store_of(request).info)


async def get_customer_group(request: web.Request) -> web.Response:
    raw = request.match_info["customer_group_id"]
    group = getattr(store_of(request), "groups", {}).get(int(raw)) if raw.isdigit() else None  # a store saved before groups: none
    return web.json_response(group) if group is not None else error_response(request, 404, "The requested customer group was not found.")


def _seed(app: web.Application) -> None:
    seeds = app[SEEDS]
    app[STORES].clear()
    for store_hash, token in seeds:
        app[STORES][store_hash] = build_store(store_hash, token)


def create_app(
    stores: list[tuple[str, str]] | None = None, *, rate_limit_quota: int = 150, rate_limit_window_ms: int = 30_000
) -> web.Application:
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
    app.router.add_post(f"{prefix}/v2/orders", create_order)
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
    app.router.add_get(f"{prefix}/v2/customer_groups/{{customer_group_id}}", get_customer_group)
    add_delivery_routes(app, state)
    add_hook_routes(app, prefix)
    add_control_routes(app, _seed)
    return app
