"""AdminService: admins' work (the connectors, apps, the lookup debugger, API keys, the audit log)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import grpc
from linkmesh.profile.v1 import admin_pb2_grpc, profile_pb2

from linkmesh_profile.admin.api_keys import key_to_proto
from linkmesh_profile.admin.audit import actor, audited
from linkmesh_profile.db.documents import app_to_proto

if TYPE_CHECKING:
    from linkmesh_profile.assembly import Parts
    from linkmesh_profile.model.app import App

Context: TypeAlias = grpc.aio.ServicerContext


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.apps = parts.apps
        self.audit = parts.audit

    async def ListConnectors(self, request: profile_pb2.ListConnectorsRequest, context: Context) -> profile_pb2.ListConnectorsResponse:
        out = []
        for connector_type, answer in (await self.apps.connectors.describe_all()).items():
            info = profile_pb2.ConnectorInfo(type=connector_type)
            if isinstance(answer, Exception):
                info.error_code = answer.code.name
                info.error_message = answer.message
            else:
                info.describe.CopyFrom(answer)
            out.append(info)
        return profile_pb2.ListConnectorsResponse(connectors=out)

    @audited("app.create", lambda q, r: {"app_id": r.id if r else "", "details": {"type": q.app.type, "name": q.app.name}})
    async def CreateApp(self, request: profile_pb2.CreateAppRequest, context: Context) -> profile_pb2.App:
        app = await self.apps.create(request.app)
        await self.parts.subscriptions.ensure(app)
        return self._with_health(await self.apps.require(app.id))

    async def GetApp(self, request: profile_pb2.GetAppRequest, context: Context) -> profile_pb2.App:
        return self._with_health(await self.apps.require(request.id))

    async def ListApps(self, request: profile_pb2.ListAppsRequest, context: Context) -> profile_pb2.ListAppsResponse:
        return profile_pb2.ListAppsResponse(apps=[self._with_health(a) for a in await self.apps.list()])

    async def store_app(self, app_id: str) -> App | None:
        return await self.parts.store.get_app(app_id)

    def _with_health(self, app: App) -> profile_pb2.App:
        out = app_to_proto(app)
        out.health.CopyFrom(self.parts.lookup_log.health_of(app))
        return out

    @audited("app.update", lambda q, r: {"app_id": q.id, "action": app_write(q), "details": {"fields": ",".join(q.update_mask.paths)}})
    async def UpdateApp(self, request: profile_pb2.UpdateAppRequest, context: Context) -> profile_pb2.App:
        paths = list(request.update_mask.paths)
        before = await self.apps.require(request.id)
        app = await self.apps.update(request.id, request.app, paths)
        if not app.active and before.active:
            await self.parts.subscriptions.remove(before)
        elif app.active and (not before.active or {"settings", "secrets"} & {p.split(".")[0] for p in paths}):
            await self.parts.subscriptions.ensure(app)
        return self._with_health(await self.apps.require(app.id))

    @audited("app.delete", lambda q, r: {"app_id": q.id})
    async def DeleteApp(self, request: profile_pb2.DeleteAppRequest, context: Context) -> profile_pb2.DeleteAppResponse:
        existing = await self.store_app(request.id)
        if existing is not None:
            await self.parts.subscriptions.remove(existing)
        await self.apps.delete(request.id)
        return profile_pb2.DeleteAppResponse()

    async def ListLookups(self, request: profile_pb2.ListLookupsRequest, context: Context) -> profile_pb2.ListLookupsResponse:
        return await self.parts.lookup_log.page(request)

    # A dry run reads a person's vendor profile: who looked up which email or phone is recorded (never the answer).
    @audited("debugger.lookup", lambda q, r: {"app_id": q.app_id, "details": {"email": q.email, "phone": q.phone, "workflow": q.workflow}})
    async def DebugLookup(self, request: profile_pb2.DebugLookupRequest, context: Context) -> profile_pb2.DebugLookupResponse:
        return await self.parts.debugger.run(request)

    @audited("api_key.create", lambda q, r: {"api_key_id": r.key.id if r else "", "details": {"name": q.name, "role": q.role}})
    async def CreateApiKey(self, request: profile_pb2.CreateApiKeyRequest, context: Context) -> profile_pb2.CreatedApiKey:
        doc, secret = await self.parts.api_keys.create(request, actor())
        return profile_pb2.CreatedApiKey(key=key_to_proto(doc), secret=secret)

    async def ListApiKeys(self, request: profile_pb2.ListApiKeysRequest, context: Context) -> profile_pb2.ListApiKeysResponse:
        return profile_pb2.ListApiKeysResponse(keys=[key_to_proto(d) for d in await self.parts.api_keys.list(request.include_revoked)])

    @audited("api_key.revoke", lambda q, r: {"api_key_id": q.id})
    async def RevokeApiKey(self, request: profile_pb2.RevokeApiKeyRequest, context: Context) -> profile_pb2.ApiKey:
        return key_to_proto(await self.parts.api_keys.revoke(request.id, actor()))

    async def ListAudit(self, request: profile_pb2.ListAuditRequest, context: Context) -> profile_pb2.ListAuditResponse:
        return await self.audit.list(request)


def app_write(request: profile_pb2.UpdateAppRequest) -> str:
    if list(request.update_mask.paths) == ["active"]:
        return "app.activate" if request.app.active else "app.deactivate"
    return "app.update"
