"""PrivacyService: a person's data exported and erased (admins, through the gateway)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import grpc
from linkmesh.profile.v1 import privacy_pb2, privacy_pb2_grpc

from linkmesh_profile.admin.audit import audited
from linkmesh_profile.db.documents import ts

if TYPE_CHECKING:
    from linkmesh_profile.admin.audit import AuditLog
    from linkmesh_profile.privacy.people import People

Context: TypeAlias = grpc.aio.ServicerContext


class PrivacyServicer(privacy_pb2_grpc.PrivacyServiceServicer):
    def __init__(self, people: People, audit: AuditLog) -> None:
        self.people = people
        self.audit = audit

    @audited("customer.export", lambda q, r: {"customer_id": q.customer_id, "details": {"documents": str(len(r.document)) if r else ""}})
    async def ExportCustomer(self, request: privacy_pb2.ExportCustomerRequest, context: Context) -> privacy_pb2.CustomerExport:
        done = await self.people.export(request.customer_id)
        return privacy_pb2.CustomerExport(customer_id=done.customer_id, exported_at=ts(done.at), document=done.document)

    # Audited without the data: which collections lost or kept how many documents.
    @audited("customer.erase", lambda q, r: {"customer_id": q.customer_id, "details": dict(r.removed) if r else {}})
    async def EraseCustomer(self, request: privacy_pb2.EraseCustomerRequest, context: Context) -> privacy_pb2.Erasure:
        done = await self.people.erase(request.customer_id)
        return privacy_pb2.Erasure(
            customer_id=done.customer_id,
            erased_at=ts(done.erased_at),
            removed=done.removed,
            pseudonymised=done.pseudonymised,
            already=done.already,
        )
