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

import dataclasses
import hashlib
import hmac
import re
import secrets
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import invalid_argument, not_found, unauthenticated
from linkmesh_profile.db.api_keys import ApiKeyStore
from linkmesh_profile.db.documents import ts
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.model.api_key import ApiKeyRecord

if TYPE_CHECKING:
    from linkmesh_core.actor import Actor

PREFIX = "lmk_"
ROLES = ("admin", "agent", "developer")
KEY_RE = re.compile(r"lmk_([0-9a-f]{24})_([A-Za-z0-9_-]{20,100})")
LAST_USED_EVERY = timedelta(seconds=60)
MAX_RATE = 100_000


class ApiKeys:
    def __init__(self, store: Store, secret_keys: str) -> None:
        self.keys = ApiKeyStore(store)
        self._peppers = [
            hmac.new(k.strip().encode(), b"linkmesh api key v1", hashlib.sha256).digest() for k in secret_keys.split(",") if k.strip()
        ]

    def _hash(self, pepper: bytes, secret: str) -> str:
        return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()

    async def create(self, request: profile_pb2.CreateApiKeyRequest, actor: Actor) -> tuple[ApiKeyRecord, str]:
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
        key = ApiKeyRecord(
            oid=oid,
            name=name,
            role=request.role,
            prefix=full[: len(PREFIX) + 24 + 5],
            hash=self._hash(self._peppers[0], secret),
            created_at=now(),
            created_by=actor,
            expires_at=expires,
            acts_for_others=request.acts_for_others,
            rate_limit_per_minute=request.rate_limit_per_minute,
        )
        return await self.keys.insert(key), full

    async def list(self, include_revoked: bool) -> list[ApiKeyRecord]:
        return await self.keys.list(include_revoked)

    async def revoke(self, key_id: str, actor: Actor) -> ApiKeyRecord:
        """Revokes the key (a key revoked already is answered as it is)."""
        key = await self.keys.revoke(ObjectId(key_id), now(), actor) if ObjectId.is_valid(key_id) else None
        if key is None:
            raise not_found(f"no API key {key_id}")
        return key

    async def authenticate(self, presented: str) -> ApiKeyRecord:
        match = KEY_RE.fullmatch(presented.strip())
        if match is None:
            raise unauthenticated("not a linkmesh API key")
        key = await self.keys.get(ObjectId(match.group(1)))
        stored = key.hash if key is not None else ""
        # Every pepper is tried whatever the outcome, so the time taken says nothing.
        matches = [hmac.compare_digest(self._hash(p, match.group(2)), stored) for p in self._peppers]
        if key is None or not any(matches):
            raise unauthenticated("the API key is not valid")
        at = now()
        if key.revoked_at is not None:
            raise unauthenticated("the API key was revoked")
        if key.expires_at is not None and key.expires_at <= at:
            raise unauthenticated("the API key has expired")
        if key.last_used_at is None or key.last_used_at <= at - LAST_USED_EVERY:
            await self.keys.used(key.oid, at)
            key = dataclasses.replace(key, last_used_at=at)
        return key


def actor_proto(actor: Actor | None) -> profile_pb2.Actor | None:
    if actor is None:
        return None
    return profile_pb2.Actor(kind=actor.kind, id=actor.id, name=actor.name, role=actor.role, on_behalf_of=actor.on_behalf_of)


def key_to_proto(key: ApiKeyRecord) -> profile_pb2.ApiKey:
    return profile_pb2.ApiKey(
        id=key.id,
        name=key.name,
        role=key.role,
        prefix=key.prefix,
        acts_for_others=key.acts_for_others,
        rate_limit_per_minute=key.rate_limit_per_minute,
        created_at=ts(key.created_at),
        expires_at=ts(key.expires_at),
        last_used_at=ts(key.last_used_at),
        revoked_at=ts(key.revoked_at),
        created_by=actor_proto(key.created_by),
        revoked_by=actor_proto(key.revoked_by),
    )
