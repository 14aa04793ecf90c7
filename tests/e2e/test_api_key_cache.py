"""A gateway told to remember checked API keys (``GATEWAY_API_KEY_CACHE_S``) asks the profile
once per key and window, never remembers a refused key, forgets a key revoked through it at
once and one revoked elsewhere within the window, and never takes a key past its expiry."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import ServiceProcess
from tests.conftest import Api
from tests.e2e.test_identity import call, create_key

pytestmark = pytest.mark.e2e
WINDOW_S = 2.0
CHECKS = re.compile(
    r'^linkmesh_rpc_requests_total\{code="(\w+)",rpc="/linkmesh.profile.v1.AuthService/AuthenticateApiKey",[^}]*\} ([0-9.e+]+)$', re.M
)


def me(url: str, secret: str, times: int = 1) -> None:
    for _ in range(times):
        answer = call(url, "GET", "/api/v1/me", secret)
        assert answer.status_code == 200, answer.text


def key_checks(api: Api) -> dict[str, float]:
    """The profile's AuthenticateApiKey calls so far, by answer code."""
    port = api.stack.extra_env["PROFILE_METRICS_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return {code: float(n) for code, n in CHECKS.findall(resp.read().decode())}


def checks_during(api: Api, work: Callable[[], object]) -> dict[str, int]:
    before = key_checks(api)
    work()
    after = key_checks(api)
    return {code: int(after[code] - before.get(code, 0)) for code in after if after[code] - before.get(code, 0)}


@pytest.fixture()
def caching_gateways(api: Api) -> Iterator[tuple[str, str]]:
    """Two gateway replicas that remember a checked key for WINDOW_S, before the same profile."""
    first = api.stack.services["gateway"]
    replicas = []
    for n in range(2):
        port = free_port()
        env = {**first.env, "GATEWAY_PORT": str(port), "GATEWAY_METRICS_PORT": "0", "GATEWAY_API_KEY_CACHE_S": str(WINDOW_S)}
        replicas.append(ServiceProcess(f"gateway-caching-{n}", first.cmd, env, port, "http"))
    for replica in replicas:
        replica.start()
    try:
        for replica in replicas:
            replica.wait_ready()
        yield f"http://127.0.0.1:{replicas[0].port}", f"http://127.0.0.1:{replicas[1].port}"
    finally:
        for replica in replicas:
            replica.stop()


def test_a_key_is_checked_once_per_window_and_a_refused_one_every_time(api: Api, caching_gateways: tuple[str, str]) -> None:
    gateway, _ = caching_gateways
    secret = create_key(api)["secret"]
    asked = checks_during(api, lambda: me(gateway, secret, 5))
    assert asked == {"OK": 1}, asked
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    asked = checks_during(api, lambda: [call(gateway, "GET", "/api/v1/me", forged) for _ in range(3)])
    assert asked == {"UNAUTHENTICATED": 3}, asked
    time.sleep(WINDOW_S + 0.2)
    asked = checks_during(api, lambda: me(gateway, secret))
    assert asked == {"OK": 1}, "checked again once its window is over"
    default = checks_during(api, lambda: me(api.stack.gateway_url, secret, 3))
    assert default == {"OK": 3}, "a gateway not told to remember checks every request"


def test_a_revoked_key_fails_at_once_where_revoked_and_within_the_window_elsewhere(api: Api, caching_gateways: tuple[str, str]) -> None:
    here, elsewhere = caching_gateways
    created = create_key(api)
    for url in (here, elsewhere):
        assert call(url, "GET", "/api/v1/me", created["secret"]).status_code == 200
    admin = api.stack.token("admin")
    assert call(here, "DELETE", f"/api/v1/api-keys/{created['id']}", admin).status_code == 200
    revoked_at = time.monotonic()
    assert call(here, "GET", "/api/v1/me", created["secret"]).status_code == 401, "forgotten at once where it was revoked"
    while call(elsewhere, "GET", "/api/v1/me", created["secret"]).status_code == 200:
        assert time.monotonic() - revoked_at < WINDOW_S + 1.0, "taken past the window"
        time.sleep(0.1)


def test_a_remembered_key_is_not_taken_past_its_expiry(api: Api, caching_gateways: tuple[str, str]) -> None:
    gateway, _ = caching_gateways
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    created = create_key(api, expires_at=expires.isoformat().replace("+00:00", "Z"))
    assert call(gateway, "GET", "/api/v1/me", created["secret"]).status_code == 200
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    refused = call(gateway, "GET", "/api/v1/me", created["secret"])
    assert refused.status_code == 401 and "expired" in refused.headers["WWW-Authenticate"]
