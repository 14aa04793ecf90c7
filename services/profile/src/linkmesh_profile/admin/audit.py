"""The audit log: every write, who made it (the verified actor), on what, and how it ended.

Append-only: this service only inserts into ``audit`` and reads it; nothing here updates or
deletes an entry (in production, give the profile service's database user insert and find
on this collection only). An entry: time, actor (kind, id, name, role, on behalf of), action
(``app.create``, ``customer.link``, ``action.run``, ...), the customer, app, order or API key
it touched, the request id, the outcome (``OK`` or the gRPC code of the failure) with its
message, and details (an action's params and what it answered, the names of the fields a write
changed; never a secret's value). Read back, an entry names its customer and app as they are then.

Writes are audited by wrapping their RPC (``audited``): the entry is written after the write
answered, whichever way. If the audit insert itself fails (the database went away between the
two), the write's answer stands and the entry is logged as ``audit_write_failed`` with all its
fields, so the trail is in the logs.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2
from pymongo.errors import PyMongoError

from linkmesh_core.actor import UNKNOWN, Actor, current_actor
from linkmesh_core.errors import ServiceError, invalid_argument
from linkmesh_core.request_context import current_request_id
from linkmesh_profile.admin.lookup_log import names
from linkmesh_profile.db.audit import TARGETS, AuditEntries
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.model.api_key import actor_doc

log = structlog.get_logger("linkmesh.audit")
#: Every action the log records (a test holds the code to it): the values its action filter takes.
ACTIONS = (
    "action.resolve",
    "action.run",
    "api_key.create",
    "api_key.revoke",
    "app.activate",
    "app.create",
    "app.deactivate",
    "app.delete",
    "app.update",
    "contact.record",
    "customer.create",
    "customer.erase",
    "customer.export",
    "customer.fold",
    "customer.link",
    "customer.unlink",
    "customer.update",
    "debugger.lookup",
    "privacy.data_request",
    "privacy.redact",
    "privacy.redact_shop",
)
FILTERS = {"actor_id": "actor.id", "action": "action", "customer_id": "customer_id", "app_id": "app_id", "outcome": "outcome"}
MAX_DETAIL = 500


def actor() -> Actor:
    return current_actor() or UNKNOWN


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.entries = AuditEntries(store)

    async def record(
        self, action: str, *, outcome: str = "OK", message: str = "", details: dict[str, Any] | None = None, **targets: str
    ) -> None:
        entry = {
            "at": now(),
            "actor": actor_doc(actor()),
            "action": action,
            **{k: str(targets.get(k) or "") for k in TARGETS},
            "request_id": current_request_id() or "",
            "outcome": outcome,
            "message": message[:MAX_DETAIL],
            "details": {str(k): str(v)[:MAX_DETAIL] for k, v in (details or {}).items() if v not in (None, "")},
        }
        try:
            await self.entries.append(entry)
        except PyMongoError as exc:
            entry.pop("_id", None)
            log.error("audit_write_failed", error_type=type(exc).__name__, **{k: v for k, v in entry.items() if k != "at"})

    async def list(self, request: profile_pb2.ListAuditRequest) -> profile_pb2.ListAuditResponse:
        where = {FILTERS[name]: getattr(request, name).strip() for name in FILTERS if getattr(request, name).strip()}
        if where.get("action") and where["action"] not in ACTIONS:
            raise invalid_argument("no such action in the audit log", {"action": f"must be one of: {', '.join(ACTIONS)}"})
        if request.page_token and not ObjectId.is_valid(request.page_token):
            raise invalid_argument("the page token is not one this API gave", {"page_token": "is not valid"})
        limit = request.limit or 50
        if not 1 <= limit <= 500:
            raise invalid_argument("limit is out of range", {"limit": "must be from 1 to 500"})
        before = ObjectId(request.page_token) if request.page_token else None
        entries, token = await self.entries.page(where, before, limit)
        app_names, customer_names = await names(self.store, [e.app_id for e in entries], [e.customer_id for e in entries])
        for e in entries:
            e.app_name = app_names.get(e.app_id, "")
            e.customer_name = customer_names.get(e.customer_id, "")
        return profile_pb2.ListAuditResponse(entries=entries, next_page_token=token)


def audited_fold(audit: AuditLog) -> Callable[[str, str, str], Awaitable[None]]:
    """Records a fold (``linkmesh_profile.customers.folding``) on the customer that remains."""

    async def record(customer_id: str, folded: str, evidence: str) -> None:
        await audit.record("customer.fold", customer_id=customer_id, details={"folded": folded, "evidence": evidence})

    return record


Target = Callable[[Any, Any], "dict[str, Any] | None"]


def audited(action: str, target: Target) -> Callable[..., Any]:
    """Wraps a write RPC of the servicer (which has ``self.audit``): ``target(request,
    response)`` names what it touched (``response`` is None when it failed) and may give
    ``action`` and ``details``; None means there is nothing to record (a contact that neither
    created nor linked anything)."""

    def wrap(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def inner(self: Any, request: Any, context: Any) -> Any:
            try:
                response = await method(self, request, context)
            except ServiceError as err:
                said = target(request, None)
                if said is not None:
                    await self.audit.record(said.pop("action", action), outcome=err.code.name, message=err.message, **said)
                raise
            said = target(request, response)
            if said is not None:
                await self.audit.record(said.pop("action", action), **said)
            return response

        return inner

    return wrap
