"""AdaptorService: linkmesh's apps served as Gladly lookup adaptors (the gateway speaks the
protocol's HTTP; see ``linkmesh_profile.adaptor.served``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from linkmesh.profile.v1 import adaptor_pb2, adaptor_pb2_grpc, profile_pb2

from linkmesh_profile.actions.runner import SERVED_PREFIX
from linkmesh_profile.admin.audit import audited

if TYPE_CHECKING:
    from linkmesh.lookup.v1 import lookup_pb2

    from linkmesh_profile.adaptor.actions import ServedActions
    from linkmesh_profile.adaptor.served import ServedAdaptor
    from linkmesh_profile.admin.audit import AuditLog

Context: TypeAlias = grpc.aio.ServicerContext


def run_audit(request: adaptor_pb2.RunAdaptorActionRequest, result: profile_pb2.ActionResult | None) -> dict[str, Any]:
    """What the audit log says of a served action's run (the values as given, never secrets)."""
    details = {
        "action": request.action,
        "idempotency_key": request.idempotency_key,
        "external_customer_id": request.external_customer_id,
        **{f"param.{k}": v for k, v in request.params.items()},
    }
    if result is not None:
        details["replayed"] = "true" if result.replayed else "false"
    return {
        "app_id": request.app_id,
        "order_id": request.order_id,
        "customer_id": f"{SERVED_PREFIX}{request.app_id}:{request.external_customer_id.strip()}",
        "details": details,
    }


class AdaptorServicer(adaptor_pb2_grpc.AdaptorServiceServicer):
    def __init__(self, served: ServedAdaptor, actions: ServedActions, audit: AuditLog) -> None:
        self.served = served
        self.actions = actions
        self.audit = audit

    async def VerifyAdaptorRequest(self, request: adaptor_pb2.AdaptorHttpRequest, context: Context) -> adaptor_pb2.AdaptorCaller:
        return await self.served.verify(request)

    async def AdaptorLookup(self, request: adaptor_pb2.AdaptorLookupRequest, context: Context) -> adaptor_pb2.AdaptorLookupResponse:
        return await self.served.lookup(request)

    async def GetAdaptorActionForm(self, request: adaptor_pb2.GetAdaptorActionFormRequest, context: Context) -> lookup_pb2.ActionSpec:
        return await self.actions.form(request)

    @audited("action.run", run_audit)
    async def RunAdaptorAction(self, request: adaptor_pb2.RunAdaptorActionRequest, context: Context) -> profile_pb2.ActionResult:
        return await self.actions.run(request)
