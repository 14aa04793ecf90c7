"""Sign-in with the company's identity provider: a real OpenID provider (oidc-provider on
Node), people signing in through it with the authorization code flow and PKCE, the gateway
verifying their access tokens (keys from discovery and JWKS, rotation, pinned algorithms,
iss/aud/exp/nbf) and recording them as the authors of their writes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import ServiceProcess
from tests.browser import launch
from tests.conftest import HELPDESK_PORT, Api
from tests.oidc_provider import AUDIENCE, ROLE_MAP, OidcProvider, SigningKey

pytestmark = pytest.mark.e2e

REFRESH_MIN_S = 2.0


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    port = free_port()
    found = OidcProvider(tmp_path_factory.mktemp("oidc"), [f"http://127.0.0.1:{port}/"])
    found.gateway_port = port  # type: ignore[attr-defined]  # the gateway the console is served from
    found.start()
    yield found
    found.stop()


class Gateway:
    def __init__(self, process: ServiceProcess) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{process.port}"

    def call(self, method: str, path: str, token: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    def key_fetches(self) -> int:
        assert self.process.log_path is not None
        return self.process.log_path.read_text().count("oidc_keys_loaded")


@pytest.fixture(scope="module")
def sso_gateway(stack: Any, provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway replica that accepts the provider's tokens, in front of the test stack."""
    first = stack.services["gateway"]
    port = provider.gateway_port  # type: ignore[attr-defined]
    env = {
        **first.env,
        "GATEWAY_PORT": str(port),
        "GATEWAY_METRICS_PORT": "0",
        "GATEWAY_LOG_JSON": "true",
        "GATEWAY_OIDC_ISSUER": provider.issuer,
        "GATEWAY_OIDC_AUDIENCE": AUDIENCE,
        "GATEWAY_OIDC_ROLES_CLAIM": "groups",
        "GATEWAY_OIDC_ROLE_MAP": ROLE_MAP,
        "GATEWAY_OIDC_CLIENT_ID": "linkmesh-console",
        "GATEWAY_OIDC_JWKS_REFRESH_MIN_S": str(REFRESH_MIN_S),
    }
    process = ServiceProcess("gateway-sso", first.cmd, env, port, "http", log_path=tmp_path_factory.mktemp("sso") / "gateway.log")
    process.start()
    try:
        process.wait_ready()
        yield Gateway(process)
    finally:
        process.stop()


def test_people_sign_in_with_the_provider_and_their_writes_name_them(sso_gateway: Gateway, provider: OidcProvider, api: Api) -> None:
    seen = {}
    for login in ("ada", "sam", "dev"):
        tokens = provider.sign_in(login)
        me = sso_gateway.call("GET", "/api/v1/me", tokens["access_token"])
        assert me.status_code == 200, me.text
        seen[login] = me.json()
    assert seen["ada"] == {"kind": "user", "id": "user:ada", "name": "Ada Admin", "role": "admin"}
    assert seen["sam"] == {"kind": "user", "id": "user:sam", "name": "Sam Agent", "role": "agent"}
    assert seen["dev"]["role"] == "developer"

    sam = provider.sign_in("sam")["access_token"]
    created = sso_gateway.call("POST", "/api/v1/customers", sam, {"name": "Signed-in Customer", "emails": ["signed.in@example.com"]})
    assert created.status_code == 201, created.text
    entry = api.get("/api/v1/audit", role="admin", params={"customer_id": created.json()["id"]}).json()["entries"][0]
    assert entry["action"] == "customer.create" and entry["request_id"] == created.headers["X-Request-Id"]
    assert entry["actor"] == {"kind": "user", "id": "user:sam", "name": "Sam Agent", "role": "agent", "on_behalf_of": ""}
    assert api.get("/api/v1/audit", role="admin", params={"actor_id": "user:sam"}).json()["entries"][0]["id"] == entry["id"]

    assert sso_gateway.call("GET", "/api/v1/api-keys", sam).status_code == 403, "an agent's token does not make an admin"
    admin = provider.sign_in("ada")["access_token"]
    assert sso_gateway.call("GET", "/api/v1/api-keys", admin).status_code == 200

    nobody = sso_gateway.call("GET", "/api/v1/me", provider.sign_in("guest")["access_token"])
    assert nobody.status_code == 403 and "no linkmesh role" in nobody.json()["error"]["message"]
    assert 'error="insufficient_scope"' in nobody.headers["WWW-Authenticate"]


def test_the_console_learns_how_to_sign_in_and_may_talk_to_the_provider(sso_gateway: Gateway, provider: OidcProvider, api: Api) -> None:
    config = requests.get(f"{sso_gateway.url}/api/v1/auth/config", timeout=10)
    assert config.status_code == 200 and config.headers["Cache-Control"] == "no-store"
    oidc = config.json()["oidc"]
    assert oidc["issuer"] == provider.issuer and oidc["client_id"] == "linkmesh-console"
    assert oidc["authorization_endpoint"] == f"{provider.issuer}/auth" and oidc["token_endpoint"] == f"{provider.issuer}/token"
    assert oidc["end_session_endpoint"] and "openid" in oidc["scope"].split() and "secret" not in json.dumps(oidc)
    policy = requests.get(f"{sso_gateway.url}/", timeout=10).headers["Content-Security-Policy"]
    assert f"connect-src 'self' {provider.issuer}" in policy and "script-src" not in policy
    assert f"frame-ancestors http://localhost:{HELPDESK_PORT}" in policy, "framed only by the listed helpdesk"

    plain = requests.get(f"{api.stack.gateway_url}/api/v1/auth/config", timeout=10).json()
    assert plain == {"oidc": None, "api_keys": True, "frame_ancestors": [f"http://localhost:{HELPDESK_PORT}"]}, (
        "no provider configured: sign in with an API key"
    )
    refused = requests.get(f"{api.stack.gateway_url}/api/v1/me", headers={"Authorization": f"Bearer {provider.mint()}"}, timeout=10)
    assert refused.status_code == 401 and "no identity provider configured" in refused.headers["WWW-Authenticate"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()) if secret is not None else ""
    return f"{signing_input}.{signature}"


def test_tokens_the_gateway_refuses_say_why(sso_gateway: Gateway, provider: OidcProvider) -> None:
    now = int(time.time())
    public_pem = (
        provider.keys[0].private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = {"iss": provider.issuer, "aud": AUDIENCE, "sub": "ada", "iat": now, "exp": now + 300, "groups": ["linkmesh-admins"]}
    cases = {
        "expired": (provider.mint(exp=now - 120, iat=now - 500), "expired at"),
        "not yet valid": (provider.mint(nbf=now + 600), "not valid before"),
        "another audience": (provider.mint(aud="https://other.example/api"), "another audience"),
        "another issuer": (provider.mint(iss="https://evil.example"), "issued by 'https://evil.example'"),
        "no expiry": (provider.mint(exp=None), "no 'exp' claim"),
        "a key the provider never published": (provider.mint(key=SigningKey("key-1")), "signature does not verify"),
        "an unknown kid": (provider.mint(key=SigningKey("stranger")), "does not publish (kid 'stranger')"),
        "HS256 keyed with the public key": (
            hand_signed({"alg": "HS256", "kid": "key-1", "typ": "at+jwt"}, claims, public_pem),
            "accepts RS256",
        ),
        "alg none": (hand_signed({"alg": "none", "typ": "at+jwt"}, claims, None), "signed with 'none'"),
        "an ID token": (provider.mint(headers={"typ": "id_token+jwt"}), "not an access token"),
        "a mangled JWT": ("eyJhbGciOiJSUzI1NiJ9.e30.c2ln!", "not a valid JWT"),
    }
    for case, (token, why) in cases.items():
        answer = sso_gateway.call("GET", "/api/v1/me", token)
        assert answer.status_code == 401, (case, answer.text)
        challenge = answer.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer error="invalid_token"') and why in challenge, (case, challenge)
        assert why in answer.json()["error"]["message"], case
    assert sso_gateway.call("GET", "/api/v1/me", provider.mint()).status_code == 200, "the same claims, properly signed, pass"


def test_keys_rotate_and_an_unknown_kid_refreshes_once(sso_gateway: Gateway, provider: OidcProvider) -> None:
    old_token = provider.sign_in("ada")["access_token"]
    assert sso_gateway.call("GET", "/api/v1/me", old_token).status_code == 200
    old = provider.keys[0]
    new = SigningKey(f"key-{int(time.time() * 1000)}")
    provider.restart([new, old])  # the provider publishes a new key and signs with it
    time.sleep(REFRESH_MIN_S + 0.2)
    fetches = sso_gateway.key_fetches()

    rotated = provider.sign_in("ada")["access_token"]
    assert json.loads(base64.urlsafe_b64decode(rotated.split(".")[0] + "==")).get("kid") == new.kid
    assert sso_gateway.call("GET", "/api/v1/me", rotated).status_code == 200, "the unknown kid made the gateway fetch the new keys"
    assert sso_gateway.key_fetches() == fetches + 1
    assert sso_gateway.call("GET", "/api/v1/me", old_token).status_code == 200, "the old key is still published"

    for _ in range(5):  # made-up kids cannot make the gateway hammer the provider
        assert sso_gateway.call("GET", "/api/v1/me", provider.mint(key=SigningKey("made-up"))).status_code == 401
    assert sso_gateway.key_fetches() == fetches + 1, "at most one fetch per GATEWAY_OIDC_JWKS_REFRESH_MIN_S"

    provider.restart([new])  # the old key withdrawn
    time.sleep(REFRESH_MIN_S + 0.2)
    assert sso_gateway.call("GET", "/api/v1/me", provider.mint(key=SigningKey("yet-unknown"))).status_code == 401
    assert sso_gateway.key_fetches() == fetches + 2
    assert sso_gateway.call("GET", "/api/v1/me", provider.mint(key=old)).status_code == 401, "a withdrawn key no longer signs"


def test_a_provider_that_does_not_answer_is_a_503_not_a_401(
    sso_gateway: Gateway, provider: OidcProvider, tmp_path: Path, stack: Any
) -> None:
    """With no key yet (the provider down since start-up), the gateway cannot tell a good token
    from a bad one: it says so with 503, and checks tokens once the provider answers."""
    first = stack.services["gateway"]
    port = free_port()
    env = {**sso_gateway.process.env, "GATEWAY_PORT": str(port), "GATEWAY_OIDC_ISSUER": f"http://127.0.0.1:{free_port()}"}
    process = ServiceProcess("gateway-sso-down", first.cmd, env, port, "http", log_path=tmp_path / "gateway.log")
    process.start()
    try:
        process.wait_ready()
        answer = requests.get(f"http://127.0.0.1:{port}/api/v1/me", headers={"Authorization": f"Bearer {provider.mint()}"}, timeout=15)
        assert answer.status_code == 503 and answer.headers["Retry-After"], answer.text
        assert "identity provider did not answer" in answer.json()["error"]["message"]
        config = requests.get(f"http://127.0.0.1:{port}/api/v1/auth/config", timeout=15).json()
        assert "did not answer" in config["oidc"]["error"], "the console can say why it cannot offer sign-in"
    finally:
        process.stop()


async def test_the_console_signs_in_with_the_provider_shows_who_and_signs_out(sso_gateway: Gateway, provider: OidcProvider) -> None:
    """Authorization code with PKCE from the page: the provider's login and consent pages, back
    to the console signed in as the person with their role; sign-out ends the provider's session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch(p)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            token_requests: list[str] = []
            page.on("request", lambda r: token_requests.append(r.post_data or "") if r.url == f"{provider.issuer}/token" else None)
            await page.goto(f"{sso_gateway.url}/")
            await page.click("#sso:has-text('Sign in with your company account')")
            await page.wait_for_url(f"{provider.issuer}/interaction/**")
            await page.fill("input[name=login]", "sam")
            await page.fill("input[name=password]", "any")
            await page.click("button[type=submit]")
            await page.click("button:has-text('Continue')")  # the consent page
            await page.wait_for_selector("#role:has-text('signed in as Sam Agent (agent)')")
            assert page.url == f"{sso_gateway.url}/", "the code and state are gone from the address bar"
            assert await page.is_hidden("#sso") and await page.is_hidden("#token") and await page.is_visible("#signout")
            assert len(token_requests) == 1 and "code_verifier=" in token_requests[0] and "client_secret" not in token_requests[0]
            stored = await page.evaluate("sessionStorage.getItem('linkmesh.token')")
            me = sso_gateway.call("GET", "/api/v1/me", stored)
            assert me.json()["id"] == "user:sam", "the console holds the person's own access token"

            await page.fill("#lookup-query", "nobody.here@example.com")
            await page.click("#lookup button[type=submit]")
            await page.wait_for_selector("#directory :text('No customer matches')", timeout=10_000)

            await page.click("#signout")
            await page.click("button:has-text('Yes, sign me out')")  # the provider asks once
            await page.wait_for_url(f"{sso_gateway.url}/")
            await page.wait_for_selector("#sso:visible")
            assert await page.evaluate("sessionStorage.getItem('linkmesh.token')") is None
            assert await page.text_content("#role") == ""
            await page.click("#sso")
            await page.wait_for_selector("input[name=login]")  # the provider's session ended too: it asks who you are
            assert errors == []
        finally:
            await browser.close()


async def test_the_sidebar_signs_in_through_a_window_of_its_own(sso_gateway: Gateway, provider: OidcProvider) -> None:
    """Providers refuse to be framed: the sidebar opens the sign-in in a window, which hands the
    token back to the sidebar on the gateway's own origin and closes."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch(p)
        try:
            page = await browser.new_page(viewport={"width": 400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{sso_gateway.url}/sidebar")
            async with page.expect_popup() as opened:
                await page.click("#sso")
            popup = await opened.value
            await popup.wait_for_url(f"{provider.issuer}/interaction/**")
            await popup.fill("input[name=login]", "sam")
            await popup.fill("input[name=password]", "any")
            await popup.click("button[type=submit]")
            await popup.click("button:has-text('Continue')")
            await popup.wait_for_event("close")
            await page.wait_for_selector("#role:has-text('Sam Agent (agent)')")
            assert await page.is_hidden("nav") and await page.is_visible("#signout")
            assert errors == []
        finally:
            await browser.close()
