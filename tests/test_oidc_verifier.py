"""The gateway's OpenID Connect settings and key cache, without a provider process: bad
settings are refused naming the variable, and requests that need new keys share one fetch."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkmesh_core.settings import ConfigError, settings_from_env
from linkmesh_gateway import oidc
from linkmesh_gateway.config import Settings
from linkmesh_gateway.oidc import OidcConfig, OidcVerifier, TokenRefused
from tests.oidc_provider import AUDIENCE, SigningKey


@pytest.mark.parametrize(
    ("env", "named", "why"),
    [
        ({"GATEWAY_OIDC_ISSUER": "https://id.example.com"}, "GATEWAY_OIDC_AUDIENCE", "required with GATEWAY_OIDC_ISSUER"),
        ({"GATEWAY_OIDC_ISSUER": "http://id.example.com", "GATEWAY_OIDC_AUDIENCE": "a"}, "GATEWAY_OIDC_ISSUER", "https"),
        (
            {"GATEWAY_OIDC_ISSUER": "https://id.example.com", "GATEWAY_OIDC_AUDIENCE": "a", "GATEWAY_OIDC_ALGORITHMS": "RS256,HS256"},
            "GATEWAY_OIDC_ALGORITHMS",
            "HS256 not allowed",
        ),
        ({"GATEWAY_OIDC_ALGORITHMS": "none"}, "GATEWAY_OIDC_ALGORITHMS", "none not allowed"),
        ({"GATEWAY_OIDC_ROLE_MAP": "support:superuser"}, "GATEWAY_OIDC_ROLE_MAP", "role one of admin, agent, developer"),
        (
            {"GATEWAY_OIDC_AUTH_PARAMS": "audience=x&redirect_uri=https://evil"},
            "GATEWAY_OIDC_AUTH_PARAMS",
            "redirect_uri is set by the console",
        ),
    ],
)
def test_bad_identity_provider_settings_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str, why: str
) -> None:
    monkeypatch.setenv("LINKMESH_TOKENS", "admin:admin-token-123")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        settings_from_env(Settings)
    assert named in str(caught.value) and why in str(caught.value)


def test_good_settings_read_as_the_verifier_uses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKMESH_TOKENS", "admin:admin-token-123")
    monkeypatch.setenv("GATEWAY_OIDC_ISSUER", "http://127.0.0.1:9000/realms/acme")
    monkeypatch.setenv("GATEWAY_OIDC_AUDIENCE", "linkmesh")
    monkeypatch.setenv("GATEWAY_OIDC_ROLES_CLAIM", "realm_access.roles")
    monkeypatch.setenv("GATEWAY_OIDC_ROLE_MAP", "linkmesh-admin:admin, support:agent")
    monkeypatch.setenv("GATEWAY_OIDC_AUTH_PARAMS", "audience=linkmesh&prompt=login")
    config = settings_from_env(Settings).oidc
    assert config is not None and config.role_map == {"linkmesh-admin": "admin", "support": "agent"}
    assert config.auth_params == {"audience": "linkmesh", "prompt": "login"} and config.algorithms == ("RS256", "PS256", "ES256")
    verifier = OidcVerifier(config)
    assert verifier.role_of({"realm_access": {"roles": ["offline_access", "support", "linkmesh-admin"]}}) == "admin"
    assert verifier.role_of({"realm_access": {"roles": ["support"]}}) == "agent"


async def test_requests_that_need_new_keys_share_one_fetch() -> None:
    """Twenty requests signed with a new key at once: one JWKS fetch, not twenty."""
    hits: Counter[str] = Counter()
    keys = [SigningKey("old")]

    async def discovery(request: web.Request) -> web.Response:
        hits["discovery"] += 1
        base = str(request.url.origin())
        return web.json_response({"issuer": base, "jwks_uri": f"{base}/jwks"})

    async def jwks(request: web.Request) -> web.Response:
        hits["jwks"] += 1
        await asyncio.sleep(0.2)  # a provider that takes a moment
        return web.json_response({"keys": [k.public_jwk() for k in keys]})

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    async with TestServer(app, host="127.0.0.1") as server:
        issuer = str(server.make_url("")).rstrip("/")
        verifier = OidcVerifier(OidcConfig(issuer=issuer, audience=AUDIENCE, jwks_refresh_min_s=60))

        def token(key: SigningKey) -> str:
            body = {"iss": issuer, "aud": AUDIENCE, "sub": "ada", "exp": 4102444800, "groups": ["admin"]}
            return jwt.encode(body, key.private, algorithm="RS256", headers={"kid": key.kid})

        try:
            assert (await verifier.verify(token(keys[0]))).role == "admin"
            assert hits == {"discovery": 1, "jwks": 1}
            new = SigningKey("new")
            keys.insert(0, new)
            verifier.fetch_tried_at -= 120  # the last fetch is a while ago
            actors = await asyncio.gather(*(verifier.verify(token(new)) for _ in range(20)))
            assert {a.id for a in actors} == {"user:ada"} and hits["jwks"] == 2, "one fetch served all twenty"
            forged = await asyncio.gather(*(verifier.verify(token(SigningKey(f"forged-{i}"))) for i in range(20)), return_exceptions=True)
            assert all(isinstance(r, TokenRefused) for r in forged) and hits["jwks"] == 2, "a refresh was just made: none more"
            assert hits["discovery"] == 1
        finally:
            await verifier.close()


@asynccontextmanager
async def provider(keys: list[SigningKey]) -> AsyncIterator[str]:
    """A provider's discovery document and JWKS (``keys`` as they are at each fetch); its issuer."""

    async def discovery(request: web.Request) -> web.Response:
        base = str(request.url.origin())
        return web.json_response({"issuer": base, "jwks_uri": f"{base}/jwks"})

    async def jwks(request: web.Request) -> web.Response:
        return web.json_response({"keys": [k.public_jwk() for k in keys]})

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


async def test_a_token_is_verified_once_while_it_and_its_key_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person's console sends one access token with every request: its signature is checked on
    the first and remembered while the token has not expired and its key is still published.
    An expired token and a token whose key was withdrawn are refused as before; a refused token
    is checked every time."""
    checks: Counter[str] = Counter()
    decode = jwt.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("key") is not None:  # a signature checked (not a claim read for a message)
            checks["signature"] += 1
        return decode(*args, **kwargs)

    monkeypatch.setattr(oidc.jwt, "decode", counted)
    keys = [SigningKey("k1")]
    async with provider(keys) as issuer:
        verifier = OidcVerifier(OidcConfig(issuer=issuer, audience=AUDIENCE, leeway_s=0, jwks_refresh_min_s=0))

        def token(sub: str, key: SigningKey, lifetime_s: float = 3600) -> str:
            body = {"iss": issuer, "aud": AUDIENCE, "sub": sub, "exp": int(time.time() + lifetime_s), "groups": ["agent"]}
            return jwt.encode(body, key.private, algorithm="RS256", headers={"kid": key.kid})

        try:
            ada = token("ada", keys[0])
            for _ in range(3):
                assert (await verifier.verify(ada)).id == "user:ada"
            assert checks["signature"] == 1, "one check for three requests with one token"
            assert (await verifier.verify(token("bob", keys[0]))).id == "user:bob" and checks["signature"] == 2

            forged = token("ada", SigningKey("k1"))  # the right kid, another key: refused every time
            for _ in range(2):
                with pytest.raises(TokenRefused, match="signature does not verify"):
                    await verifier.verify(forged)
            assert checks["signature"] == 4

            brief = token("cy", keys[0], lifetime_s=1.5)
            assert (await verifier.verify(brief)).id == "user:cy"
            await asyncio.sleep(max(0.0, jwt.decode(brief, options={"verify_signature": False})["exp"] - time.time()) + 0.1)
            with pytest.raises(TokenRefused, match="expired"):
                await verifier.verify(brief)

            keys[:] = [SigningKey("k2")]  # the provider withdrew k1
            verifier.keys_at -= verifier.config.jwks_max_age_s + 1  # the set held is now too old to trust
            with pytest.raises(TokenRefused, match="does not publish"):
                await verifier.verify(ada)
            assert (await verifier.verify(token("ada", keys[0]))).id == "user:ada"
        finally:
            await verifier.close()


async def test_verified_tokens_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oidc, "VERIFIED_MAX", 2)
    keys = [SigningKey("k1")]
    async with provider(keys) as issuer:
        verifier = OidcVerifier(OidcConfig(issuer=issuer, audience=AUDIENCE))
        body = {"iss": issuer, "aud": AUDIENCE, "exp": int(time.time() + 3600), "groups": ["agent"]}
        tokens = [jwt.encode({**body, "sub": f"p{i}"}, keys[0].private, algorithm="RS256", headers={"kid": "k1"}) for i in range(3)]
        try:
            for t in tokens:
                await verifier.verify(t)
            assert len(verifier.verified) == 2, "the least recently used let go"
        finally:
            await verifier.close()
