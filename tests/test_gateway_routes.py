"""The gateway fails closed: every API route declares the roles it allows, and one that
declares none refuses every role. 405 answers say which methods are allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from linkmesh_gateway.app import init_app
from linkmesh_gateway.config import Settings
from linkmesh_gateway.middleware import PUBLIC_PATHS, ROLES_KEY

TOKENS = "admin:admin-token-1,agent:agent-token-1,developer:developer-token-1"


def gateway() -> web.Application:
    return init_app(Settings(LINKMESH_TOKENS=TOKENS, profile_addr="127.0.0.1:1"))  # type: ignore[call-arg]


def api_routes(app: web.Application) -> list[tuple[str, str, object]]:
    out: list[tuple[str, str, object]] = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/") and path not in PUBLIC_PATHS and route.method != "HEAD":
            out.append((route.method, path, route.handler))
    return out


def test_every_api_route_declares_its_roles() -> None:
    routes = api_routes(gateway())
    assert len(routes) >= 20
    undeclared = [f"{method} {path}" for method, path, handler in routes if not getattr(handler, ROLES_KEY, None)]
    assert undeclared == []


@pytest.fixture()
async def client() -> AsyncIterator[TestClient]:
    app = gateway()

    async def forgotten(request: web.Request) -> web.Response:  # a route someone added without @allow
        return web.json_response({"secret": True})

    app.router.add_get("/api/v1/forgotten", forgotten)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_a_route_that_declares_no_roles_refuses_every_role(client: TestClient) -> None:
    for role in ("admin", "agent", "developer"):
        response = await client.get("/api/v1/forgotten", headers={"Authorization": f"Bearer {role}-token-1"})
        assert response.status == 403, role
        assert (await response.json())["error"]["code"] == "forbidden"


async def test_a_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = await client.put("/api/v1/apps", headers={"Authorization": "Bearer admin-token-1"})
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}
    assert (await response.json())["error"]["code"] == "method_not_allowed"
