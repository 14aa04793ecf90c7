"""Sign-in with the company's identity provider: OpenID Connect access tokens (JWT).

The gateway is a resource server. It reads the provider's discovery document
(``{issuer}/.well-known/openid-configuration``) and its JWKS, keeps the keys, and verifies
every bearer JWT with PyJWT: the signature with the provider's key named by ``kid``, an
algorithm from a pinned list of asymmetric ones (never ``none``, never HMAC, whatever the
token's header says), ``iss``, ``aud``, ``exp`` and ``nbf`` (with a small leeway for clocks).

Keys rotate: a token signed with a ``kid`` the cached set lacks makes the gateway fetch the
JWKS again, at most once per ``GATEWAY_OIDC_JWKS_REFRESH_MIN_S`` (so a flood of tokens with
made-up ``kid`` values cannot turn into a flood of requests to the provider); the set is also
refetched when older than ``GATEWAY_OIDC_JWKS_MAX_AGE_S``, so a key the provider withdrew stops
being accepted. Concurrent requests that need a refresh share one fetch.

A token verified once is remembered (a digest of it, never the token) with the actor it names,
so a person's console, which sends one token with every request, costs one signature check
(190-260 us of CPU) per token, not per request: it is taken as verified again while it has not
expired and the very key that verified it is still in the provider's set, which is not older than
``GATEWAY_OIDC_JWKS_MAX_AGE_S``; otherwise it is verified anew, with the same refusals. Refused
tokens are never remembered. At most ``VERIFIED_MAX`` are kept, the least recently used first out.

The role comes from a claim (``GATEWAY_OIDC_ROLES_CLAIM``, a dotted path such as ``groups`` or
Keycloak's ``realm_access.roles``) whose values map to linkmesh roles
(``GATEWAY_OIDC_ROLE_MAP``: ``group:role,...``; a value that is itself a role name counts as
that role). A person with several roles acts with the first of admin, agent, developer.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt
import structlog
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MissingRequiredClaimError,
    PyJWKError,
    PyJWTError,
)

from linkmesh_core.actor import Actor

log = structlog.get_logger("linkmesh.gateway.oidc")

ROLE_ORDER = ("admin", "agent", "developer")
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
FETCH_TIMEOUT_S = 5.0
NO_KEYS_RETRY_S = 5.0  # with no key at all, the provider is asked again this often at most
ACCESS_TOKEN_TYPES = {"jwt", "at+jwt", "application/at+jwt"}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}  # a JWKS publishes public keys: private parts are ignored
KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}  # the key type each algorithm family needs
VERIFIED_MAX = 10_000  # tokens remembered as verified: a few hundred bytes each


@dataclass(frozen=True)
class Key:
    jwk: jwt.PyJWK
    kty: str
    alg: str | None  # the algorithm the provider bound the key to, if it did

    def fits(self, alg: str) -> bool:
        return (self.alg is None or self.alg == alg) and KEY_TYPE.get(alg[:2]) == self.kty


@dataclass(frozen=True)
class Verified:
    """A token's verification, remembered: whom it names, the key that verified it (under the
    ``kid`` it named, or None) and until when it holds (its ``exp`` and the leeway, epoch seconds)."""

    actor: Actor
    kid: str | None
    alg: str
    key: Key
    until: float


class TokenRefused(Exception):
    """A token this gateway does not accept; ``reason`` says why, for WWW-Authenticate."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoRole(Exception):
    """A valid token of a person who has none of linkmesh's roles."""


class ProviderUnavailable(Exception):
    """The identity provider did not answer and no usable key is cached."""


def parse_role_map(raw: str) -> dict[str, str]:
    """``"support-team:agent,it-admins:admin"`` → ``{"support-team": "agent", ...}``."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        group, sep, role = part.rpartition(":")
        group, role = group.strip(), role.strip()
        if not sep or not group or role not in ROLE_ORDER:
            raise ValueError(f"entries must be group:role with role one of {', '.join(ROLE_ORDER)} (got {part!r})")
        out[group] = role
    return out


def parse_algorithms(raw: str) -> tuple[str, ...]:
    algorithms = tuple(a.strip() for a in raw.split(",") if a.strip())
    if not algorithms:
        raise ValueError("name at least one signing algorithm, e.g. RS256")
    refused = [a for a in algorithms if a not in ASYMMETRIC]
    if refused:
        raise ValueError(f"{', '.join(refused)} not allowed: only asymmetric algorithms ({', '.join(sorted(ASYMMETRIC))})")
    return algorithms


def check_issuer(issuer: str) -> str:
    parts = urlsplit(issuer)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError("must be an https URL (http only for a provider on this machine)")
    if not parts.hostname or parts.query or parts.fragment:
        raise ValueError("must be the provider's issuer URL, without query or fragment")
    return issuer


def claim_at(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    roles_claim: str = "groups"
    role_map: dict[str, str] = field(default_factory=dict)
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    leeway_s: float = 30.0
    jwks_refresh_min_s: float = 60.0
    jwks_max_age_s: float = 3600.0
    client_id: str = ""
    scope: str = "openid profile email"
    auth_params: dict[str, str] = field(default_factory=dict)


class OidcVerifier:
    """Verifies access tokens against one provider; holds its discovery document and keys."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self.discovery: dict[str, Any] | None = None
        self.keys: dict[str, Key] = {}
        self.keys_at = 0.0  # monotonic time of the last successful JWKS fetch
        self.fetch_tried_at = -1e18  # and of the last attempt, successful or not
        self.fetches = 0
        self.verified: OrderedDict[bytes, Verified] = OrderedDict()
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S))
        return self._session

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with self._http().get(url, headers={"Accept": "application/json"}) as response:
            if response.status != 200:
                raise ProviderUnavailable(f"{url} answered HTTP {response.status}")
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"{url} did not answer a JSON object")
        return body

    async def load_discovery(self) -> dict[str, Any]:
        if self.discovery is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                document = await self._get_json(url)
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise ProviderUnavailable(f"{url}: {type(exc).__name__} {exc}".strip()) from None
            if document.get("issuer") != self.config.issuer:
                # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
                raise ProviderUnavailable(f"the discovery document names issuer {document.get('issuer')!r}, not {self.config.issuer!r}")
            if not isinstance(document.get("jwks_uri"), str):
                raise ProviderUnavailable("the discovery document has no jwks_uri")
            self.discovery = document
        return self.discovery

    async def _refresh_keys(self) -> None:
        """Fetch the JWKS (callers hold the lock and have checked the rate limit)."""
        self.fetch_tried_at = time.monotonic()
        document = await self.load_discovery()
        try:
            jwks = await self._get_json(document["jwks_uri"])
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ProviderUnavailable(f"{document['jwks_uri']}: {type(exc).__name__} {exc}".strip()) from None
        keys: dict[str, Key] = {}
        for index, data in enumerate(jwks.get("keys") or []):
            if not isinstance(data, dict) or data.get("use", "sig") != "sig":
                continue
            try:
                key = Key(jwt.PyJWK({k: v for k, v in data.items() if k not in PRIVATE_MEMBERS}), str(data.get("kty")), data.get("alg"))
            except PyJWKError:
                continue  # a key type or algorithm this gateway does not use
            keys[str(data.get("kid", f"#{index}"))] = key
        self.fetches += 1
        self.keys, self.keys_at = keys, time.monotonic()
        log.info("oidc_keys_loaded", issuer=self.config.issuer, kids=sorted(keys))

    def _known_key(self, kid: str | None, alg: str) -> Key | None:
        """The key of the set held now that a token naming ``kid`` (or none) and ``alg`` means."""
        if kid is not None:
            return self.keys.get(kid)
        fitting = [k for k in self.keys.values() if k.fits(alg)]  # no kid: only when one key can be meant
        return fitting[0] if len(fitting) == 1 else None

    async def _key_for(self, kid: str | None, alg: str) -> Key | None:
        def find() -> Key | None:
            return self._known_key(kid, alg)

        now = time.monotonic()
        stale = now - self.keys_at > self.config.jwks_max_age_s
        if not stale and (key := find()) is not None:
            return key
        async with self._lock:
            if (key := find()) is not None and not (time.monotonic() - self.keys_at > self.config.jwks_max_age_s):
                return key  # another request refreshed while this one waited
            since = time.monotonic() - self.fetch_tried_at
            if since >= self.config.jwks_refresh_min_s or (not self.keys and since >= NO_KEYS_RETRY_S):
                try:
                    await self._refresh_keys()
                except ProviderUnavailable as exc:
                    if not self.keys:
                        raise
                    log.warning("oidc_keys_refresh_failed", issuer=self.config.issuer, error=str(exc))  # keep the keys we have
            elif not self.keys:
                raise ProviderUnavailable(f"its keys could not be fetched; the gateway tries again within {NO_KEYS_RETRY_S:.0f} s")
            return find()

    async def verify(self, token: str) -> Actor:
        """The actor a bearer JWT names, once it verifies (or a verification remembered that
        still holds); TokenRefused or NoRole saying why not."""
        digest = hashlib.sha256(token.encode()).digest()
        held = self.verified.get(digest)
        if held is not None:
            if self._holds(held):
                self.verified.move_to_end(digest)
                return held.actor
            del self.verified[digest]
        verified = await self._verify(token)
        self.verified[digest] = verified
        while len(self.verified) > VERIFIED_MAX:
            self.verified.popitem(last=False)
        return verified.actor

    def _holds(self, held: Verified) -> bool:
        """A remembered verification holds while the token has not expired and the key that
        verified it is still in the provider's set, and that set is not too old to trust."""
        fresh = time.monotonic() - self.keys_at <= self.config.jwks_max_age_s
        return time.time() < held.until and fresh and self._known_key(held.kid, held.alg) is held.key

    async def _verify(self, token: str) -> Verified:
        config = self.config
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise TokenRefused("the token is not a valid JWT") from None
        alg = header.get("alg")
        if alg not in config.algorithms:
            raise TokenRefused(f"the token is signed with {alg!r}; this gateway accepts {', '.join(config.algorithms)}")
        typ = header.get("typ")
        if isinstance(typ, str) and typ.lower() not in ACCESS_TOKEN_TYPES:
            raise TokenRefused(f"the token is a {typ!r}, not an access token")
        kid = header.get("kid")
        key = await self._key_for(str(kid) if kid is not None else None, alg)
        if key is None:
            raise TokenRefused(f"the token is signed with a key the identity provider does not publish (kid {kid!r})")
        if not key.fits(alg):
            raise TokenRefused(f"the key {kid!r} ({key.kty}{', ' + key.alg if key.alg else ''}) is not for {alg}")
        try:
            claims = jwt.decode(
                token,
                key=key.jwk.key,
                algorithms=[alg],
                audience=config.audience,
                issuer=config.issuer,
                leeway=config.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except ExpiredSignatureError:
            raise TokenRefused(f"the token expired at {self._time_of(token, 'exp')}; sign in again") from None
        except ImmatureSignatureError:
            raise TokenRefused(f"the token is not valid before {self._time_of(token, 'nbf')}") from None
        except InvalidAudienceError:
            raise TokenRefused(f"the token is for another audience, not {config.audience!r}") from None
        except InvalidIssuerError:
            raise TokenRefused(f"the token was issued by {self._claim_of(token, 'iss')!r}, not {config.issuer!r}") from None
        except InvalidSignatureError:
            raise TokenRefused("the token's signature does not verify") from None
        except MissingRequiredClaimError as exc:
            raise TokenRefused(f"the token has no {exc.claim!r} claim") from None
        except PyJWTError as exc:
            raise TokenRefused(f"the token is not valid: {exc}") from None
        role = self.role_of(claims)
        name = next((str(claims[c]) for c in ("name", "preferred_username", "email") if claims.get(c)), str(claims["sub"]))
        actor = Actor(kind="user", id=f"user:{claims['sub']}", name=name, role=role)
        return Verified(actor, str(kid) if kid is not None else None, alg, key, float(claims["exp"]) + config.leeway_s)

    def role_of(self, claims: dict[str, Any]) -> str:
        raw = claim_at(claims, self.config.roles_claim)
        values = raw.split() if isinstance(raw, str) else [str(v) for v in raw] if isinstance(raw, list) else []
        roles = {self.config.role_map.get(v, v if v in ROLE_ORDER and not self.config.role_map else None) for v in values}
        for role in ROLE_ORDER:
            if role in roles:
                return role
        raise NoRole(
            f"your account has no linkmesh role: the token's {self.config.roles_claim!r} claim names none of "
            f"{', '.join(sorted(self.config.role_map) or ROLE_ORDER)}; ask an admin to add you to one"
        )

    @staticmethod
    def _claim_of(token: str, name: str) -> Any:
        try:
            return jwt.decode(token, options={"verify_signature": False}).get(name)
        except PyJWTError:
            return None

    def _time_of(self, token: str, name: str) -> str:
        value = self._claim_of(token, name)
        try:
            return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError, OverflowError):
            return "an unreadable time"

    async def public_config(self) -> dict[str, Any]:
        """What the console needs to sign in (authorization code with PKCE; a public client)."""
        config = self.config
        out: dict[str, Any] = {
            "issuer": config.issuer,
            "client_id": config.client_id,
            "scope": config.scope,
            "extra_params": dict(config.auth_params),
        }
        try:
            document = await self.load_discovery()
        except ProviderUnavailable as exc:
            out["error"] = f"the identity provider did not answer: {exc}"
            return out
        for name in ("authorization_endpoint", "token_endpoint", "end_session_endpoint"):
            if isinstance(document.get(name), str):
                out[name] = document[name]
        return out

    def origins(self) -> list[str]:
        """Origins the console's page talks to (its Content-Security-Policy's connect-src)."""
        urls = [self.config.issuer] + [self.discovery.get("token_endpoint", "")] if self.discovery else [self.config.issuer]
        found = []
        for url in urls:
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts and parts.scheme and parts.netloc and f"{parts.scheme}://{parts.netloc}" not in found:
                found.append(f"{parts.scheme}://{parts.netloc}")
        return found


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")
