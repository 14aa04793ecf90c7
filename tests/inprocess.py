"""In-process servers for component tests: a sandbox on a real socket and a
connector on a real gRPC port, both in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from aiohttp import web
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc

from linkmesh_bigcommerce.client import BigCommerceClient, BigCommerceErrors, BigCommerceRateLimit
from linkmesh_bigcommerce.connector import BigCommerce
from linkmesh_core.budget import LocalBudget
from linkmesh_core.channels import open_channel
from linkmesh_core.request_context import RequestContextInterceptor
from linkmesh_core.sdk import LookupAdapter
from linkmesh_core.vendor_http import RetryAfter, VendorHTTP
from linkmesh_devstack.ports import free_port
from linkmesh_lookup_adaptor.client import AdaptorClient, AdaptorErrors
from linkmesh_lookup_adaptor.connector import LookupAdaptorConnector
from linkmesh_magento.client import MagentoClient, MagentoErrors
from linkmesh_magento.connector import Magento
from linkmesh_returnlogic.client import WINDOWS as RETURNLOGIC_WINDOWS
from linkmesh_returnlogic.client import ReturnLogicClient, ReturnLogicErrors, ReturnLogicRateLimit, ReturnLogicUnavailable
from linkmesh_returnlogic.connector import ReturnLogic
from linkmesh_sandboxes.bigcommerce import data
from linkmesh_sandboxes.bigcommerce.app import create_app
from linkmesh_sandboxes.knobs import STATE, Knobs
from linkmesh_sandboxes.lookup_adaptor import data as adaptor_data
from linkmesh_sandboxes.lookup_adaptor.app import create_app as create_adaptor_app
from linkmesh_sandboxes.magento import data as magento_data
from linkmesh_sandboxes.magento.app import create_app as create_magento_app
from linkmesh_sandboxes.returnlogic import data as returnlogic_data
from linkmesh_sandboxes.returnlogic.app import create_app as create_returnlogic_app


@dataclass
class RunningSandbox:
    url: str
    app: web.Application

    @property
    def knobs(self) -> Knobs:
        return self.app[STATE].knobs

    @property
    def requests(self) -> list[dict]:
        return list(self.app[STATE].requests)


@asynccontextmanager
async def bigcommerce_sandbox(**kwargs: Any) -> AsyncIterator[RunningSandbox]:
    async with running(create_app(**kwargs)) as sandbox:
        yield sandbox


@asynccontextmanager
async def magento_sandbox(**limits: Any) -> AsyncIterator[RunningSandbox]:
    async with running(create_magento_app(**limits)) as sandbox:
        yield sandbox


@asynccontextmanager
async def returnlogic_sandbox(**limits: Any) -> AsyncIterator[RunningSandbox]:
    async with running(create_returnlogic_app(**limits)) as sandbox:
        yield sandbox


@asynccontextmanager
async def running(app: web.Application) -> AsyncIterator[RunningSandbox]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield RunningSandbox(f"http://127.0.0.1:{port}", app)
    finally:
        await runner.cleanup()


def bigcommerce_app(url: str, token: str = data.ACCESS_TOKEN, store_hash: str = data.STORE_HASH) -> lookup_pb2.AppContext:
    return lookup_pb2.AppContext(
        app_id="test-app", settings={"store_hash": store_hash, "api_base_url": url}, secrets={"access_token": token}
    )


def magento_app(url: str, token: str = magento_data.ACCESS_TOKEN, **settings: str) -> lookup_pb2.AppContext:
    return lookup_pb2.AppContext(app_id="test-app", settings={"api_base_url": url, **settings}, secrets={"access_token": token})


@asynccontextmanager
async def bigcommerce_connector(max_attempts: int = 3) -> AsyncIterator[lookup_pb2_grpc.LookupServiceStub]:
    http = VendorHTTP(
        "BigCommerce", rate_limit=BigCommerceRateLimit(), errors=BigCommerceErrors(), max_attempts=max_attempts, allow_private_hosts=True
    )
    async with serving(http, LookupAdapter(BigCommerce(BigCommerceClient(http)), 10.0)) as stub:
        yield stub


@asynccontextmanager
async def bigcommerce_target(max_attempts: int = 3) -> AsyncIterator[str]:
    """A BigCommerce connector on a loopback port: its gRPC target."""
    http = VendorHTTP(
        "BigCommerce", rate_limit=BigCommerceRateLimit(), errors=BigCommerceErrors(), max_attempts=max_attempts, allow_private_hosts=True
    )
    await http.start()
    server = grpc.aio.server(interceptors=[RequestContextInterceptor()])
    lookup_pb2_grpc.add_LookupServiceServicer_to_server(LookupAdapter(BigCommerce(BigCommerceClient(http)), 10.0), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)
        await http.close()


@asynccontextmanager
async def magento_connector(max_attempts: int = 3) -> AsyncIterator[lookup_pb2_grpc.LookupServiceStub]:
    http = VendorHTTP("Magento", rate_limit=RetryAfter(), errors=MagentoErrors(), max_attempts=max_attempts, allow_private_hosts=True)
    async with serving(http, LookupAdapter(Magento(MagentoClient(http)), 10.0)) as stub:
        yield stub


def returnlogic_app(url: str, key: str = returnlogic_data.API_KEY) -> lookup_pb2.AppContext:
    return lookup_pb2.AppContext(
        app_id="test-app", settings={"api_base_url": f"{url}/v1", "app_base_url": "https://app.example"}, secrets={"api_key": key}
    )


@asynccontextmanager
async def returnlogic_connector() -> AsyncIterator[lookup_pb2_grpc.LookupServiceStub]:
    http = VendorHTTP(
        "ReturnLogic",
        rate_limit=ReturnLogicRateLimit(),
        errors=ReturnLogicErrors(),
        budget=LocalBudget("ReturnLogic", RETURNLOGIC_WINDOWS),
        unavailable_policy=ReturnLogicUnavailable(),
        allow_private_hosts=True,
    )
    async with serving(http, LookupAdapter(ReturnLogic(ReturnLogicClient(http)), 10.0)) as stub:
        yield stub


@asynccontextmanager
async def lookup_adaptor_sandbox(**kwargs: str) -> AsyncIterator[RunningSandbox]:
    async with running(create_adaptor_app(**kwargs)) as sandbox:
        yield sandbox


def lookup_adaptor_app(
    url: str, key: str = adaptor_data.SIGNING_KEY, username: str = adaptor_data.USERNAME, password: str = adaptor_data.PASSWORD
) -> lookup_pb2.AppContext:
    return lookup_pb2.AppContext(
        app_id="test-app",
        settings={"url": f"{url}/lookup", **({"username": username} if username else {})},
        secrets={"signing_key": key, **({"password": password} if password else {})},
    )


@asynccontextmanager
async def lookup_adaptor_connector(max_attempts: int = 3) -> AsyncIterator[lookup_pb2_grpc.LookupServiceStub]:
    http = VendorHTTP(
        "the lookup adaptor", rate_limit=RetryAfter(), errors=AdaptorErrors(), max_attempts=max_attempts, allow_private_hosts=True
    )
    async with serving(http, LookupAdapter(LookupAdaptorConnector(AdaptorClient(http)), 10.0)) as stub:
        yield stub


@asynccontextmanager
async def serving(http: VendorHTTP, servicer: lookup_pb2_grpc.LookupServiceServicer) -> AsyncIterator[lookup_pb2_grpc.LookupServiceStub]:
    await http.start()
    server = grpc.aio.server(interceptors=[RequestContextInterceptor()])
    lookup_pb2_grpc.add_LookupServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = open_channel(f"127.0.0.1:{port}")  # the production channel: its retry policy is under test too
    try:
        yield lookup_pb2_grpc.LookupServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(0)
        await http.close()
