"""Secrets go only where an admin sent them: no redirects to another origin with
credentials, no private or link-local destinations unless the deployment allows
them (checked on the address connected to), no credentials inside a URL, and no
vendor error page echoed into a message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest
from aiohttp import web
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce.client import BigCommerceErrors
from linkmesh_core.destinations import address_allowed, url_problem
from linkmesh_core.errors import NOT_SENT, OUTCOME_UNKNOWN, ServiceError
from linkmesh_core.vendor_http import Deadline, VendorHTTP
from linkmesh_sandboxes.knobs import Failure
from tests.inprocess import bigcommerce_app, bigcommerce_connector, bigcommerce_sandbox, running


@asynccontextmanager
async def vendor_client(allow_private: bool = True) -> AsyncIterator[VendorHTTP]:
    http = VendorHTTP("BigCommerce", errors=BigCommerceErrors(), allow_private_hosts=allow_private, max_attempts=2)
    await http.start()
    try:
        yield http
    finally:
        await http.close()


@asynccontextmanager
async def recorder() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A server that records what reached it (and the token it was given)."""
    seen: list[dict[str, str]] = []

    async def anything(request: web.Request) -> web.Response:
        seen.append({"path": request.path, "method": request.method, "token": request.headers.get("X-Auth-Token", "")})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    async with running(app) as server:
        yield server.url, seen


@asynccontextmanager
async def redirecting(to: str) -> AsyncIterator[str]:
    async def redirect(request: web.Request) -> web.Response:
        if request.path == "/same":
            raise web.HTTPFound("/final")
        if request.path == "/final":
            return web.json_response({"followed": True})
        raise web.HTTPTemporaryRedirect(f"{to}{request.path}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    async with running(app) as server:
        yield server.url


async def test_a_redirect_to_another_origin_is_a_vendor_error_and_the_token_stays_home() -> None:
    async with recorder() as (elsewhere, seen), redirecting(elsewhere) as url, vendor_client() as http:
        for method in ("GET", "POST"):
            with pytest.raises(ServiceError) as info:
                await http.request(method, f"{url}/v2/orders", bucket="b", deadline=Deadline.after(5), headers={"X-Auth-Token": "tok-123"})
            err = info.value
            assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "api_base_url" in err.fields
            assert "redirect" in err.message and "tok-123" not in err.message
            assert err.outcome == (OUTCOME_UNKNOWN if method == "POST" else None)
        assert seen == [], "nothing (and no token) reached the other origin"
        followed = await http.request("GET", f"{url}/same", bucket="b", deadline=Deadline.after(5))
        assert followed == {"followed": True}, "a read redirected within its own origin is followed"


async def test_private_destinations_are_refused_on_the_address_connected_to() -> None:
    async with recorder() as (url, seen), vendor_client(allow_private=False) as http:
        port = url.rsplit(":", 1)[1]
        for target in (url, f"http://localhost:{port}", "http://169.254.169.254/latest/meta-data", "http://[::1]:9/"):
            with pytest.raises(ServiceError) as info:
                await http.request("POST", f"{target}/v2/coupons", bucket="b", deadline=Deadline.after(5), json_body={})
            err = info.value
            assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "api_base_url" in err.fields, target
            assert err.outcome == NOT_SENT
        assert seen == [], "no request reached a private address"
    async with recorder() as (url, seen), vendor_client(allow_private=True) as http:
        assert await http.request("GET", f"{url}/ok", bucket="b", deadline=Deadline.after(5)) == {"ok": True}
        assert len(seen) == 1, "a deployment that allows private hosts (make run, the tests) reaches them"


@pytest.mark.parametrize(
    "address, allowed",
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_which_addresses_credentials_may_go_to(address: str, allowed: bool) -> None:
    assert address_allowed(address) is allowed


def test_credentials_inside_a_url_are_refused() -> None:
    assert url_problem("https://user:pass@api.example.com") is not None
    assert url_problem("https://api.example.com/v1") is None
    assert url_problem("ftp://api.example.com") is not None


async def test_validate_app_names_the_url_at_fault() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        app = bigcommerce_app(sandbox.url.replace("http://", "http://admin:pw@"))
        answer = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=app), timeout=5)
        assert not answer.ok and [e.field for e in answer.errors] == ["api_base_url"]
        assert "credentials" in answer.errors[0].message


async def test_a_vendor_error_page_is_not_echoed_but_kept_for_the_debugger() -> None:
    page = "<html><body>Internal admin console: db=10.0.0.7 user=root</body></html>"
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=1) as stub:
        sandbox.knobs.fail = Failure(status=500, raw_body=page)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url), emails=["a@b.co"]), timeout=5)
        err = ServiceError.from_rpc_error(info.value)
        assert err.code == grpc.StatusCode.UNAVAILABLE
        assert "admin console" not in err.message and "<html" not in err.message and len(err.message) < 200
        assert "admin console" in err.debug, "the raw answer travels only as the debugger's detail"
        assert "admin console" not in err.public().debug
