"""A real OpenID Connect provider for the tests (panva's certified ``oidc-provider`` on the
machine's Node, installed by ``make`` from ``tests/node``), and a person's sign-in through it:
the authorization code flow with PKCE, its login and consent pages, the token exchange.

Its signing keys are made here (``cryptography``) so a test can rotate them: ``restart`` with
a new key set is the provider publishing a new JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from linkmesh_devstack.ports import free_port

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "oidc_provider.mjs"
AUDIENCE = "https://linkmesh.test/api"
ACCOUNTS = {
    "ada": {"name": "Ada Admin", "email": "ada@example.com", "groups": ["linkmesh-admins", "staff"]},
    "sam": {"name": "Sam Agent", "email": "sam@example.com", "groups": ["support-team"]},
    "dev": {"name": "Dee Developer", "email": "dee@example.com", "groups": ["engineering"]},
    "guest": {"name": "Gus Guest", "email": "gus@example.com", "groups": ["staff"]},
}
ROLE_MAP = "linkmesh-admins:admin,support-team:agent,engineering:developer"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        data = json.loads(RSAAlgorithm.to_jwk(self.private))
        data.pop("key_ops", None)  # PyJWT marks a private key "sign" only: the provider verifies with it too
        return {**data, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def public_jwk(self) -> dict[str, Any]:
        return {k: v for k, v in self.jwk().items() if k not in ("d", "p", "q", "dp", "dq", "qi")}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OidcProvider:
    def __init__(self, workdir: Path, redirect_uris: list[str], access_token_ttl: int = 300) -> None:
        node = shutil.which("node")
        if node is None or not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("the test OpenID provider needs Node and tests/node's packages: run `make install` (make test does)")
        self.node = node
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uris = redirect_uris
        self.access_token_ttl = access_token_ttl
        self.keys = [SigningKey("key-1")]
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "oidc-provider.log"

    def config(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "port": self.port,
            "jwks": {"keys": [k.jwk() for k in self.keys]},
            "cookie_key": secrets.token_urlsafe(32),
            "audience": AUDIENCE,
            "access_token_ttl": self.access_token_ttl,
            "accounts": ACCOUNTS,
            "clients": [
                {
                    "client_id": "linkmesh-console",
                    "token_endpoint_auth_method": "none",
                    "redirect_uris": self.redirect_uris,
                    "post_logout_redirect_uris": self.redirect_uris,
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                }
            ],
        }

    def start(self) -> None:
        path = self.workdir / "oidc-provider.json"
        path.write_text(json.dumps(self.config()))
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [self.node, str(SCRIPT), str(path)], cwd=NODE_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the OpenID provider did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self, keys: list[SigningKey]) -> None:
        """The provider rotates: it signs with the first key and publishes them all."""
        self.stop()
        self.keys = keys
        self.start()

    def sign_in(self, login: str, redirect_uri: str | None = None) -> dict[str, Any]:
        """A person signs in: authorize (PKCE), the login and consent pages, the code for tokens."""
        redirect_uri = redirect_uri or self.redirect_uris[0]
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(12)
        session = requests.Session()
        url = f"{self.issuer}/auth?" + urlencode(
            {
                "client_id": "linkmesh-console",
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "scope": "openid profile email",
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        for _ in range(10):
            answer = session.get(url, allow_redirects=False, timeout=10)
            if answer.status_code == 200:  # a login or consent page: fill it in as the person would
                action = re.search(r'<form[^>]* action="([^"]+)"', answer.text)
                prompt = re.search(r'name="prompt" value="([^"]+)"', answer.text)
                assert action and prompt, answer.text[:500]
                form = {"prompt": prompt.group(1), **({"login": login, "password": "any"} if prompt.group(1) == "login" else {})}
                answer = session.post(urljoin(url, action.group(1)), data=form, allow_redirects=False, timeout=10)
            assert answer.status_code in (302, 303), answer.text[:500]
            url = urljoin(url, answer.headers["Location"])
            if url.startswith(redirect_uri):
                break
        query = parse_qs(urlsplit(url).query)
        assert query.get("state") == [state] and "code" in query, url
        tokens = requests.post(
            f"{self.issuer}/token",
            timeout=10,
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": redirect_uri,
                "client_id": "linkmesh-console",
                "code_verifier": verifier,
            },
        )
        assert tokens.status_code == 200, tokens.text
        return tokens.json()

    def mint(self, key: SigningKey | None = None, headers: dict[str, Any] | None = None, algorithm: str = "RS256", **claims: Any) -> str:
        """A token signed with one of the provider's keys (or another) for the cases a real
        provider will not issue: expired, not yet valid, foreign audience or issuer."""
        now = int(time.time())
        body = {"iss": self.issuer, "aud": AUDIENCE, "sub": "ada", "iat": now, "exp": now + 300, "groups": ["linkmesh-admins"], **claims}
        body = {k: v for k, v in body.items() if v is not None}
        key = key or self.keys[0]
        return jwt.encode(body, key.private, algorithm=algorithm, headers={"kid": key.kid, "typ": "at+jwt", **(headers or {})})
