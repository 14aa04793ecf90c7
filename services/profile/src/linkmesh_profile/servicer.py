"""The ProfileService gRPC API."""

from __future__ import annotations

from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2, profile_pb2_grpc

from linkmesh_core.errors import invalid_argument
from linkmesh_profile import customers
from linkmesh_profile.api_keys import ApiKeys, key_to_proto
from linkmesh_profile.apps import AppService
from linkmesh_profile.audit import AuditLog, actor, audited
from linkmesh_profile.autolink import AutoLinker
from linkmesh_profile.contact import normalized_query
from linkmesh_profile.contacts import Contacts
from linkmesh_profile.debugger import Debugger
from linkmesh_profile.directory import Directory
from linkmesh_profile.documents import app_to_proto, customer_to_proto
from linkmesh_profile.linking import Linker
from linkmesh_profile.order_actions import ActionRunner
from linkmesh_profile.served_adaptor import ServedAdaptor
from linkmesh_profile.store import Store
from linkmesh_profile.traces import TraceStore, trace_to_proto


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, store: Store, apps: AppService, linker: Linker, autolinker: AutoLinker, contacts: Contacts,
                 debugger: Debugger, traces: TraceStore, actions: ActionRunner, region: str, audit: AuditLog, api_keys: ApiKeys) -> None:
        self.store = store
        self.apps = apps
        self.linker = linker
        self.autolinker = autolinker
        self.contacts = contacts
        self.debugger = debugger
        self.traces = traces
        self.actions = actions
        self.region = region
        self.audit = audit
        self.api_keys = api_keys
        self.directory = Directory(store, region)
        self.served = ServedAdaptor(apps, linker.lookups, actions, region, audit)

    async def _customer(self, doc: dict[str, Any]) -> profile_pb2.Customer:
        apps = {}
        for app_id in doc.get("links") or {}:
            app = await self.store.get_app(app_id)
            if app is not None:
                apps[app_id] = app
        return customer_to_proto(doc, apps)

    async def _auto_linked(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Runs auto-link for a customer who has an email or phone; answers the stored profile."""
        if doc.get("emails") or doc.get("phones"):
            if (await self.autolinker.auto_link(doc)).linked:
                return await customers.require_customer(self.store, str(doc["_id"]))
        return doc

    @audited("customer.create", lambda q, r: {"customer_id": r.id if r else "", "details": {"fields": given_fields(q.customer)}})
    async def CreateCustomer(self, request: profile_pb2.CreateCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        doc = await customers.create_customer(self.store, request.customer, self.region)
        return await self._customer(await self._auto_linked(doc))

    async def GetCustomer(self, request: profile_pb2.GetCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        doc = await customers.require_customer(self.store, request.id)
        links = doc.get("links") or {}
        if request.refresh_app_id:  # one app (unlinked meanwhile: the profile as it is)
            others = frozenset(links) - {request.refresh_app_id}
            if request.refresh_app_id in links and (await self.linker.refresh(doc, skip=others)).changed:
                doc = await customers.require_customer(self.store, request.id)
        elif not request.skip_refresh and links and (await self.linker.refresh(doc)).changed:
            doc = await customers.require_customer(self.store, request.id)
        return await self._customer(doc)

    @audited("customer.update", lambda q, r: {"customer_id": q.id, "details": {"fields": ",".join(q.update_mask.paths)}})
    async def UpdateCustomer(self, request: profile_pb2.UpdateCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        before = await customers.require_customer(self.store, request.id)
        doc = await customers.update_customer(self.store, request.id, request.customer, list(request.update_mask.paths), self.region)
        added = set(doc.get("emails", [])) - set(before.get("emails", [])) or set(doc.get("phones", [])) - set(before.get("phones", []))
        return await self._customer(await self._auto_linked(doc) if added else doc)

    async def FindCustomers(self, request: profile_pb2.FindCustomersRequest, context: grpc.aio.ServicerContext) -> profile_pb2.FindCustomersResponse:
        if not request.email.strip() and not request.phone.strip():
            raise invalid_argument("give an email or a phone", {"email": "give an email or a phone"})
        email, phone = normalized_query(request.email, request.phone, self.region)
        docs = await self.store.find_customers(email, phone)
        return profile_pb2.FindCustomersResponse(customers=[await self._customer(d) for d in docs])

    async def ListCustomers(self, request: profile_pb2.ListCustomersRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListCustomersResponse:
        return await self.directory.page(request)

    async def ListConnectors(self, request: profile_pb2.ListConnectorsRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListConnectorsResponse:
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
    async def CreateApp(self, request: profile_pb2.CreateAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.App:
        return app_to_proto(await self.apps.create(request.app))

    async def GetApp(self, request: profile_pb2.GetAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.App:
        return app_to_proto(await self.apps.require(request.id))

    async def ListApps(self, request: profile_pb2.ListAppsRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListAppsResponse:
        return profile_pb2.ListAppsResponse(apps=[app_to_proto(a) for a in await self.apps.list()])

    @audited("app.update", lambda q, r: {"app_id": q.id, "action": app_write(q), "details": {"fields": ",".join(q.update_mask.paths)}})
    async def UpdateApp(self, request: profile_pb2.UpdateAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.App:
        return app_to_proto(await self.apps.update(request.id, request.app, list(request.update_mask.paths)))

    @audited("app.delete", lambda q, r: {"app_id": q.id})
    async def DeleteApp(self, request: profile_pb2.DeleteAppRequest, context: grpc.aio.ServicerContext) -> profile_pb2.DeleteAppResponse:
        await self.apps.delete(request.id)
        return profile_pb2.DeleteAppResponse()

    async def ListSearchTargets(self, request: profile_pb2.ListSearchTargetsRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListSearchTargetsResponse:
        fields = {name for name, value in (("email", request.email), ("phone", request.phone), ("order_number", request.order_number))
                  if value.strip()}
        targets, skipped = await self.linker.search_targets(request.customer_id, fields)
        return profile_pb2.ListSearchTargetsResponse(
            apps=[app_to_proto(a) for a in targets],
            skipped=[profile_pb2.SkippedApp(app_id=str(a["_id"]), app_name=a["name"], app_type=a["type"], reason=reason) for a, reason in skipped],
        )

    async def SearchExternal(self, request: profile_pb2.SearchExternalRequest, context: grpc.aio.ServicerContext) -> profile_pb2.SearchExternalResponse:
        return await self.linker.search(request)

    async def SearchAllExternal(self, request: profile_pb2.SearchAllExternalRequest,
                                context: grpc.aio.ServicerContext) -> profile_pb2.SearchAllExternalResponse:
        return await self.linker.search_all(request)

    @audited("customer.link", lambda q, r: {"customer_id": q.customer_id, "app_id": q.app_id,
                                            "details": {"external_customer_id": q.external_customer_id}})
    async def LinkCustomer(self, request: profile_pb2.LinkCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        return await self._customer(await self.linker.link(request.customer_id, request.app_id, request.external_customer_id))

    @audited("customer.unlink", lambda q, r: {"customer_id": q.customer_id, "app_id": q.app_id})
    async def UnlinkCustomer(self, request: profile_pb2.UnlinkCustomerRequest, context: grpc.aio.ServicerContext) -> profile_pb2.Customer:
        if request.app_id:
            return await self._customer(await self.linker.unlink_app(request.customer_id, request.app_id))
        return await self._customer(await self.linker.unlink_all(request.customer_id))

    @audited("contact.record", lambda q, r: None if r is not None and not (r.created or r.linked) else {
        "customer_id": r.customer_id if r else "", "details": {"channel": q.channel, "created": r.created if r else "",
                                                              "linked": ",".join(r.linked) if r else ""}})
    async def RecordContact(self, request: profile_pb2.RecordContactRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ContactResult:
        return await self.contacts.record(request)

    @audited("action.run", lambda q, r: {"customer_id": q.customer_id, "app_id": q.app_id, "order_id": (r.order_id if r else q.order_id),
                                         "details": action_details(q, r)})
    async def RunAction(self, request: profile_pb2.RunActionRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ActionResult:
        record, replayed = await self.actions.run(request)
        customer = await customers.require_customer(self.store, request.customer_id)
        return profile_pb2.ActionResult(
            id=str(record["_id"]), app_id=record["app_id"], action=record["action"], order_id=record["order_id"],
            message=record.get("message", ""), result=record.get("result") or {}, replayed=replayed, customer=await self._customer(customer),
            resolution="resolved" if (record.get("resolution") or {}).get("status") == "succeeded" else "")

    async def ServeAdaptor(self, request: profile_pb2.ServeAdaptorRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ServeAdaptorResponse:
        return await self.served.serve(request)

    async def GetActionForm(self, request: profile_pb2.GetActionFormRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.ActionForm:
        return await self.actions.action_form(request)

    async def ListLookups(self, request: profile_pb2.ListLookupsRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListLookupsResponse:
        app = await self.apps.require(request.app_id)
        if request.outcome not in ("", "ok", "failed"):
            raise invalid_argument("outcome is ok or failed", {"outcome": "must be ok, failed or empty"})
        where: dict[str, Any] = {k: v for k, v in (("customer_id", request.customer_id), ("kind", request.kind)) if v}
        if request.outcome:
            where["code"] = "OK" if request.outcome == "ok" else {"$ne": "OK"}
        docs, next_token = await self.traces.page(request.app_id, where, max(1, min(request.limit or 50, 500)), request.page_token)
        circuit = self.apps.connectors.breakers.get(request.app_id, app["name"]).snapshot()
        return profile_pb2.ListLookupsResponse(lookups=[trace_to_proto(d) for d in docs], circuit=profile_pb2.CircuitState(
            state=circuit.state, consecutive_failures=circuit.consecutive_failures, last_error=circuit.last_error,
            retry_in_s=circuit.retry_in_s), next_page_token=next_token)

    # A dry run reads a person's vendor profile: who looked up which email or phone is recorded (never the answer).
    @audited("debugger.lookup", lambda q, r: {"app_id": q.app_id, "details": {"email": q.email, "phone": q.phone, "workflow": q.workflow}})
    async def DebugLookup(self, request: profile_pb2.DebugLookupRequest, context: grpc.aio.ServicerContext) -> profile_pb2.DebugLookupResponse:
        return await self.debugger.run(request)

    @audited("api_key.create", lambda q, r: {"api_key_id": r.key.id if r else "", "details": {"name": q.name, "role": q.role}})
    async def CreateApiKey(self, request: profile_pb2.CreateApiKeyRequest, context: grpc.aio.ServicerContext) -> profile_pb2.CreatedApiKey:
        doc, secret = await self.api_keys.create(request, actor())
        return profile_pb2.CreatedApiKey(key=key_to_proto(doc), secret=secret)

    async def ListApiKeys(self, request: profile_pb2.ListApiKeysRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListApiKeysResponse:
        return profile_pb2.ListApiKeysResponse(keys=[key_to_proto(d) for d in await self.api_keys.list(request.include_revoked)])

    @audited("api_key.revoke", lambda q, r: {"api_key_id": q.id})
    async def RevokeApiKey(self, request: profile_pb2.RevokeApiKeyRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ApiKey:
        return key_to_proto(await self.api_keys.revoke(request.id, actor()))

    async def AuthenticateApiKey(self, request: profile_pb2.AuthenticateApiKeyRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ApiKey:
        return key_to_proto(await self.api_keys.authenticate(request.secret))

    async def ListAudit(self, request: profile_pb2.ListAuditRequest, context: grpc.aio.ServicerContext) -> profile_pb2.ListAuditResponse:
        return await self.audit.list(request)


def given_fields(c: profile_pb2.CustomerInput) -> str:
    return ",".join(f.name for f, _ in c.ListFields())


def app_write(request: profile_pb2.UpdateAppRequest) -> str:
    if list(request.update_mask.paths) == ["active"]:
        return "app.activate" if request.app.active else "app.deactivate"
    return "app.update"


def action_details(request: profile_pb2.RunActionRequest, result: profile_pb2.ActionResult | None) -> dict[str, str]:
    out = {"action": (result.action if result else "") or request.action, "idempotency_key": request.idempotency_key,
           "form_url": request.form_url, **{f"param.{k}": v for k, v in request.params.items()}}
    if result is not None:
        out["replayed"] = "true" if result.replayed else "false"
    return out
