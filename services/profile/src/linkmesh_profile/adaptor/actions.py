"""The actions of an app served as a Gladly lookup adaptor.

A DETAILED answer offers the app connector's actions (only when the app has actions turned
on): those that act on the customer on the result, those that act on one order on each ORDER
transaction. Each ``formUrl`` is this adaptor's own route, an absolute path beside the
lookup URL: ``…/apps/{app_id}/actions/{action}?customer={external id}[&order={order id}]``.

- ``GET`` that URL (signed like every request) answers the connector's form in the
  protocol's shape: ``{title, submitButton, closeButton, actionUrl, sections}`` with one
  ``input`` section per field (text, select with its options, checkbox; optional, hint,
  default). The ``actionUrl`` is the same URL.
- ``POST`` it with the values keyed by ``attr``: they are checked against the form and the
  action runs through the profile service's idempotent action runner, keyed by the request's
  ``Gladly-Correlation-Id`` (the same id with the same values answers the first outcome
  again; it never runs twice). ``200 {message, detail}`` is done; ``400 {errors: [{attr,
  detail} | {message}]}`` names what to correct (nothing ran); ``406 {errors: [{message}]}``
  is a refusal; ``429`` a rate limit (nothing was sent). An outcome that is unknown (the
  vendor may have acted) answers ``502`` (``503`` while the first attempt still runs), so a
  caller never mistakes it for a refusal it may simply retry.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import OUTCOME_UNKNOWN, ServiceError
from linkmesh_core.gladly_signing import compact_json
from linkmesh_profile.actions.runner import SERVED_PREFIX, ActionRunner

if TYPE_CHECKING:
    from linkmesh_profile.admin.audit import AuditLog
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.served_adaptor")
TYPE_HINTS = {"integer": "A whole number", "decimal": "An amount, e.g. 12.50", "lines": "line id:quantity, comma-separated"}


def answer(status: int, body: Any) -> profile_pb2.ServeAdaptorResponse:
    return profile_pb2.ServeAdaptorResponse(status=status, body=compact_json(body))


def refusal(status: int, message: str) -> profile_pb2.ServeAdaptorResponse:
    return answer(status, {"errors": [{"message": message}]})


def json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def action_url(base: str, action: str, customer: str, order: str = "") -> str:
    query = urlencode({"customer": customer, **({"order": order} if order else {})}, quote_via=quote)
    return f"{base}/actions/{quote(action, safe='')}?{query}"


def section(f: lookup_pb2.FormField) -> dict[str, Any]:
    """One form field as the protocol's ``input`` section."""
    kind = {"boolean": "checkbox", "select": "select"}.get(f.type, "text")
    spec: dict[str, Any] = {"type": kind}
    if not f.required:
        spec["optional"] = True
    if f.placeholder:
        spec["placeholder"] = f.placeholder
    if kind == "select":
        labels = {c.value: c.label for c in f.choices}
        spec["options"] = [{"text": labels.get(o, o), "value": o} for o in f.options]
    out: dict[str, Any] = {"type": "input", "label": f.label or f.name, "attr": f.name, "input": spec}
    hint = f.hint or TYPE_HINTS.get(f.type, "")
    if hint:
        out["hint"] = hint
    if f.default_value:
        out["defaultValue"] = f.default_value
    return out


def form(spec: lookup_pb2.ActionSpec, url: str) -> dict[str, Any]:
    return {
        "title": spec.label or spec.name,
        "submitButton": spec.label or "Submit",
        "closeButton": "Cancel",
        "actionUrl": url,
        "sections": [section(f) for f in spec.fields if f.type != "note"],
    }


def params_of(body: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The posted values as the action's params (a checkbox's JSON boolean as "true"/"false",
    numbers as written), and an error per value that is not one."""
    params: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    for attr, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[attr] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            params[attr] = json.dumps(value)
        elif isinstance(value, str):
            if value.strip():
                params[attr] = value.strip()
        else:
            errors.append({"attr": attr, "detail": "must be a single value (text, number or true/false)"})
    return params, errors


def detail(result: dict[str, str]) -> str:
    if result.get("detail"):
        return result["detail"]
    return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items() if v)


def failure(err: ServiceError) -> profile_pb2.ServeAdaptorResponse:
    """How an action that did not succeed is answered (see the module's docstring)."""
    message = err.public().message
    if err.outcome == OUTCOME_UNKNOWN:
        return refusal(502, message)
    if err.code == grpc.StatusCode.ABORTED:  # the first attempt with this correlation id runs still, or its outcome is unknown
        return refusal(503, message)
    if err.code == grpc.StatusCode.INVALID_ARGUMENT:
        errors = [
            {"attr": f.removeprefix("params."), "detail": d} if f.startswith("params.") else {"message": f"{f}: {d}"}
            for f, d in err.fields.items()
        ]
        return answer(400, {"errors": errors or [{"message": message}]})
    if err.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return refusal(429, message)
    if err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        return refusal(503, message)  # nothing reached the vendor (or it would say OUTCOME_UNKNOWN): try again later
    return refusal(406, message)


class ServedActions:
    def __init__(self, runner: ActionRunner, audit: AuditLog) -> None:
        self.runner = runner
        self.audit = audit

    async def offer(self, app: App, customer: lookup_pb2.Customer, result: dict[str, Any], base: str) -> None:
        """Adds the app's actions to a DETAILED result (the customer's, and each order's)."""
        try:
            describe = await self.runner.apps.connectors.describe(app.type)
        except ServiceError as err:
            log.info("adaptor_actions_not_offered", app_id=app.id, reason=err.message)
            return  # the lookup answers without actions rather than fail
        specs = list(describe.capabilities.actions)
        own = [
            {"name": s.label or s.name, "formUrl": action_url(base, s.name, customer.external_id)} for s in specs if not s.order_required
        ]
        if own:
            result["actions"] = own
        for order, transaction in zip(customer.orders, result.get("transactions") or [], strict=False):
            offered = [
                {"name": s.label or s.name, "formUrl": action_url(base, s.name, customer.external_id, order.id)}
                for s in specs
                if s.order_required
            ]
            if offered:
                transaction["actions"] = offered

    async def serve(self, app: App, request: profile_pb2.ServeAdaptorRequest, name: str, base: str) -> profile_pb2.ServeAdaptorResponse:
        """``GET`` answers the action's form, ``POST`` runs it (the request is already verified)."""
        if not app.active:
            return refusal(406, f"app {app.name} is inactive")
        if not app.actions_enabled:
            return refusal(406, f"actions are turned off for app {app.name}")
        query = parse_qs(request.query, keep_blank_values=True)
        customer = (query.get("customer") or [""])[0].strip()
        order = (query.get("order") or [""])[0].strip()
        if not customer:
            return refusal(400, "the action URL must name the customer (?customer=<externalCustomerId>)")
        try:
            spec = await self.runner.checks.action_spec(app, name)
        except ServiceError as err:
            return refusal(404, err.message) if err.code == grpc.StatusCode.INVALID_ARGUMENT else failure(err)
        url = action_url(base, name, customer, order)
        method = request.method.upper()
        if method == "GET":
            return answer(200, form(spec, url))
        if method != "POST":
            return refusal(405, "GET an action's form, POST its values")
        body = json_object(request.body or b"{}")
        if body is None:
            return refusal(400, "the body must be a JSON object of the form's values keyed by attr")
        params, errors = params_of(body)
        if errors:
            return answer(400, {"errors": errors})
        key = {k.lower(): v for k, v in request.headers.items()}.get("gladly-correlation-id", "").strip()
        run = profile_pb2.RunActionRequest(
            customer_id=f"{SERVED_PREFIX}{app.id}:{customer}", action=name, order_id=order, params=params, idempotency_key=key
        )
        details = {"action": name, "idempotency_key": key, "external_customer_id": customer, **{f"param.{k}": v for k, v in params.items()}}
        try:
            record, replayed = await self.runner.run_served(app, customer, run)
        except ServiceError as err:
            await self.audit.record(
                "action.run",
                outcome=err.code.name,
                message=err.message,
                app_id=app.id,
                order_id=order,
                customer_id=run.customer_id,
                details=details,
            )
            return failure(err)
        await self.audit.record(
            "action.run",
            app_id=app.id,
            order_id=order,
            customer_id=run.customer_id,
            details={**details, "replayed": "true" if replayed else "false"},
        )
        log.info("adaptor_action_run", app_id=app.id, action=name, replayed=replayed)
        out = {"message": record.message or f"{spec.label}: done"}
        if detail(dict(record.result)):
            out["detail"] = detail(dict(record.result))
        return answer(200, out)
