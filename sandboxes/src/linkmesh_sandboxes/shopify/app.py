"""Shopify Admin GraphQL API 2025-01 sandbox (the schema shipped beside it, ``vendor-specs/README.md``).

``POST /admin/api/2025-01/graphql.json`` with ``X-Shopify-Access-Token``, body
``{"query", "variables", "operationName"}``. Every request is parsed and validated against
Shopify's own schema (the shipped introspection result, ``graphql_kit``) before it runs: a
query Shopify would reject is answered with GraphQL's errors here too. Answers carry
``extensions.cost`` (requested and actual cost, ``throttleStatus``); the shop's bucket holds
``rate_limit_quota`` points (knob; 1000) and refills completely in ``rate_limit_window_ms``
(20000: 50 points a second); a query costing more than is left is answered
``{"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}`` with HTTP 200
and not run, one costing more than the whole bucket ``MAX_COST_EXCEEDED``.

Implemented: ``shop``, ``customer``, ``customers(query:)`` (``email:``, ``phone:``, ``id:``,
``first_name:``, ``last_name:``), ``order``, ``orders(query:)`` (``name:`` with or without
``#``, ``email:``, ``customer_id:``, ``id:``), customers' ``orders``; on orders ``lineItems``,
``fulfillments { trackingInfo }``, ``returns``, ``refunds``, ``suggestedRefund``; the
mutations ``refundCreate`` (in the order's presentment currency), ``orderCancel`` and
``discountCodeBasicCreate`` (``mutations``), with ``userErrors`` as Shopify words them. Objects
are built as they are read (``views``). Other fields of the schema validate and answer null.
"""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from graphql import GraphQLError

from linkmesh_sandboxes import graphql_kit
from linkmesh_sandboxes.deliveries import add_delivery_routes
from linkmesh_sandboxes.kit import DATA_KEYS
from linkmesh_sandboxes.knobs import STATE, SandboxState, add_control_routes, knobs_middleware
from linkmesh_sandboxes.shopify import cost, data, mutations, search
from linkmesh_sandboxes.shopify.data import API_VERSION, CURRENCY, Shop
from linkmesh_sandboxes.shopify.views import Views, customer_matches, gid, gid_number
from linkmesh_sandboxes.shopify.webhooks import Webhooks

SCHEMA_FILE = "admin_schema_2025-01.json.gz"
SHOP = web.AppKey("shop", Shop)
TOKEN = web.AppKey("token", str)
BUCKET = web.AppKey("bucket", dict)
CANCEL_DELAY = web.AppKey("cancel_delay_s", float)
HOOKS = web.AppKey("webhooks", Webhooks)
DEFAULT_BUCKET, DEFAULT_REFILL_MS = 1000, 20_000


def schema_path() -> Path:
    return Path(str(resources.files("linkmesh_sandboxes.shopify").joinpath(SCHEMA_FILE)))


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    return web.json_response({"errors": message}, status=status)


# The endpoint


def take(app: web.Application, requested: int) -> tuple[bool, dict[str, Any]]:
    """Takes ``requested`` points from the shop's bucket when it holds them."""
    knobs, bucket = app[STATE].knobs, app[BUCKET]
    maximum = float(knobs.rate_limit_quota)
    rate = maximum / max(knobs.rate_limit_window_ms / 1000, 0.001)
    now = time.monotonic()
    available = min(maximum, bucket.get("available", maximum) + rate * (now - bucket.get("at", now)))
    ok = requested <= available
    if ok:
        available -= requested
    bucket.update(available=available, at=now)
    return ok, {"maximumAvailable": maximum, "currentlyAvailable": int(available), "restoreRate": rate}


def refund_points(app: web.Application, points: int) -> None:
    bucket = app[BUCKET]
    bucket["available"] = min(float(app[STATE].knobs.rate_limit_quota), bucket.get("available", 0) + points)


def _too_costly(requested: int, status: dict[str, Any]) -> dict[str, Any]:
    """MAX_COST_EXCEEDED: one query costs more than the bucket can ever hold (never run)."""
    limit = int(status["maximumAvailable"])
    return {
        "errors": [
            {
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({limit}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": limit},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}},
    }


def _root(app: web.Application) -> dict[str, Any]:
    """The schema's root fields this sandbox answers, over the shop's data."""
    shop = app[SHOP]
    views = Views(shop)
    hooks = app[HOOKS]
    return {
        "shop": {
            "id": gid("Shop", 1),
            "name": shop.name,
            "myshopifyDomain": shop.domain,
            "currencyCode": CURRENCY,
            "url": f"https://{shop.domain.replace('.myshopify.com', '')}.example",
            "email": "orders@summit-outfitters.example",
        },
        "customer": lambda info, id: views.customer(shop.customers.get(gid_number(id, "Customer") or -1)),
        "customers": lambda info, **args: graphql_kit.connection(
            [
                views.customer(c)
                for c in sorted(shop.customers.values(), key=lambda c: c.id)
                if search.matches(args.get("query"), c, customer_matches)
            ],
            args.get("first"),
            args.get("last"),
            args.get("after"),
            args.get("before"),
        ),
        "order": lambda info, id: views.order(shop.orders[n]) if (n := gid_number(id, "Order")) in shop.orders else None,
        "orders": lambda info, **args: views.orders(args, list(shop.orders.values())),
        "refundCreate": lambda info, **args: mutations.refund_create(shop, info, notify=hooks, **args),
        "orderCancel": lambda info, **args: mutations.order_cancel(shop, app[CANCEL_DELAY], info, notify=hooks, **args),
        "discountCodeBasicCreate": lambda info, **args: mutations.discount_code_basic_create(shop, info, **args),
        "codeDiscountNodeByCode": lambda info, code: shop.discounts.get(code.strip().lower()),
        "webhookSubscriptionCreate": lambda info, **args: hooks.create(**args),
        "webhookSubscriptionDelete": lambda info, id: hooks.delete(id),
        "webhookSubscriptions": lambda info, **args: graphql_kit.connection(
            hooks.listed(args.get("topics"), args.get("callbackUrl")),
            args.get("first"),
            args.get("last"),
            args.get("after"),
            args.get("before"),
        ),
    }


async def graphql_endpoint(request: web.Request) -> web.Response:
    app = request.app
    if request.match_info["version"] != API_VERSION:
        return web.json_response({"errors": "Not Found"}, status=404)
    if request.headers.get("X-Shopify-Access-Token", "") != app[TOKEN]:
        return web.json_response({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, status=401)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
    schema = graphql_kit.load_schema(schema_path())
    try:
        parsed = graphql_kit.read_request(schema, body)
    except graphql_kit.Rejected as exc:
        return web.json_response({"errors": exc.errors})
    try:
        requested, _ = cost.costs(schema, parsed.document, parsed.operation, parsed.values)
    except cost.CostError as exc:
        return web.json_response({"errors": [{"message": str(exc), "extensions": {"code": "BAD_REQUEST"}}]})
    ok, status = take(app, requested)
    if requested > status["maximumAvailable"]:
        return web.json_response(_too_costly(requested, status))
    extensions: dict[str, Any] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}}
    if not ok:
        return web.json_response(
            {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
                    }
                ],
                "extensions": extensions,
            }
        )
    root = _root(app)
    result = graphql_kit.run(schema, parsed, root)
    _, actual = cost.costs(schema, parsed.document, parsed.operation, parsed.values, result.data)
    refund_points(app, requested - actual)
    status["currentlyAvailable"] = int(app[BUCKET]["available"])
    extensions["cost"]["actualQueryCost"] = actual
    answer: dict[str, Any] = {"data": result.data, "extensions": extensions}
    if result.errors:
        answer["errors"] = [e.formatted if isinstance(e, GraphQLError) else {"message": str(e)} for e in result.errors]
    return web.json_response(answer)


def _seed(app: web.Application) -> None:
    app[SHOP] = data.build_shop()
    app[BUCKET] = {}


def create_app(
    access_token: str = data.ACCESS_TOKEN,
    *,
    bucket: int = DEFAULT_BUCKET,
    refill_ms: int = DEFAULT_REFILL_MS,
    cancel_delay_s: float = 0.2,
    client_secret: str = data.CLIENT_SECRET,
) -> web.Application:
    """``bucket`` points, refilled completely in ``refill_ms`` (the knobs ``rate_limit_quota`` and
    ``rate_limit_window_ms``); a cancellation is carried out ``cancel_delay_s`` after it is asked."""
    app = web.Application(middlewares=[knobs_middleware(error_response)])
    state = SandboxState()
    state.knobs.rate_limit_quota, state.knobs.rate_limit_window_ms = bucket, refill_ms
    app[STATE] = state
    app[TOKEN] = access_token
    app[CANCEL_DELAY] = cancel_delay_s
    app[DATA_KEYS] = {"shop": SHOP}
    app[HOOKS] = Webhooks(add_delivery_routes(app, state), client_secret)
    _seed(app)
    graphql_kit.load_schema(schema_path())  # built once, at start
    app.router.add_post("/admin/api/{version}/graphql.json", graphql_endpoint)
    add_control_routes(app, _seed)
    return app
