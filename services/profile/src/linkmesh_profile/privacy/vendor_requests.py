"""A vendor's privacy requests, as its change events bring them (Shopify's mandatory
``customers/data_request``, ``customers/redact`` and ``shop/redact``), carried out by the machinery
an admin's export and erase use: a data request is put in the audit log for admins to export
(linkmesh holds nothing of the person the vendor does not already have); a customer's redaction
unlinks that app from the customer who links the record (what was pulled from the shop for them
goes, their orders with it) and forgets the app's traces of them; a shop's redaction does so for
every customer linked to the app. Each is audited, without the person's data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from linkmesh_core.actor import Actor, bind_actor, reset_actor
from linkmesh_profile.db import person
from linkmesh_profile.linking.unlink import unlink

if TYPE_CHECKING:
    from linkmesh_profile.admin.audit import AuditLog
    from linkmesh_profile.db.inbox import Event
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.db.traces import TraceStore

log = structlog.get_logger("linkmesh.privacy")


class VendorRequests:
    def __init__(self, store: Store, audit: AuditLog, traces: TraceStore) -> None:
        self.store = store
        self.audit = audit
        self.traces = traces  # lookups are traced a moment later: forgetting them goes through it

    async def carry_out(self, event: Event) -> str:
        """Carries the request out (safe to repeat); answers what was done, in words without data."""
        bound = bind_actor(Actor(kind="service", id=f"vendor:{event.app_id}", name="the app's vendor (its privacy request)"))
        try:
            return await self._carry_out(event)
        finally:
            reset_actor(bound)

    async def _carry_out(self, event: Event) -> str:
        if event.privacy_request == "redact_shop":
            ids = await person.customers_linked_to(self.store, event.app_id)
            for customer_id in ids:
                await self._forget(event.app_id, customer_id)
            traces = await self.traces.forget(person.traces_of_app(event.app_id))
            await self.audit.record("privacy.redact_shop", app_id=event.app_id, details={"customers": str(len(ids)), "traces": str(traces)})
            return f"forgot what was pulled from the app for {len(ids)} customers"
        holder = await self.store.customer_with_link(event.app_id, event.external_customer_id) if event.external_customer_id else None
        if holder is None:
            return "no customer links the record it names: nothing held"
        if event.privacy_request == "data_request":
            export = f"/api/v1/customers/{holder.id}/export"  # what an admin downloads to answer it
            await self.audit.record(
                "privacy.data_request", customer_id=holder.id, app_id=event.app_id, details={"topic": event.topic, "export": export}
            )
            return "asked for their data: in the audit log, for an admin to export"
        if event.privacy_request == "redact_customer":
            await self._forget(event.app_id, holder.id)
            await self.audit.record("privacy.redact", customer_id=holder.id, app_id=event.app_id, details={"topic": event.topic})
            return "forgot what was pulled from the app for the customer"
        return f"a privacy request linkmesh does not know ({event.privacy_request or 'none'}): recorded"

    async def _forget(self, app_id: str, customer_id: str) -> None:
        customer = await self.store.get_customer(customer_id)
        if customer is not None and app_id in customer.links:
            await unlink(self.store, customer_id, app_id)
        await self.traces.forget(person.traces_of_app(app_id, customer_id))
        log.info("privacy_forgot", app_id=app_id, customer_id=customer_id)
