"""The actions of an app served as a Gladly lookup adaptor: their forms, and their runs
through the profile service's idempotent action runner, keyed by the caller's
``Gladly-Correlation-Id`` (the same key with the same values answers the first outcome again;
it never runs twice). The gateway turns these into the protocol's forms and answers
(``linkmesh_gateway.adaptor``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import structlog
from linkmesh.profile.v1 import adaptor_pb2, profile_pb2

from linkmesh_core.errors import ServiceError

if TYPE_CHECKING:
    from linkmesh.lookup.v1 import lookup_pb2

    from linkmesh_profile.actions.runner import ActionRunner
    from linkmesh_profile.adaptor.served import ServedAdaptor
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.served_adaptor")


class ServedActions:
    def __init__(self, served: ServedAdaptor, runner: ActionRunner) -> None:
        self.served = served
        self.runner = runner

    async def _app(self, app_id: str) -> App:
        app = await self.served.served_app(app_id)
        if not app.active:
            raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, f"app {app.name} is inactive")
        if not app.actions_enabled:
            raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, f"actions are turned off for app {app.name}")
        return app

    async def form(self, request: adaptor_pb2.GetAdaptorActionFormRequest) -> lookup_pb2.ActionSpec:
        """The action's form (INVALID_ARGUMENT naming ``action`` when the connector has none)."""
        return await self.runner.checks.action_spec(await self._app(request.app_id), request.action)

    async def run(self, request: adaptor_pb2.RunAdaptorActionRequest) -> profile_pb2.ActionResult:
        """Runs the action once per idempotency key; its message says what was done."""
        app = await self._app(request.app_id)
        customer = request.external_customer_id.strip()
        if not customer:
            raise ServiceError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "the action URL must name the customer (?customer=<externalCustomerId>)",
                {"external_customer_id": "name the app's record the action is for"},
            )
        spec = await self.runner.checks.action_spec(app, request.action)
        run = profile_pb2.RunActionRequest(
            action=request.action, order_id=request.order_id.strip(), params=request.params, idempotency_key=request.idempotency_key
        )
        record, replayed = await self.runner.run_served(app, customer, run)
        log.info("adaptor_action_run", app_id=app.id, action=request.action, replayed=replayed)
        return profile_pb2.ActionResult(
            id=str(record.id),
            app_id=record.app_id,
            action=record.action,
            order_id=record.order_id,
            message=record.message or f"{spec.label or spec.name}: done",
            result=dict(record.result),
            replayed=replayed,
            resolution="resolved" if record.resolved else "",
        )
