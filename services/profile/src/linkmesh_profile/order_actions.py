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
- Outcomes: success and definitive refusals are kept and answered again. A
  rate limit means nothing was sent: the key is released for a retry. A vendor
  that did not answer (timeout, unavailable) may or may not have acted: the key
  is kept as "unknown" and a retry is refused, never run twice (a retried
  refund must not refund twice).
- Afterwards the customer is refreshed from that app, and the action is
  recorded (who, params, outcome) and traced for the lookup debugger.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from linkmesh_core.actions import validate_params
from linkmesh_core.errors import ServiceError, failed_precondition, invalid_argument
from linkmesh_profile.apps import AppService
from linkmesh_profile.customers import require_customer
from linkmesh_profile.linking import Linker
from linkmesh_profile.store import Store, now
from linkmesh_profile.traces import TraceStore

DEFINITIVE = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
              grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNIMPLEMENTED,
              grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.OUT_OF_RANGE}
NOTHING_SENT = {grpc.StatusCode.RESOURCE_EXHAUSTED}


def fingerprint(request: profile_pb2.RunActionRequest) -> str:
    body = {"app_id": request.app_id, "action": request.action, "order_id": request.order_id.strip(), "params": dict(sorted(request.params.items()))}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class ActionRunner:
    def __init__(self, store: Store, apps: AppService, linker: Linker, traces: TraceStore) -> None:
        self.store = store
        self.apps = apps
        self.linker = linker
        self.traces = traces
        self.collection = store.db["actions"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("customer_id", ASCENDING), ("idempotency_key", ASCENDING)], name="idempotency", unique=True)

    async def _check(self, request: profile_pb2.RunActionRequest) -> tuple[dict[str, Any], dict[str, Any], str]:
        """Everything that can be refused before anything runs; answers (customer, app, external id)."""
        key = request.idempotency_key.strip()
        if not key or len(key) > 255:
            raise invalid_argument("an idempotency key is required", {"idempotency_key": "give 1 to 255 characters (the Idempotency-Key header)"})
        customer = await require_customer(self.store, request.customer_id)
        app = await self.apps.require(request.app_id)
        if not app.get("active", True):
            raise failed_precondition(f"app {app['name']} is inactive")
        if not app.get("actions_enabled"):
            raise failed_precondition(f"actions are turned off for app {app['name']}")
        link = (customer.get("links") or {}).get(request.app_id)
        if link is None:
            raise failed_precondition(f"the customer is not linked to {app['name']}")
        describe = await self.apps.connectors.describe(app["type"])
        spec = next((a for a in describe.capabilities.actions if a.name == request.action), None)
        if spec is None:
            offered = ", ".join(a.name for a in describe.capabilities.actions) or "none"
            raise invalid_argument(f"{describe.display_name} has no action {request.action!r}", {"action": f"must be one of: {offered}"})
        errors = validate_params(spec, request.params)
        if spec.order_required and not request.order_id.strip():
            errors["order_id"] = f"is required to {spec.label.lower()}"
        if errors:
            raise invalid_argument("the action is invalid", errors)
        return customer, app, link["external_customer_id"]

    async def run(self, request: profile_pb2.RunActionRequest) -> tuple[dict[str, Any], bool]:
        """Runs (or replays) the action; answers (the action record, replayed)."""
        customer, app, external_id = await self._check(request)
        record = {
            "customer_id": request.customer_id, "idempotency_key": request.idempotency_key.strip(), "fingerprint": fingerprint(request),
            "app_id": request.app_id, "app_type": app["type"], "action": request.action, "order_id": request.order_id.strip(),
            "params": dict(request.params), "actor": request.actor.strip() or "unknown", "state": "running", "started_at": now(),
        }
        try:
            await self.collection.insert_one(record)
        except DuplicateKeyError:
            return await self._replay(request, record["fingerprint"]), True
        started = time.perf_counter()
        connector_request = lookup_pb2.RunActionRequest(
            app=self.apps.context(app), action=request.action, external_customer_id=external_id, order_id=request.order_id.strip(),
            params=dict(request.params), idempotency_key=f"{request.customer_id}:{record['idempotency_key']}")
        trace_request = {"action": request.action, "order_id": record["order_id"], "params": record["params"], "actor": record["actor"],
                         "idempotency_key": record["idempotency_key"], "external_customer_id": external_id}
        try:
            answer = await self.apps.connectors.call(app["type"], "RunAction", connector_request)
        except ServiceError as err:
            await self._failed(record, app, err, trace_request, (time.perf_counter() - started) * 1000)
            raise
        assert isinstance(answer, lookup_pb2.RunActionResponse)
        await self.collection.update_one({"_id": record["_id"]}, {"$set": {
            "state": "succeeded", "message": answer.message, "result": dict(answer.result), "finished_at": now()}})
        await self.traces.record(app_id=request.app_id, customer_id=request.customer_id, kind="action", request=trace_request,
                                 response={"message": answer.message, "result": dict(answer.result)}, code="OK", message="",
                                 latency_ms=(time.perf_counter() - started) * 1000)
        try:
            await self.linker.refresh_app(request.customer_id, app, force=True)
        except ServiceError:
            pass  # the refresh marked the app's data stale; the action itself succeeded
        record.update(state="succeeded", message=answer.message, result=dict(answer.result))
        return record, False

    async def _failed(self, record: dict[str, Any], app: dict[str, Any], err: ServiceError, trace_request: dict[str, Any], latency_ms: float) -> None:
        await self.traces.record(app_id=record["app_id"], customer_id=record["customer_id"], kind="action", request=trace_request,
                                 response=None, code=err.code.name, message=err.message, latency_ms=latency_ms)
        if err.code in NOTHING_SENT:
            await self.collection.delete_one({"_id": record["_id"]})  # nothing happened: the key may be used again
            return
        state = "failed" if err.code in DEFINITIVE else "unknown"
        await self.collection.update_one({"_id": record["_id"]}, {"$set": {
            "state": state, "error": {"code": err.code.name, "message": err.message, "fields": err.fields}, "finished_at": now()}})

    async def _replay(self, request: profile_pb2.RunActionRequest, print_: str) -> dict[str, Any]:
        first = await self.collection.find_one({"customer_id": request.customer_id, "idempotency_key": request.idempotency_key.strip()})
        if first is None:  # released meanwhile (a rate limit): the caller may retry
            raise ServiceError(grpc.StatusCode.ABORTED, "the first request with this idempotency key did not run; retry")
        if first["fingerprint"] != print_:
            raise invalid_argument("this idempotency key was used for a different request",
                                   {"idempotency_key": "was already used for a different action, order or params"})
        if first["state"] == "running":
            raise ServiceError(grpc.StatusCode.ABORTED, "the first request with this idempotency key is still running")
        if first["state"] == "unknown":
            raise ServiceError(grpc.StatusCode.ABORTED, f"the first attempt's outcome is unknown ({first['error']['message']}); check the "
                               "order in the vendor's admin before trying again with a new idempotency key")
        if first["state"] == "failed":
            error = first["error"]
            raise ServiceError(grpc.StatusCode[error["code"]], error["message"], dict(error.get("fields") or {}))
        return first
