"""Order actions (refund, cancel, discount code, return) run through an app's
connector, at most once per idempotency key.

- Checked before anything runs (and before the key is taken): the app exists,
  is active and has actions enabled; the customer is linked to it; the action
  is one the connector offers; the params fit its form; an order is named
  where the action needs one. The connector itself checks the order belongs to
  the linked external customer.
- The key is taken with a unique index (customer, key), so two concurrent
  requests with one key cannot both run. The same key with the same request
  answers the first result again; with a different request it is refused.
- Outcomes: success and definitive refusals are kept and answered again. The
  key is released only when the connector that held the request says, in
  linkmesh's own error domain, that nothing state-changing reached the vendor
  (``NOT_SENT``: a rate limit, a read that failed before the write, no
  connection). Anything else that failed (a timeout, a 5xx after the write left,
  a connector that did not answer, any status gRPC made up itself, such as an
  answer too large for its metadata) may or may not have acted: the key is kept
  as "unknown" and a retry is refused, never run twice (a retried refund must
  not refund twice), answered with ``OUTCOME_UNKNOWN``. The connector call is
  never retried, here or by the channel.
- A running record holds a lease (the call's deadline plus a margin). If this
  process dies while the vendor call is under way (kill -9, a lost node), the
  record stays "running" until the lease expires; then it becomes "unknown"
  with a message saying so, found by a retry with the key or by the sweeper,
  and traced for the debugger. A graceful stop waits for running actions (the
  grace period outlasts the action deadline) and marks any left as unknown.
- Afterwards the customer is refreshed from that app, and the action is
  recorded (who: the verified actor the gateway bound, never a name the caller
  wrote; params; outcome) and traced for the lookup debugger.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.actor import UNKNOWN, current_actor
from linkmesh_core.errors import ServiceError, failed_precondition, invalid_argument
from linkmesh_core.request_context import time_left
from linkmesh_profile.actions.checks import ActionChecks
from linkmesh_profile.actions.outcomes import fingerprint, settled_state, unknown_outcome
from linkmesh_profile.actions.resolution import DEFAULT_DELAYS_S, checking, pending_message
from linkmesh_profile.db import leases
from linkmesh_profile.db.actions import ActionRecords, error_doc
from linkmesh_profile.db.store import Store, now

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.db.traces import TraceStore
    from linkmesh_profile.linking.refresh import Refresher
    from linkmesh_profile.model.action import ActionRecord
    from linkmesh_profile.model.app import App

LEASE_MARGIN_S = 5.0  # time to record the outcome after the connector answered
LOST = "the profile service stopped while the action was running"
SERVED_PREFIX = "adaptor:"  # the customer id of actions run through a served lookup adaptor


class ActionRunner:
    def __init__(
        self,
        store: Store,
        apps: AppService,
        refresher: Refresher,
        traces: TraceStore,
        action_timeout_s: float = 20.0,
        resolve_delays_s: tuple[float, ...] = DEFAULT_DELAYS_S,
    ) -> None:
        self.store = store
        self.resolve_delays_s = resolve_delays_s
        self.apps = apps
        self.refresher = refresher
        self.traces = traces
        self.action_timeout_s = action_timeout_s
        self.records = ActionRecords(store)
        self._running: set[Any] = set()
        self.checks = ActionChecks(store, apps)

    @property
    def running(self) -> int:
        return len(self._running)

    async def run(self, request: profile_pb2.RunActionRequest) -> tuple[ActionRecord, bool]:
        """Runs (or replays) the action; answers (the action record, replayed)."""
        _, app, external_id = await self.checks.check(request)
        return await self._start(request, app, external_id, request.customer_id)

    async def run_served(self, app: App, external_id: str, request: profile_pb2.RunActionRequest) -> tuple[ActionRecord, bool]:
        """An action asked for through the app's served lookup adaptor (``request`` without a
        customer: the caller names the app's external customer, and its correlation id is the
        key). Its record is kept under ``adaptor:<app id>:<external id>`` whether or not a
        linkmesh customer is linked to that record, so a retry with the same key replays it
        even after a link or an unlink; a linked customer's profile is refreshed afterwards."""
        if not app.active:
            raise failed_precondition(f"app {app.name} is inactive")
        if not app.actions_enabled:
            raise failed_precondition(f"actions are turned off for app {app.name}")
        key = request.idempotency_key.strip()
        if not key or len(key) > 255:
            raise invalid_argument(
                "an idempotency key is required", {"idempotency_key": "give 1 to 255 characters (Gladly-Correlation-Id)"}
            )
        request.customer_id = f"{SERVED_PREFIX}{app.id}:{external_id}"
        request.app_id = app.id
        await self.checks.check_params(app, request)
        linked = await self.store.customer_with_link(app.id, external_id)
        return await self._start(request, app, external_id, linked.id if linked else None)

    async def _start(
        self, request: profile_pb2.RunActionRequest, app: App, external_id: str, refresh_id: str | None
    ) -> tuple[ActionRecord, bool]:
        timeout = time_left(self.action_timeout_s)
        started_at = now()
        doc: dict[str, Any] = {
            "customer_id": request.customer_id,
            "idempotency_key": request.idempotency_key.strip(),
            "fingerprint": fingerprint(request),
            "app_id": request.app_id,
            "app_type": app.type,
            "action": request.action,
            "order_id": request.order_id.strip(),
            "params": dict(request.params),
            "actor": (current_actor() or UNKNOWN).describe(),
            "state": "running",
            "started_at": started_at,
            "external_customer_id": external_id,
            **({"form_url": request.form_url.strip()} if request.form_url.strip() else {}),
            **leases.RUNNING.take(started_at, timeout + LEASE_MARGIN_S),
        }
        record = await self.records.begin(doc)
        if record is None:
            return await self._replay(request, fingerprint(request)), True
        self._running.add(record.id)
        try:
            return await self._run(request, record, app, external_id, timeout, refresh_id)
        except asyncio.CancelledError:
            # Stopped mid-call (shutdown past its grace): the vendor may have acted.
            await asyncio.shield(self._lost(record.id))
            raise
        finally:
            self._running.discard(record.id)

    async def _run(
        self,
        request: profile_pb2.RunActionRequest,
        record: ActionRecord,
        app: App,
        external_id: str,
        timeout: float,
        refresh_id: str | None,
    ) -> tuple[ActionRecord, bool]:
        started = time.perf_counter()
        connector_request = lookup_pb2.RunActionRequest(
            app=self.apps.context(app),
            action=request.action,
            external_customer_id=external_id,
            order_id=request.order_id.strip(),
            params=dict(request.params),
            idempotency_key=f"{request.customer_id}:{record.idempotency_key}",
            form_url=request.form_url.strip(),
        )
        trace_request = {
            "action": request.action,
            "order_id": record.order_id,
            "params": dict(record.params),
            "actor": record.actor,
            "idempotency_key": record.idempotency_key,
            "external_customer_id": external_id,
        }
        try:
            answer = await self.apps.connectors.run_action(app, connector_request, timeout=timeout)
        except ServiceError as err:
            state = await self._failed(record, app, err, trace_request, (time.perf_counter() - started) * 1000)
            if state == "unknown":
                first_check = self.resolve_delays_s[0]
                raise unknown_outcome(
                    f"the outcome is unknown: {err.message}. {app.name} may have carried out the "
                    f"{request.action}; linkmesh is checking its own records: send the same request with the same "
                    f"Idempotency-Key again in {first_check:.0f} s for the answer, never with a new key",
                    retry_after=first_check,
                ) from None
            raise err.public() from None
        return await self._succeeded(request, record, app, answer, trace_request, started, refresh_id), False

    async def _succeeded(
        self,
        request: profile_pb2.RunActionRequest,
        record: ActionRecord,
        app: App,
        answer: lookup_pb2.RunActionResponse,
        trace_request: dict[str, Any],
        started: float,
        refresh_id: str | None,
    ) -> ActionRecord:
        """Keeps the success, traces it, and reads the app again for the customer (it changed)."""
        await self.records.succeeded(record.id, answer.message, dict(answer.result), now())
        await self.traces.record(
            app_id=request.app_id,
            customer_id=request.customer_id,
            kind="action",
            request=trace_request,
            response={"message": answer.message, "result": dict(answer.result)},
            code="OK",
            message="",
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        if refresh_id is not None:
            try:
                await self.refresher.refresh_app(refresh_id, app, force=True)
            except ServiceError:
                pass  # the refresh marked the app's data stale; the action itself succeeded
        return dataclasses.replace(record, state="succeeded", message=answer.message, result=MappingProxyType(dict(answer.result)))

    async def _failed(
        self, record: ActionRecord, app: App, err: ServiceError, trace_request: dict[str, Any], latency_ms: float
    ) -> str | None:
        """Keeps the failure (or releases the key); answers the record's state."""
        state = settled_state(err)
        outcome = {None: "not sent: the key may be used again", "failed": "refused", "unknown": "unknown: the vendor may have acted"}[state]
        await self.traces.record(
            app_id=record.app_id,
            customer_id=record.customer_id,
            kind="action",
            request=trace_request,
            response={"outcome": outcome, **({"vendor_answer": err.debug} if err.debug else {})},
            code=err.code.name,
            message=err.message,
            latency_ms=latency_ms,
        )
        if state is None:
            await self.records.release(record.id)  # nothing happened: the key may be used again
            return None
        at = now()
        plan = checking(self.resolve_delays_s, at) if state == "unknown" else None
        await self.records.settled(record.id, state, error_doc(err.code.name, err.message, err.fields), at, plan)
        return state

    async def _lost(self, record_id: Any, reason: str = LOST) -> bool:
        """A running record whose process can no longer finish it becomes unknown; answers whether it changed it."""
        at = now()
        error = error_doc("UNKNOWN", f"{reason}; its outcome is unknown")
        record = await self.records.lost(record_id, error, at, checking(self.resolve_delays_s, at))
        if record is None:
            return False
        await self.traces.record(
            app_id=record.app_id,
            customer_id=record.customer_id,
            kind="action",
            request={
                "action": record.action,
                "order_id": record.order_id,
                "params": dict(record.params),
                "actor": record.actor,
                "idempotency_key": record.idempotency_key,
            },
            response={"outcome": "unknown: the vendor may have acted"},
            code="UNKNOWN",
            message=f"{reason}; its outcome is unknown",
            latency_ms=(now() - record.started_at).total_seconds() * 1000,
        )
        return True

    async def expire_leases(self) -> int:
        """Running records whose lease has expired (their process died) become unknown."""
        changed = 0
        for oid in await self.records.expired(now()):
            changed += await self._lost(oid, "the profile service stopped (its lease expired) while the action was running")
        return changed

    async def expire_leases_forever(self, every_s: float = 15.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.expire_leases()
            except Exception:  # the database may be away for a while; try again next round
                pass

    async def abandon_running(self) -> None:
        """At shutdown, after the grace period: what still runs here cannot finish."""
        for record_id in list(self._running):
            await self._lost(record_id)

    async def _replay(self, request: profile_pb2.RunActionRequest, print_: str) -> ActionRecord:
        first = await self.records.by_key(request.customer_id, request.idempotency_key.strip())
        if first is None:  # released meanwhile (a rate limit): the caller may retry
            raise ServiceError(grpc.StatusCode.ABORTED, "the first request with this idempotency key did not run; retry")
        if first.fingerprint != print_:
            raise invalid_argument(
                "this idempotency key was used for a different request",
                {"idempotency_key": "was already used for a different action, order or params"},
            )
        if first.state == "running" and first.lease_until is not None and first.lease_until <= now():
            await self._lost(first.id, "the profile service stopped (its lease expired) while the action was running")
            first = await self.records.get(first.id) or first
        if first.state == "running":
            raise ServiceError(grpc.StatusCode.ABORTED, "the first request with this idempotency key is still running")
        if first.state == "unknown":
            raise unknown_outcome(*pending_message(first, now()))
        if first.state == "failed" and first.error is not None:
            raise ServiceError(grpc.StatusCode[first.error.code], first.error.message, dict(first.error.fields))
        return first
