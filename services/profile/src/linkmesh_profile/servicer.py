"""The ProfileService gRPC API."""

from __future__ import annotations

from typing import Any

import grpc
from linkmesh.profile.v1 import profile_pb2, profile_pb2_grpc

from linkmesh_core.errors import invalid_argument
from linkmesh_profile import customers
from linkmesh_profile.apps import AppService
from linkmesh_profile.contact import normalized_query
from linkmesh_profile.documents import app_to_proto, customer_to_proto
from linkmesh_profile.linking import Linker
from linkmesh_profile.store import Store


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, store: Store, apps: AppService, linker: Linker, region: str) -> None:
        self.store = store
        self.apps = apps
        self.linker = linker
        self.region = region

    async def _customer(self, doc: dict[str, Any]) -> profile_pb2.Customer:
        links = doc.get("links") or {}
        apps = {}
        for app_id in links:
            app = await self.store.get_app(app_id)
            if app is not None:
                apps[app_id] = app
        return customer_to_proto(doc, apps)

    async def CreateCustomer(self, request: profile_pb2.CreateCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        return await self._customer(await customers.create_customer(self.store, request.customer, self.region))

    async def GetCustomer(self, request: profile_pb2.GetCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        return await self._customer(await customers.require_customer(self.store, request.id))

    async def UpdateCustomer(self, request: profile_pb2.UpdateCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        doc = await customers.update_customer(self.store, request.id, request.customer, list(request.update_mask.paths), self.region)
        return await self._customer(doc)

    async def FindCustomers(self, request: profile_pb2.FindCustomersRequest, context: grpc.aio.ServicerContext) -> profile_pb2.FindCustomersResponse:
        if not request.email.strip() and not request.phone.strip():
            raise invalid_argument("give an email or a phone", {"email": "give an email or a phone"})
        email, phone = normalized_query(request.email, request.phone, self.region)
        docs = await self.store.find_customers(email, phone)
        return profile_pb2.FindCustomersResponse(customers=[await self._customer(d) for d in docs])

    async def ListConnectors(self, request: profile_pb2.ListConnectorsRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListConnectorsResponse:
        out = []
        for connector_type, answer in (await self.apps.connectors.describe_all()).items():
            info = profile_pb2.ConnectorInfo(type=connector_type)
            if isinstance(answer, Exception):
                info.error_code = answer.code.name  # type: ignore[attr-defined]
                info.error_message = answer.message  # type: ignore[attr-defined]
            else:
                info.describe.CopyFrom(answer)
            out.append(info)
        return profile_pb2.ListConnectorsResponse(connectors=out)

    async def CreateApp(self, request: profile_pb2.CreateAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.App:
        return app_to_proto(await self.apps.create(request.app))

    async def GetApp(self, request: profile_pb2.GetAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.App:
        return app_to_proto(await self.apps.require(request.id))

    async def ListApps(self, request: profile_pb2.ListAppsRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListAppsResponse:
        return profile_pb2.ListAppsResponse(apps=[app_to_proto(a) for a in await self.apps.list()])

    async def UpdateApp(self, request: profile_pb2.UpdateAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.App:
        return app_to_proto(await self.apps.update(request.id, request.app, list(request.update_mask.paths)))

    async def DeleteApp(self, request: profile_pb2.DeleteAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.DeleteAppResponse:
        await self.apps.delete(request.id)
        return profile_pb2.DeleteAppResponse()

    async def ListSearchTargets(self, request: profile_pb2.ListSearchTargetsRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListSearchTargetsResponse:
        return profile_pb2.ListSearchTargetsResponse(apps=[app_to_proto(a) for a in await self.linker.search_targets(request.customer_id)])

    async def SearchExternal(self, request: profile_pb2.SearchExternalRequest, context: grpc.aio.ServicerContext) -> profile_pb2.SearchExternalResponse:
        return await self.linker.search(request)

    async def LinkCustomer(self, request: profile_pb2.LinkCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        return await self._customer(await self.linker.link(request.customer_id, request.app_id, request.external_customer_id))

    async def UnlinkCustomer(self, request: profile_pb2.UnlinkCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        return await self._customer(await self.linker.unlink_all(request.customer_id))
