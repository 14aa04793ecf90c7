"""An aiohttp server imitating ReturnLogic's V1 REST API (facts in
the vendor's API page (``vendor-specs/README.md``); no machine-readable spec is public):

- ``GET /v1/rmas?email=`` (case-insensitive exact match), ``skip``, ``limit`` (1-250)
- ``GET /v1/orders?email=|orderNumber=``, ``skip``, ``limit`` (1-250)

Lists answer a bare JSON array, as the vendor's API page shows (a page shorter than
``limit`` is the last); RMAs come oldest first (the API promises no order, so the connector
sorts). A maintenance 503 carries ``X-RateLimit-Remaining-Second: 0``, as the gateway
ReturnLogic sits behind sends it.

``Authorization: Bearer <api key>``; per key 2 requests/s and 120/min with the
``X-RateLimit-Limit-Second``, ``X-RateLimit-Limit-Minute``,
``X-RateLimit-Remaining-Second`` and ``X-RateLimit-Remaining-Minute`` headers;
errors 400, 401, 429 and 503 (maintenance, from the ``down`` knob).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.kit import DATA_KEYS
from linkmesh_sandboxes.knobs import STATE, SandboxState, add_control_routes, knobs_middleware
from linkmesh_sandboxes.returnlogic.data import API_KEY, Account, build_account

ACCOUNT = web.AppKey("returnlogic_account", Account)
KEY = web.AppKey("returnlogic_key", str)
LIMITS = web.AppKey("returnlogic_limits", dict)
SENT = web.AppKey("returnlogic_sent", dict)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NAMES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    response = web.json_response({"statusCode": status, "error": NAMES.get(status, "Error"), "message": message}, status=status)
    if status == 503:  # maintenance, answered by the gateway in front of the API with its rate-limit headers
        limits = request.app[LIMITS]
        response.headers.update(
            {
                "X-RateLimit-Limit-Second": str(limits["second"]),
                "X-RateLimit-Limit-Minute": str(limits["minute"]),
                "X-RateLimit-Remaining-Second": "0",
                "X-RateLimit-Remaining-Minute": str(limits["minute"]),
            }
        )
    return response


@web.middleware
async def key_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/v1/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    if header != f"Bearer {request.app[KEY]}":
        return error_response(request, 401, "Invalid or missing API key")
    per_second, per_minute = request.app[LIMITS]["second"], request.app[LIMITS]["minute"]
    now = time.monotonic()
    sent: deque[float] = request.app[SENT].setdefault(header, deque())
    while sent and now - sent[0] >= 60:
        sent.popleft()
    in_second = sum(1 for t in sent if now - t < 1)
    allowed = in_second < per_second and len(sent) < per_minute
    if allowed:
        sent.append(now)
        in_second += 1
    headers = {
        "X-RateLimit-Limit-Second": str(per_second),
        "X-RateLimit-Limit-Minute": str(per_minute),
        "X-RateLimit-Remaining-Second": str(max(per_second - in_second, 0)),
        "X-RateLimit-Remaining-Minute": str(max(per_minute - len(sent), 0)),
    }
    if not allowed:
        response = error_response(request, 429, "API rate limit exceeded")
    else:
        response = await handler(request)  # type: ignore[assignment]
    response.headers.update(headers)
    return response


def _page(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    try:
        skip = int(request.query.get("skip", "0"))
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        return error_response(request, 400, "skip and limit must be integers")
    if skip < 0 or not 1 <= limit <= 250:
        return error_response(request, 400, "limit must be between 1 and 250 and skip at least 0")
    return web.json_response(items[skip : skip + limit])


async def list_rmas(request: web.Request) -> web.Response:
    email = request.query.get("email", "").strip().lower()
    rmas = [r for r in request.app[ACCOUNT].rmas if not email or r["customerEmail"].lower() == email]
    rmas.sort(key=lambda r: r["timeline"]["createDate"])
    return _page(request, rmas)


async def list_orders(request: web.Request) -> web.Response:
    email = request.query.get("email", "").strip().lower()
    number = request.query.get("orderNumber", "").strip().lstrip("#")
    orders = [
        o
        for o in request.app[ACCOUNT].orders
        if (not email or o["customerEmail"].lower() == email) and (not number or o["orderNumber"] == number)
    ]
    orders.sort(key=lambda o: o["createDate"], reverse=True)
    return _page(request, orders)


def _seed(app: web.Application) -> None:
    app[ACCOUNT] = build_account(app[KEY])
    app[SENT].clear()


def create_app(api_key: str = API_KEY, per_second: int = 2, per_minute: int = 120) -> web.Application:
    app = web.Application(middlewares=[knobs_middleware(error_response), key_middleware])
    app[STATE] = SandboxState()
    app[KEY] = api_key
    app[LIMITS] = {"second": per_second, "minute": per_minute}
    app[SENT] = {}
    _seed(app)
    app.router.add_get("/v1/rmas", list_rmas)
    app.router.add_get("/v1/orders", list_orders)
    add_control_routes(app, _seed)
    app[DATA_KEYS] = {"account": ACCOUNT}
    return app
