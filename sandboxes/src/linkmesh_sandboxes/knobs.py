"""Knobs every sandbox shares, so tests and benchmarks can exercise every path.

- ``latency_ms``: added to every vendor request.
- ``fail``: the next ``count`` requests (or every one, count -1) whose path
  contains ``path`` (and whose method is ``method``, when given) answer
  ``status`` with the vendor's error body. With ``after``, the request is
  carried out first and only its answer is lost: the vendor acted, then
  answered ``status`` (or, with status 0, answered nothing for ``hang_s``),
  the failure that makes a retried write dangerous. Status 0 without ``after``
  answers nothing for ``hang_s`` without acting. ``skip`` lets that many
  matching requests through first (page 1 of a list answers, page 2 fails).
- ``down``: every vendor request answers 503 (maintenance).
- rate-limit quota and window, enforced by the vendor app with its own headers.
- webhook deliveries sent twice or out of order, and the pace of their retries
  (``deliveries_duplicate``, ``deliveries_reorder``, ``delivery_backoff_s``).
- a bounded log of the vendor requests received (method, path, query, arrival time and
  the status answered), for tests to assert on.

Control endpoints (not part of any vendor API) live under ``/__sandbox``:
``GET|POST /__sandbox/knobs``, ``GET|DELETE /__sandbox/requests``,
``POST /__sandbox/reset``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

ErrorBody = Callable[[web.Request, int, str], web.Response]
CONTROL_PREFIX = "/__sandbox"


@dataclass
class Failure:
    status: int
    count: int = -1
    path: str = ""
    message: str = "injected failure"
    after: bool = False
    method: str = ""
    # A raw, non-JSON body to answer instead of the vendor's error shape (an HTML error page).
    raw_body: str = ""
    # The raw body's encoding (a proxy's page in a legacy charset such as cp1252 is not UTF-8).
    raw_body_charset: str = "utf-8"
    hang_s: float = 30.0
    # Matching requests let through before the failure starts.
    skip: int = 0


@dataclass
class Knobs:
    latency_ms: float = 0.0
    down: bool = False
    rate_limit_quota: int = 150
    rate_limit_window_ms: int = 30_000
    fail: Failure | None = None
    # Webhook deliveries (``linkmesh_sandboxes.deliveries``): each sent twice, or held a moment
    # and sent newest first; the first retry waits this long, each next one twice as long.
    deliveries_duplicate: bool = False
    deliveries_reorder: bool = False
    delivery_backoff_s: float = 0.2

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RateWindow:
    started: float = 0.0
    used: int = 0


@dataclass
class SandboxState:
    knobs: Knobs = field(default_factory=Knobs)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    windows: dict[str, RateWindow] = field(default_factory=dict)

    def take(self, bucket: str) -> tuple[bool, int, int]:
        """Counts one request against ``bucket``; returns (allowed, left, reset_ms)."""
        now = time.monotonic()
        window_s = self.knobs.rate_limit_window_ms / 1000
        w = self.windows.setdefault(bucket, RateWindow(now, 0))
        if now - w.started >= window_s:
            w.started, w.used = now, 0
        reset_ms = max(int((w.started + window_s - now) * 1000), 0)
        if w.used >= self.knobs.rate_limit_quota:
            return False, 0, reset_ms
        w.used += 1
        return True, self.knobs.rate_limit_quota - w.used, reset_ms


STATE = web.AppKey("sandbox_state", SandboxState)


def knobs_middleware(error_body: ErrorBody) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        state = request.app[STATE]
        entry: dict[str, Any] = {"method": request.method, "path": request.path, "query": request.query_string, "at": time.time()}
        state.requests.append(entry)
        try:
            response = await answer(request, handler, state)
        except web.HTTPException as exc:
            entry["status"] = exc.status
            raise
        entry["status"] = response.status
        return response

    async def answer(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]], state: SandboxState
    ) -> web.StreamResponse:
        knobs = state.knobs
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        if knobs.down:
            return error_body(request, 503, "The service is down for maintenance")
        fail = knobs.fail
        if fail is not None and fail.count != 0 and fail.path in request.path and fail.method.upper() in ("", request.method):
            if fail.skip > 0:
                fail.skip -= 1
                return await handler(request)
            if fail.count > 0:
                fail.count -= 1
            if fail.after:
                await handler(request)
            if fail.status == 0:
                await asyncio.sleep(fail.hang_s)
            if fail.raw_body:
                return web.Response(
                    status=fail.status,
                    body=fail.raw_body.encode(fail.raw_body_charset, "replace"),
                    content_type="text/html",
                    charset=fail.raw_body_charset,
                )
            return error_body(request, fail.status, fail.message)
        return await handler(request)

    return middleware


async def get_knobs(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].knobs.to_json())


async def set_knobs(request: web.Request) -> web.Response:
    body = await request.json()
    knobs = request.app[STATE].knobs
    errors = {}
    for key, value in body.items():
        if key == "fail":
            if value is None:
                knobs.fail = None
                continue
            try:
                knobs.fail = Failure(**value)
            except TypeError as exc:
                errors[key] = str(exc)
        elif hasattr(knobs, key):
            setattr(knobs, key, type(getattr(knobs, key))(value))
        else:
            errors[key] = "unknown knob"
    if errors:
        return web.json_response({"errors": errors}, status=422)
    request.app[STATE].windows.clear()
    return web.json_response(knobs.to_json())


async def get_requests(request: web.Request) -> web.Response:
    return web.json_response(list(request.app[STATE].requests))


async def clear_requests(request: web.Request) -> web.Response:
    request.app[STATE].requests.clear()
    return web.json_response([])


def add_control_routes(app: web.Application, reset: Callable[[web.Application], None]) -> None:
    async def do_reset(request: web.Request) -> web.Response:
        state = request.app[STATE]
        state.knobs = Knobs(rate_limit_quota=state.knobs.rate_limit_quota, rate_limit_window_ms=state.knobs.rate_limit_window_ms)
        state.requests.clear()
        state.windows.clear()
        reset(request.app)
        return web.json_response({"reset": True})

    app.router.add_get(f"{CONTROL_PREFIX}/knobs", get_knobs)
    app.router.add_post(f"{CONTROL_PREFIX}/knobs", set_knobs)
    app.router.add_get(f"{CONTROL_PREFIX}/requests", get_requests)
    app.router.add_delete(f"{CONTROL_PREFIX}/requests", clear_requests)
    app.router.add_post(f"{CONTROL_PREFIX}/reset", do_reset)
