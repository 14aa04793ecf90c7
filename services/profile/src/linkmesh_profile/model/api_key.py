"""An API key as the profile service keeps it in ``api_keys`` (never its secret: a keyed hash
of it), read once from its document (``ApiKeyRecord.from_doc``), and the actors stored on
keys and audit entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from linkmesh_core.actor import Actor

ACTOR_FIELDS = ("kind", "id", "name", "role", "on_behalf_of")


def as_utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def actor_doc(actor: Actor) -> dict[str, str]:
    return {"kind": actor.kind, "id": actor.id, "name": actor.name, "role": actor.role, "on_behalf_of": actor.on_behalf_of}


def actor_of(doc: Mapping[str, Any] | None) -> Actor | None:
    """The actor a document stored (``actor_doc``), or None."""
    if not doc:
        return None
    return Actor(**{k: str(doc.get(k) or "") for k in ACTOR_FIELDS})


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    oid: ObjectId
    name: str
    role: str
    #: The key's first characters, to tell keys apart (never enough to use it).
    prefix: str = ""
    #: HMAC-SHA256 of the secret with a pepper (``admin.api_keys``).
    hash: str = ""
    created_at: datetime | None = None
    created_by: Actor | None = None
    expires_at: datetime | None = None
    acts_for_others: bool = False
    rate_limit_per_minute: int = 0
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: Actor | None = None

    @property
    def id(self) -> str:
        return str(self.oid)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ApiKeyRecord:
        return cls(
            oid=doc["_id"],
            name=str(doc.get("name") or ""),
            role=str(doc.get("role") or ""),
            prefix=str(doc.get("prefix") or ""),
            hash=str(doc.get("hash") or ""),
            created_at=as_utc(doc.get("created_at")),
            created_by=actor_of(doc.get("created_by")),
            expires_at=as_utc(doc.get("expires_at")),
            acts_for_others=bool(doc.get("acts_for_others")),
            rate_limit_per_minute=int(doc.get("rate_limit_per_minute") or 0),
            last_used_at=as_utc(doc.get("last_used_at")),
            revoked_at=as_utc(doc.get("revoked_at")),
            revoked_by=actor_of(doc.get("revoked_by")),
        )
