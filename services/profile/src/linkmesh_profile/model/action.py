"""An order action's record: one per customer and idempotency key, kept in ``actions``.

Read from its document once, where the store hands it out (``ActionRecord.from_doc``); its
writes stay conditional updates of the document (``actions.runner``, ``actions.resolution``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from bson import ObjectId

from linkmesh_profile.db import leases

EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ActionError:
    code: str
    message: str
    fields: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class Resolution:
    """An unknown outcome being resolved from the vendor's own record."""

    status: str  # checking, succeeded, not_applied, unknown
    attempts: int = 0
    max_attempts: int = 1
    next_check_at: datetime | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: ObjectId
    customer_id: str
    idempotency_key: str
    app_id: str
    action: str
    state: str  # running, succeeded, failed, unknown, not_applied
    started_at: datetime
    fingerprint: str = ""
    app_type: str = ""
    order_id: str = ""
    params: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    #: Who ran it, as the verified actor describes itself.
    actor: str = ""
    external_customer_id: str = ""
    form_url: str = ""
    message: str = ""
    result: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    error: ActionError | None = None
    resolution: Resolution | None = None
    #: While running: until when the replica that runs it holds it (``db.leases.RUNNING``).
    lease_until: datetime | None = None

    @property
    def resolved(self) -> bool:
        return self.resolution is not None and self.resolution.status == "succeeded"

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ActionRecord:
        error, resolution = doc.get("error"), doc.get("resolution")
        return cls(
            id=doc["_id"],
            customer_id=str(doc.get("customer_id", "")),
            idempotency_key=str(doc.get("idempotency_key", "")),
            app_id=str(doc.get("app_id", "")),
            action=str(doc.get("action", "")),
            state=str(doc.get("state", "")),
            started_at=doc["started_at"],
            fingerprint=str(doc.get("fingerprint", "")),
            app_type=str(doc.get("app_type", "")),
            order_id=str(doc.get("order_id") or ""),
            params=MappingProxyType(dict(doc.get("params") or {})),
            actor=str(doc.get("actor") or ""),
            external_customer_id=str(doc.get("external_customer_id") or ""),
            form_url=str(doc.get("form_url") or ""),
            message=str(doc.get("message") or ""),
            result=MappingProxyType(dict(doc.get("result") or {})),
            error=ActionError(error["code"], error["message"], MappingProxyType(dict(error.get("fields") or {}))) if error else None,
            resolution=Resolution(
                status=resolution.get("status", ""),
                attempts=int(resolution.get("attempts", 0)),
                max_attempts=int(resolution.get("max_attempts", 1)),
                next_check_at=resolution.get("next_check_at"),
                message=str(resolution.get("message") or ""),
            )
            if resolution
            else None,
            lease_until=leases.RUNNING.of(dict(doc)).get("until"),
        )
