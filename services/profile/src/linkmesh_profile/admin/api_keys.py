"""API keys for integrations: created, listed and revoked by admins, checked on every request.

A key reads ``lmk_<id>_<secret>``: the id finds its document, the secret (32 random bytes)
is never stored. What is stored is a keyed hash of it: HMAC-SHA256 with a pepper derived from
each of ``LINKMESH_SECRET_KEYS`` (the first hashes new keys, every one verifies, so the
secret keys rotate as they do for app secrets), compared in constant time. A random 256-bit
secret needs no slow password hash; the pepper keeps a stolen database copy from being enough
to check guesses.

The gateway asks ``AuthenticateApiKey`` on every request that carries a key (one read by
``_id``), so a revocation holds at once on every gateway replica. ``last_used_at`` is written
at most once a minute per key, so a busy integration does not turn every read into a write.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import invalid_argument, not_found, unauthenticated
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import Store, now

if TYPE_CHECKING:
    from linkmesh_core.actor import Actor

PREFIX = "lmk_"
ROLES = ("admin", "agent", "developer")
KEY_RE = re.compile(r"lmk_([0-9a-f]{24})_([A-Za-z0-9_-]{20,100})")
LAST_USED_EVERY = timedelta(seconds=60)
MAX_RATE = 100_000


class ApiKeys:
    def __init__(self, store: Store, secret_keys: str) -> None:
        self.db = store.db
        self.collection = store.db[q.API_KEYS]
        self._peppers = [
            hmac.new(k.strip().encode(), b"linkmesh api key v1", hashlib.sha256).digest() for k in secret_keys.split(",") if k.strip()
        ]

    def _hash(self, pepper: bytes, secret: str) -> str:
        return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()

    async def create(self, request: profile_pb2.CreateApiKeyRequest, actor: Actor) -> tuple[dict[str, Any], str]:
        errors: dict[str, str] = {}
        name = request.name.strip()
        if not name or len(name) > 100 or not name.isprintable():
            errors["name"] = "give 1 to 100 printable characters"
        if request.role not in ROLES:
            errors["role"] = f"must be one of: {', '.join(ROLES)}"
        expires = request.expires_at.ToDatetime(tzinfo=UTC) if request.HasField("expires_at") else None
        if expires is not None and expires <= now():
            errors["expires_at"] = "must be in the future"
        if not 0 <= request.rate_limit_per_minute <= MAX_RATE:
            errors["rate_limit_per_minute"] = f"must be from 0 (the gateway's default) to {MAX_RATE}"
        if errors:
            raise invalid_argument("the API key is invalid", errors)
        oid = ObjectId()
        secret = secrets.token_urlsafe(32)
        full = f"{PREFIX}{oid}_{secret}"
        doc = {
            "_id": oid,
            "name": name,
            "role": request.role,
            "prefix": full[: len(PREFIX) + 24 + 5],
            "hash": self._hash(self._peppers[0], secret),
            "created_at": now(),
            "created_by": actor_doc(actor),
            "expires_at": expires,
            "acts_for_others": request.acts_for_others,
            "rate_limit_per_minute": request.rate_limit_per_minute,
            "last_used_at": None,
            "revoked_at": None,
        }
        await self.collection.insert_one(doc)
        return doc, full

    async def list(self, include_revoked: bool) -> list[dict[str, Any]]:
        return await q.api_keys(include_revoked).find(self.db).to_list(length=1000)

    async def revoke(self, key_id: str, actor: Actor) -> dict[str, Any]:
        """Revokes the key (a key revoked already is answered as it is)."""
        if not ObjectId.is_valid(key_id):
            raise not_found(f"no API key {key_id}")
        oid = ObjectId(key_id)
        await self.collection.update_one(
            q.api_key_by_id(oid, unrevoked=True).filter, {"$set": {"revoked_at": now(), "revoked_by": actor_doc(actor)}}
        )
        doc = await q.api_key_by_id(oid).find_one(self.db)
        if doc is None:
            raise not_found(f"no API key {key_id}")
        return doc

    async def authenticate(self, presented: str) -> dict[str, Any]:
        match = KEY_RE.fullmatch(presented.strip())
        if match is None:
            raise unauthenticated("not a linkmesh API key")
        doc = await q.api_key_by_id(ObjectId(match.group(1))).find_one(self.db)
        stored = (doc or {}).get("hash", "")
        # Every pepper is tried whatever the outcome, so the time taken says nothing.
        matches = [hmac.compare_digest(self._hash(p, match.group(2)), stored) for p in self._peppers]
        if doc is None or not any(matches):
            raise unauthenticated("the API key is not valid")
        at = now()
        if doc.get("revoked_at") is not None:
            raise unauthenticated("the API key was revoked")
        if doc.get("expires_at") is not None and as_utc(doc["expires_at"]) <= at:
            raise unauthenticated("the API key has expired")
        last = doc.get("last_used_at")
        if last is None or as_utc(last) <= at - LAST_USED_EVERY:
            await self.collection.update_one(q.api_key_by_id(doc["_id"]).filter, {"$set": {"last_used_at": at}})
            doc["last_used_at"] = at
        return doc


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def actor_doc(actor: Actor) -> dict[str, str]:
    return {"kind": actor.kind, "id": actor.id, "name": actor.name, "role": actor.role, "on_behalf_of": actor.on_behalf_of}


def actor_proto(doc: dict[str, Any] | None) -> profile_pb2.Actor | None:
    return profile_pb2.Actor(**{k: str(doc.get(k) or "") for k in ("kind", "id", "name", "role", "on_behalf_of")}) if doc else None


def key_to_proto(doc: dict[str, Any]) -> profile_pb2.ApiKey:
    out = profile_pb2.ApiKey(
        id=str(doc["_id"]),
        name=doc["name"],
        role=doc["role"],
        prefix=doc.get("prefix", ""),
        acts_for_others=bool(doc.get("acts_for_others")),
        rate_limit_per_minute=int(doc.get("rate_limit_per_minute") or 0),
    )
    for field in ("created_at", "expires_at", "last_used_at", "revoked_at"):
        if doc.get(field) is not None:
            getattr(out, field).FromDatetime(as_utc(doc[field]))
    for field in ("created_by", "revoked_by"):
        actor = actor_proto(doc.get(field))
        if actor is not None:
            getattr(out, field).CopyFrom(actor)
    return out
