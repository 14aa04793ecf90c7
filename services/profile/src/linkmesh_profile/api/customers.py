"""CustomerService: agents' and integrators' work on customers (profiles, the directory,
contacts, searches of the commerce systems, links, order actions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeAlias

import grpc
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import customers_pb2_grpc, profile_pb2

from linkmesh_core.errors import invalid_argument
from linkmesh_core.json_text import dumps
from linkmesh_profile.admin.audit import audited
from linkmesh_profile.customers import profiles as customers
from linkmesh_profile.customers.contact_query import normalized_query
from linkmesh_profile.db.documents import app_to_proto, customer_to_proto, customer_view, ts
from linkmesh_profile.linking.unlink import unlink

if TYPE_CHECKING:
    from linkmesh_profile.assembly import Parts
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer

Context: TypeAlias = grpc.aio.ServicerContext


async def linked_apps(parts: Parts, customer: Customer) -> dict[str, App]:
    """The apps the customer is linked to (an app deleted meanwhile left out), by id."""
    apps = {}
    for app_id in customer.links:
        app = await parts.store.get_app(app_id)
        if app is not None:
            apps[app_id] = app
    return apps


async def customer_proto(parts: Parts, customer: Customer) -> profile_pb2.Customer:
    """The profile as the API shows it, with the names of the apps it is linked to."""
    return customer_to_proto(customer, await linked_apps(parts, customer))


class CustomerServicer(customers_pb2_grpc.CustomerServiceServicer):
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.store = parts.store
        self.audit = parts.audit

    async def _customer(self, customer: Customer) -> profile_pb2.Customer:
        return await customer_proto(self.parts, customer)

    async def _auto_linked(self, customer: Customer) -> Customer:
        """Runs auto-link for a customer who has an email or phone; answers the stored profile."""
        if customer.contact_points:
            if (await self.parts.autolinker.auto_link(customer)).linked:
                return await customers.require_customer(self.store, customer.id)
        return customer

    @audited("customer.create", lambda q, r: {"customer_id": r.id if r else "", "details": {"fields": given_fields(q.customer)}})
    async def CreateCustomer(self, request: profile_pb2.CreateCustomerRequest, context: Context) -> profile_pb2.Customer:
        doc = await customers.create_customer(self.store, request.customer, self.parts.region)
        return await self._customer(await self._auto_linked(doc))

    async def GetCustomer(self, request: profile_pb2.GetCustomerRequest, context: Context) -> profile_pb2.Customer:
        return await self._customer(await self._opened(request))

    async def GetCustomerJson(self, request: profile_pb2.GetCustomerRequest, context: Context) -> profile_pb2.JsonBody:
        customer = await self._opened(request)
        return profile_pb2.JsonBody(json=dumps(customer_view(customer, await linked_apps(self.parts, customer))))

    async def _opened(self, request: profile_pb2.GetCustomerRequest) -> Customer:
        """The customer, its linked apps refreshed as asked."""
        doc = await customers.require_customer(self.store, request.id)
        links = doc.links
        refresher = self.parts.refresher
        if request.refresh_app_id:  # one app (unlinked meanwhile: the profile as it is)
            others = frozenset(links) - {request.refresh_app_id}
            if request.refresh_app_id in links and (await refresher.refresh(doc, skip=others)).changed:
                doc = await customers.require_customer(self.store, request.id)
        elif not request.skip_refresh and links and (await refresher.refresh(doc)).changed:
            doc = await customers.require_customer(self.store, request.id)
        return doc

    @audited("customer.update", lambda q, r: {"customer_id": q.id, "details": {"fields": ",".join(q.update_mask.paths)}})
    async def UpdateCustomer(self, request: profile_pb2.UpdateCustomerRequest, context: Context) -> profile_pb2.Customer:
        before = await customers.require_customer(self.store, request.id)
        doc = await customers.update_customer(self.store, request.id, request.customer, list(request.update_mask.paths), self.parts.region)
        added = set(doc.contact_points) - set(before.contact_points)
        return await self._customer(await self._auto_linked(doc) if added else doc)

    async def WatchCustomer(
        self, request: profile_pb2.WatchCustomerRequest, context: Context
    ) -> AsyncIterator[profile_pb2.CustomerRevision]:
        async with self.parts.watch.watching(request.id) as watcher:
            while True:
                revision = await watcher.next()
                yield profile_pb2.CustomerRevision(id=revision.customer_id, updated_at=ts(revision.updated_at), gone=revision.gone)
                if revision.gone:
                    return

    async def FindCustomers(self, request: profile_pb2.FindCustomersRequest, context: Context) -> profile_pb2.FindCustomersResponse:
        return profile_pb2.FindCustomersResponse(customers=[await self._customer(d) for d in await self._found(request)])

    async def FindCustomersJson(self, request: profile_pb2.FindCustomersRequest, context: Context) -> profile_pb2.JsonBody:
        found = [customer_view(d, await linked_apps(self.parts, d)) for d in await self._found(request)]
        return profile_pb2.JsonBody(json=dumps({"customers": found}))

    async def _found(self, request: profile_pb2.FindCustomersRequest) -> list[Customer]:
        if not request.email.strip() and not request.phone.strip():
            raise invalid_argument("give an email or a phone", {"email": "give an email or a phone"})
        email, phone = normalized_query(request.email, request.phone, self.parts.region)
        return await self.store.find_customers(email, phone)

    async def ListCustomers(self, request: profile_pb2.ListCustomersRequest, context: Context) -> profile_pb2.ListCustomersResponse:
        return await self.parts.directory.page(request)

    @audited(
        "contact.record",
        lambda q, r: (
            None
            if r is not None and not (r.created or r.linked)
            else {
                "customer_id": r.customer_id if r else "",
                "details": {"channel": q.channel, "created": r.created if r else "", "linked": ",".join(r.linked) if r else ""},
            }
        ),
    )
    async def RecordContact(self, request: profile_pb2.RecordContactRequest, context: Context) -> profile_pb2.ContactResult:
        return await self.parts.contacts.record(request)

    async def ListSearchTargets(
        self, request: profile_pb2.ListSearchTargetsRequest, context: Context
    ) -> profile_pb2.ListSearchTargetsResponse:
        fields = {
            name
            for name, value in (("email", request.email), ("phone", request.phone), ("order_number", request.order_number))
            if value.strip()
        }
        targets, skipped = await self.parts.search.search_targets(request.customer_id, fields)
        return profile_pb2.ListSearchTargetsResponse(
            apps=[app_to_proto(a) for a in targets],
            skipped=[profile_pb2.SkippedApp(app_id=a.id, app_name=a.name, app_type=a.type, reason=reason) for a, reason in skipped],
        )

    async def SearchExternal(self, request: profile_pb2.SearchExternalRequest, context: Context) -> profile_pb2.SearchExternalResponse:
        return await self.parts.search.search(request)

    async def SearchAllExternal(
        self, request: profile_pb2.SearchAllExternalRequest, context: Context
    ) -> profile_pb2.SearchAllExternalResponse:
        return await self.parts.search.search_all(request)

    @audited(
        "customer.link",
        lambda q, r: {"customer_id": q.customer_id, "app_id": q.app_id, "details": {"external_customer_id": q.external_customer_id}},
    )
    async def LinkCustomer(self, request: profile_pb2.LinkCustomerRequest, context: Context) -> profile_pb2.Customer:
        return await self._customer(await self.parts.links.link(request.customer_id, request.app_id, request.external_customer_id))

    @audited("customer.unlink", lambda q, r: {"customer_id": q.customer_id, "app_id": q.app_id})
    async def UnlinkCustomer(self, request: profile_pb2.UnlinkCustomerRequest, context: Context) -> profile_pb2.Customer:
        return await self._customer(await unlink(self.store, request.customer_id, request.app_id or None))

    async def GetActionForm(self, request: profile_pb2.GetActionFormRequest, context: Context) -> lookup_pb2.ActionForm:
        return await self.parts.actions.checks.action_form(request)

    @audited(
        "action.run",
        lambda q, r: {
            "customer_id": q.customer_id,
            "app_id": q.app_id,
            "order_id": (r.order_id if r else q.order_id),
            "details": action_details(q, r),
        },
    )
    async def RunAction(self, request: profile_pb2.RunActionRequest, context: Context) -> profile_pb2.ActionResult:
        record, replayed = await self.parts.actions.run(request)
        customer = await customers.require_customer(self.store, request.customer_id)
        return profile_pb2.ActionResult(
            id=str(record.id),
            app_id=record.app_id,
            action=record.action,
            order_id=record.order_id,
            message=record.message,
            result=dict(record.result),
            replayed=replayed,
            customer=await self._customer(customer),
            resolution="resolved" if record.resolved else "",
        )


def given_fields(c: profile_pb2.CustomerInput) -> str:
    return ",".join(f.name for f, _ in c.ListFields())


def action_details(request: profile_pb2.RunActionRequest, result: profile_pb2.ActionResult | None) -> dict[str, str]:
    out = {
        "action": (result.action if result else "") or request.action,
        "idempotency_key": request.idempotency_key,
        "form_url": request.form_url,
        **{f"param.{k}": v for k, v in request.params.items()},
    }
    if result is not None:
        out["replayed"] = "true" if result.replayed else "false"
        # What it did, in the vendor's answer: the amount refunded, the code created.
        out["result"] = result.message
        out.update({f"result.{k}": v for k, v in result.result.items()})
    return out
