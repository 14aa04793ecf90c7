"""What every route of the BigCommerce sandbox shares: the store a request names, its token, errors in V2 and V3 shapes, paging."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.bigcommerce.data import Store
from linkmesh_sandboxes.knobs import STATE, SandboxState

STORES = web.AppKey("bigcommerce_stores", dict)


SEEDS = web.AppKey("bigcommerce_seed_stores", list)


ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_v2(request: web.Request) -> bool:
    return "/v2/" in request.path


def error_response(request: web.Request, status: int, message: str, errors: dict[str, str] | None = None) -> web.Response:
    if is_v2(request):
        return web.json_response([{"status": status, "message": message}], status=status)
    return web.json_response({"status": status, "title": message, "type": ERROR_TYPE, "errors": errors or {}}, status=status)


def store_of(request: web.Request) -> Store:
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
    if is_v2(request):
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


def int_param(request: web.Request, name: str, default: int, lo: int = 1, hi: int = 250) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(name, f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise Invalid(name, f"{name} must be between {lo} and {hi}")
    return value


def csv_param(request: web.Request, name: str) -> list[str] | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    return [v for v in raw.split(",") if v != ""]


class Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def invalid(request: web.Request, exc: Invalid) -> web.Response:
    if is_v2(request):
        return error_response(request, 400, exc.message)
    return error_response(request, 422, "The filter(s) are invalid", {exc.field: exc.message})


def meta(total: int, page: int, limit: int, path: str) -> dict[str, Any]:
    pages = max(math.ceil(total / limit), 1) if total else 0
    links: dict[str, Any] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    count = max(min(limit, total - (page - 1) * limit), 0)
    return {"pagination": {"total": total, "count": count, "per_page": limit, "current_page": page, "total_pages": pages, "links": links}}


def v3_list_query(request: web.Request) -> tuple[int, int, set[int] | None]:
    """``page``, ``limit`` and ``id:in`` of a V3 list endpoint."""
    page, limit = int_param(request, "page", 1, 1, 10_000), int_param(request, "limit", 50)
    ids = csv_param(request, "id:in")
    try:
        return page, limit, ({int(i) for i in ids} if ids is not None else None)
    except ValueError:
        raise Invalid("id:in", "id:in must be a list of integers") from None


def v2_page(request: web.Request, items: list[dict[str, Any]]) -> web.StreamResponse:
    """A V2 sub-list: ``page`` and ``limit`` (default 50, at most 250), a bare array, and
    ``204 No Content`` when the page holds nothing. V2 says nothing of what follows."""
    try:
        page, limit = int_param(request, "page", 1, 1, 10_000), int_param(request, "limit", 50)
    except Invalid as exc:
        return invalid(request, exc)
    window = items[(page - 1) * limit : page * limit]
    if not window:
        return web.Response(status=204)
    return web.json_response(window)


async def json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise Invalid("body", "The request body is not valid JSON.") from None
