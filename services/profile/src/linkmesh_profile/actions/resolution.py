"""Unknown action outcomes, resolved from the vendor's own record.

An action whose answer was lost (or whose profile service died mid-call) is kept "unknown"
with a resolution that is ``checking``. In the background, the first replica to find one due
takes its lease (``resolution.lease``, ``db.leases``: for the time one check may take, so one
replica asks at a time and a replica that dies leaves it to the next) and asks the app's
connector (``ResolveAction``) whether the vendor's record shows the action:

- APPLIED: the record becomes ``succeeded`` with the vendor's record, as if the answer had
  arrived; the customer is refreshed;
- NOT_APPLIED: ``not_applied``; its idempotency key is released, so a new attempt with the
  same key runs;
- anything else (UNDETERMINED, a failed check): asked again after the next delay, and after
  the last one the resolution is ``unknown`` for good (a person checks the vendor's admin).
  A connector that cannot be asked (UNIMPLEMENTED) ends it at once.

Each outcome is traced for the lookup debugger and written to the audit log.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.actor import Actor, bind_actor
from linkmesh_core.errors import ServiceError
from linkmesh_core.timestamps import from_datetime
from linkmesh_profile.db.store import now
from linkmesh_profile.model.action import ActionRecord
from linkmesh_profile.model.action import Resolution as Checking

if TYPE_CHECKING:
    from linkmesh_profile.actions.runner import ActionRunner
    from linkmesh_profile.admin.audit import AuditLog
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.profile.resolution")
Resolution = lookup_pb2.ResolveActionResponse.Resolution
DEFAULT_DELAYS_S = (2.0, 5.0, 15.0, 60.0, 300.0, 1800.0)
RESOLVER = Actor(kind="service", id="service:action-resolver", name="linkmesh action resolver")
CHECK_LEASE_S = 30.0  # one check's longest time: the lease a replica takes on a record


def checking(delays: tuple[float, ...], at: datetime) -> dict[str, Any]:
    """The resolution an action gets when its outcome becomes unknown."""
    return {"status": "checking", "attempts": 0, "max_attempts": len(delays), "next_check_at": at + timedelta(seconds=delays[0])}


def pending_message(record: ActionRecord, at: datetime) -> tuple[str, float | None]:
    """What a retry of an action whose outcome is unknown is told, and when to ask again."""
    resolution = record.resolution or Checking("unknown")
    first = record.error.message if record.error else "no answer"
    if resolution.status == "checking":
        wait = max(((resolution.next_check_at or at) - at).total_seconds(), 1.0)
        return (
            f"the first attempt's outcome is unknown ({first}); linkmesh is asking the vendor whether it took "
            f"effect (check {resolution.attempts + 1} of {resolution.max_attempts}): send the same request with "
            f"the same Idempotency-Key again in {wait:.0f} s for the answer, never with a new key"
        ), wait
    checked = f" after {resolution.attempts} checks of the vendor's records" if resolution.attempts else ""
    return (
        f"the first attempt's outcome is unknown ({first}) and could not be determined{checked}; check the "
        "order in the vendor's admin before trying again with a new idempotency key"
    ), None


def attempts_of(record: ActionRecord) -> int:
    return record.resolution.attempts if record.resolution else 0


class ActionResolver:
    def __init__(
        self, runner: ActionRunner, audit: AuditLog | None, delays: tuple[float, ...] = DEFAULT_DELAYS_S, check_timeout_s: float = 10.0
    ) -> None:
        self.runner = runner
        self.audit = audit
        self.delays = delays
        self.check_timeout_s = check_timeout_s
        self.records = runner.records

    async def resolve_due(self, limit: int = 20) -> int:
        """Checks up to ``limit`` due actions; answers how many it took."""
        taken = 0
        while taken < limit:
            record = await self._take()
            if record is None:
                break
            taken += 1
            try:
                await self._check(record)
            except Exception:  # a check that broke is retried when its lease ends
                log.exception("action_resolution_failed", action_id=str(record.id))
        return taken

    async def resolve_forever(self, every_s: float = 1.0) -> None:
        bind_actor(RESOLVER)  # what the audit log names as the author of a resolution
        while True:
            try:
                await self.resolve_due()
            except Exception:  # the database may be away for a while; try again next round
                pass
            await asyncio.sleep(every_s)

    async def _take(self) -> ActionRecord | None:
        return await self.records.claim_check(now(), CHECK_LEASE_S + self.check_timeout_s)

    async def _check(self, record: ActionRecord) -> None:
        started = time.perf_counter()
        try:
            app = await self.runner.apps.require(record.app_id)
            answer = await self.runner.apps.connectors.resolve_action(app, self._request(app, record), timeout=self.check_timeout_s)
        except ServiceError as err:
            final = err.code == grpc.StatusCode.UNIMPLEMENTED and not err.foreign
            reason = err.message if final else f"the check failed: {err.message}"
            await self._undetermined(record, reason, final=final, latency_ms=(time.perf_counter() - started) * 1000)
            return
        latency_ms = (time.perf_counter() - started) * 1000
        if answer.resolution == Resolution.APPLIED:
            await self._applied(record, app, answer, latency_ms)
        elif answer.resolution == Resolution.NOT_APPLIED:
            await self._not_applied(record, answer.message, latency_ms)
        else:
            await self._undetermined(record, answer.message or "the vendor's record is not conclusive", final=False, latency_ms=latency_ms)

    def _request(self, app: App, record: ActionRecord) -> lookup_pb2.ResolveActionRequest:
        return lookup_pb2.ResolveActionRequest(
            app=self.runner.apps.context(app),
            action=record.action,
            external_customer_id=record.external_customer_id,
            order_id=record.order_id,
            params=dict(record.params),
            form_url=record.form_url,
            idempotency_key=f"{record.customer_id}:{record.idempotency_key}",
            dispatched_at=from_datetime(record.started_at),
        )

    async def _applied(self, record: ActionRecord, app: App, answer: lookup_pb2.ResolveActionResponse, latency_ms: float) -> None:
        at = now()
        done = await self.records.resolve(
            record.id,
            {
                "state": "succeeded",
                "message": answer.message,
                "result": dict(answer.result),
                "finished_at": at,
                "resolution.status": "succeeded",
                "resolution.resolved_at": at,
                "resolution.message": answer.message,
                "resolution.vendor_record": dict(answer.result),
                "resolution.attempts": attempts_of(record) + 1,
            },
        )
        if not done:
            return
        await self._report(record, "succeeded", answer.message, latency_ms, dict(answer.result))
        if not str(record.customer_id).startswith("adaptor:"):
            try:
                await self.runner.refresher.refresh_app(record.customer_id, app, force=True)
            except ServiceError:
                pass  # the refresh marked the app's data stale; the action itself is settled

    async def _not_applied(self, record: ActionRecord, message: str, latency_ms: float) -> None:
        at = now()
        done = await self.records.resolve(
            record.id,
            {
                "state": "not_applied",
                "finished_at": at,
                "released_key": record.idempotency_key,
                "idempotency_key": f"released:{record.id}",  # the key may be used again
                "resolution.status": "not_applied",
                "resolution.resolved_at": at,
                "resolution.message": message,
                "resolution.attempts": attempts_of(record) + 1,
            },
        )
        if done:
            await self._report(record, "not_applied", message, latency_ms)

    async def _undetermined(self, record: ActionRecord, reason: str, *, final: bool, latency_ms: float) -> None:
        attempts = attempts_of(record) + 1
        at = now()
        if final or attempts >= len(self.delays):
            change: dict[str, Any] = {"resolution.status": "unknown", "resolution.resolved_at": at, "resolution.message": reason}
        else:
            change = {"resolution.next_check_at": at + timedelta(seconds=self.delays[attempts])}
        await self.records.resolve(record.id, {**change, "resolution.attempts": attempts, "resolution.last_check": reason})
        if "resolution.status" in change:
            await self._report(record, "unknown", reason, latency_ms)

    async def _report(
        self, record: ActionRecord, outcome: str, message: str, latency_ms: float, vendor_record: dict[str, str] | None = None
    ) -> None:
        lost_for = (now() - record.started_at).total_seconds()
        log.info("action_resolved", action_id=str(record.id), outcome=outcome, after_s=round(lost_for, 1))
        await self.runner.traces.record(
            app_id=record.app_id,
            customer_id=record.customer_id,
            kind="action_resolution",
            request={"action": record.action, "order_id": record.order_id, "idempotency_key": record.idempotency_key},
            response={"outcome": outcome, **({"vendor_record": vendor_record} if vendor_record else {})},
            code="OK" if outcome != "unknown" else "UNKNOWN",
            message=message,
            latency_ms=latency_ms,
        )
        if self.audit is not None:
            await self.audit.record(
                "action.resolve",
                outcome="OK" if outcome != "unknown" else "UNKNOWN",
                message=message,
                customer_id=record.customer_id,
                app_id=record.app_id,
                order_id=record.order_id,
                details={
                    "action": record.action,
                    "idempotency_key": record.idempotency_key,
                    "resolution": outcome,
                    "after_s": f"{lost_for:.1f}",
                },
            )
