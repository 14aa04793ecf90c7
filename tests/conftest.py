"""Shared fixtures: a real MongoDB server, the BigCommerce sandbox, and the
whole stack as real processes for end-to-end tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from linkmesh_core.budget import COLLECTION as BUDGETS
from linkmesh_devstack.mongo import MongoServer, start_mongo
from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import Stack
from tests.logcheck import problems, tracebacks
from tests.specs import validate_gateway_response


@pytest.fixture(scope="session", autouse=True)
def every_log_line_is_json(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Torn down last: every line every service of this run wrote parses as one JSON object."""
    yield
    bad = problems(tmp_path_factory.getbasetemp())
    assert not bad, "lines that are not JSON:\n" + "\n".join(bad[:40])


@pytest.fixture(scope="session")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    base = tmp_path_factory.mktemp("mongo")
    server = start_mongo(base / "data", log_dir=base)
    yield server
    server.stop()


# A helpdesk page on another origin frames the sidebar in the console's tests (tests/e2e/test_sidebar.py).
HELPDESK_PORT = free_port()


class Api:
    """A gateway client that checks every answer against the gateway's OpenAPI document."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.session = requests.Session()
        self.doc = self.session.get(f"{stack.gateway_url}/api/v1/openapi.json", timeout=10).json()

    def call(
        self,
        method: str,
        path: str,
        role: str | None = "agent",
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        elif role is not None:
            h["Authorization"] = f"Bearer {self.stack.token(role)}"
        response = self.session.request(method, f"{self.stack.gateway_url}{path}", json=body, headers=h, params=params, timeout=30)
        payload = response.json() if response.content else None
        validate_gateway_response(self.doc, path, method, response.status_code, payload)
        return response

    def get(self, path: str, role: str | None = "agent", **kw: Any) -> requests.Response:
        return self.call("GET", path, role, **kw)

    def post(self, path: str, body: Any = None, role: str = "agent", **kw: Any) -> requests.Response:
        return self.call("POST", path, role, body=body, **kw)

    def patch(self, path: str, body: Any = None, role: str = "agent", **kw: Any) -> requests.Response:
        return self.call("PATCH", path, role, body=body, **kw)

    def delete(self, path: str, role: str = "agent", **kw: Any) -> requests.Response:
        return self.call("DELETE", path, role, **kw)

    def sandbox(self, vendor: str, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, f"{self.stack.sandbox_url(vendor)}{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(
        base_dir=tmp_path_factory.mktemp("stack"),
        extra_env={
            "GATEWAY_FRAME_ANCESTORS": f"http://localhost:{HELPDESK_PORT}",
            "GATEWAY_SEARCH_TIMEOUT_S": "2",
            "PROFILE_FRESHNESS_S": "1",
            # Data change events keep fresh is read on open as any other (test_live_profile.py shows it need not be).
            "PROFILE_EVENTS_FRESHNESS_S": "1",
            # A BigCommerce Pro plan's budget (450 requests in 30 s, the sandbox's default is Standard's
            # 150): the tests make and remove an app each, and each app's three hooks spend four calls
            # to make and four to remove (docs/events.md).
            "SANDBOX_RATE_LIMIT_QUOTA": "450",
            "PROFILE_ACTION_TIMEOUT_S": "3",
            "PROFILE_BREAKER_COOLDOWN_S": "2",
            "PROFILE_ACTION_RESOLVE_DELAYS_S": "2,2,2",
            "PROFILE_ACTION_RESOLVE_EVERY_S": "0.3",
            "GATEWAY_METRICS_PORT": str(free_port()),
            "PROFILE_METRICS_PORT": str(free_port()),
        },
    )
    s.start()
    yield s
    s.stop()
    secrets = s.demo_secrets()  # every connector's demo secrets, from its declaration
    assert secrets
    for service in s.services.values():
        if service.name.startswith("sandbox"):
            continue
        log = service.log_tail(50_000_000)
        assert not tracebacks(log), f"{service.name} logged a traceback:\n{tracebacks(log)[0][:4000]}"
        for secret in secrets:
            assert secret not in log, f"{service.name} logged a vendor secret over the whole session"


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack)


@pytest.fixture()
def own_app(api: Api) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Makes an app of a connector as make run's demo app, under a name of its own and without
    auto-link (the session's stack is shared: a test's apps must not link another's customers),
    and deletes it afterwards."""
    made: list[dict[str, Any]] = []

    def make(vendor: str) -> dict[str, Any]:
        payload = next(p for p in api.stack.demo_apps() if p["type"] == vendor)
        response = api.post(
            "/api/v1/apps", {**payload, "name": f"{payload['name']} {uuid.uuid4().hex[:6]}", "auto_link_fields": []}, role="admin"
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
        return made[-1]

    yield make
    for app in made:
        api.delete(f"/api/v1/apps/{app['id']}", role="admin")


@pytest.fixture()
def sandbox_reset(api: Api) -> Iterator[None]:
    """Every sandbox back to its demo data and default knobs, before and after, and the vendor
    budgets the connectors share forgotten with them (a hold a sandbox's rate limit asked for
    ends with the window the reset cleared)."""

    def reset() -> None:
        for vendor in api.stack.vendors:
            api.sandbox(vendor, "POST", "/__sandbox/reset")
        assert api.stack.mongo is not None
        with MongoClient[dict[str, Any]](api.stack.mongo.uri) as client:
            client["linkmesh"][BUDGETS].delete_many({})

    reset()
    yield
    reset()


ROOT = Path(__file__).resolve().parents[1]
