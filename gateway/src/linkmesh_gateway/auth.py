"""Who is calling: the credential of a request, verified, as the ``Actor`` every write records.

- ``Authorization: Bearer lmk_<id>_<secret>``: an API key, checked by the profile service on
  every request (so a revoked key fails at once on every gateway replica), or once per
  ``GATEWAY_API_KEY_CACHE_S`` when that is set (``key_cache``: a revocation then takes up to
  that long to hold on the replicas it did not go through).
- ``Authorization: Bearer <JWT>``: a person signed in with the company's identity provider
  (OpenID Connect access token, verified by ``oidc``), when ``GATEWAY_OIDC_ISSUER`` is set.
- ``Authorization: Bearer <token>`` from ``LINKMESH_TOKENS``: the bootstrap tokens ``make
  run`` and the tests use, one per role, compared in constant time. Their actor is
  ``bootstrap:<role>``: shared, so nobody in particular; production uses keys and sign-in.

``X-Actor`` (a person's name or id) is accepted only from an API key an admin created with
``acts_for_others`` (a helpdesk integration acting for its agents), and recorded as "key K on
behalf of X"; from any other caller it is refused, never silently taken as the author.

Each caller (key, user or bootstrap token) has a token bucket on this replica: its
``rate_limit_per_minute`` (a key's own, else ``GATEWAY_RATE_LIMIT_PER_MINUTE``) divided by
``GATEWAY_REPLICAS_MAX``, the most replicas the autoscaler may run, so all replicas together
never let one caller through faster than its limit. Past it: 429 with ``Retry-After``.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field

import grpc
from aiohttp import web
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.actor import Actor
from linkmesh_gateway.errors import ApiError, invalid
from linkmesh_gateway.key_cache import KeyCache
from linkmesh_gateway.oidc import NoRole, ProviderUnavailable, TokenRefused, looks_like_jwt
from linkmesh_gateway.payloads import valid_text
from linkmesh_gateway.state import AUTH, OIDC, TOKENS

KEY_PREFIX = "lmk_"
AUTH_TIMEOUT_S = 3.0


def unauthorized(message: str, error: str = "invalid_token") -> ApiError:
    # RFC 6750: the error code and a description a client can show.
    description = message.replace('"', "'")
    return ApiError(
        401, "unauthorized", message, headers={"WWW-Authenticate": f'Bearer error="{error}", error_description="{description}"'}
    )


@dataclass(frozen=True)
class Caller:
    actor: Actor
    rate_limit_per_minute: int = 0  # 0: the gateway's default
    acts_for_others: bool = False


KEY_CACHE = web.AppKey("api_key_cache", KeyCache[Caller])
CALLER = web.RequestKey("caller", Caller)  # set on every authenticated /api/ request
ROLE = web.RequestKey("role", str)


async def api_key_caller(request: web.Request, token: str) -> Caller:
    kept = request.app[KEY_CACHE]
    remembered = kept.get(token)
    if remembered is not None:
        return remembered
    try:
        key = await request.app[AUTH].AuthenticateApiKey(profile_pb2.AuthenticateApiKeyRequest(secret=token), timeout=AUTH_TIMEOUT_S)
    except grpc.aio.AioRpcError as err:
        if err.code() == grpc.StatusCode.UNAUTHENTICATED:
            raise unauthorized(err.details() or "the API key is not valid") from None
        raise
    caller = Caller(Actor(kind="api_key", id=key.id, name=key.name, role=key.role), key.rate_limit_per_minute, key.acts_for_others)
    kept.put(token, caller, key.id, key.expires_at.ToMicroseconds() / 1e6 if key.HasField("expires_at") else None)
    return caller


async def user_caller(request: web.Request, token: str) -> Caller:
    verifier = request.app.get(OIDC)
    if verifier is None:
        raise unauthorized("this gateway has no identity provider configured (GATEWAY_OIDC_ISSUER); use an API key")
    try:
        return Caller(await verifier.verify(token))
    except TokenRefused as exc:
        raise unauthorized(exc.reason) from None
    except NoRole as exc:
        raise ApiError(
            403,
            "forbidden",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", error_description="no linkmesh role"'},
        ) from None
    except ProviderUnavailable as exc:
        raise ApiError(
            503, "unavailable", f"the identity provider did not answer, so the token cannot be checked: {exc}", headers={"Retry-After": "5"}
        ) from None


def bootstrap_caller(request: web.Request, token: str) -> Caller | None:
    role = None
    for known, known_role in request.app[TOKENS].items():
        if hmac.compare_digest(known.encode(), token.encode()):
            role = known_role
    if role is None:
        return None
    return Caller(Actor(kind="bootstrap", id=f"bootstrap:{role}", name=f"the {role} bootstrap token", role=role))


async def caller_of(request: web.Request) -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
    if token.startswith(KEY_PREFIX):
        caller = await api_key_caller(request, token)
    elif looks_like_jwt(token):
        caller = await user_caller(request, token)
    else:
        found = bootstrap_caller(request, token)
        if found is None:
            raise unauthorized("the token is not valid")
        caller = found
    said = request.headers.get("X-Actor")
    if said is not None:
        said = said.strip()
        if not caller.acts_for_others:
            raise ApiError(
                403,
                "forbidden",
                "X-Actor is accepted only from an API key an admin trusted to act for others; "
                "the author of a write is the caller's own credential",
            )
        if not said or len(said) > 200 or not said.isprintable() or not valid_text(said):
            raise invalid({"X-Actor": "must name the person: 1 to 200 printable characters"})
        caller = Caller(Actor(**{**caller.actor.__dict__, "on_behalf_of": said}), caller.rate_limit_per_minute, caller.acts_for_others)
    return caller


@dataclass
class Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per caller on this replica (its share of the caller's limit)."""

    default_per_minute: int
    replicas: int = 1
    buckets: dict[str, Bucket] = field(default_factory=dict)
    max_callers: int = 100_000

    def take(self, caller: str, per_minute: int = 0) -> float:
        """0 when the request may go; else the seconds until it may."""
        limit = (per_minute or self.default_per_minute) / max(self.replicas, 1)
        if limit <= 0:
            return 0.0
        rate = limit / 60.0
        capacity = max(1.0, limit / 6.0)  # a burst of ten seconds' worth
        now = time.monotonic()
        bucket = self.buckets.get(caller)
        if bucket is None:
            if len(self.buckets) >= self.max_callers:
                self.buckets.clear()  # callers come and go; forgetting them only refills their buckets
            bucket = self.buckets[caller] = Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate


LIMITER = web.AppKey("rate_limiter", RateLimiter)
