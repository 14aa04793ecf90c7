"""Every line a service writes is one JSON object: its own events, the standard library's
records (pymongo, grpc, aiohttp), warnings, gRPC's C core writing to stderr, tracebacks as
structured fields without local variables, an uncaught exception. And the canonical request
lines say which app a request concerned, how many vendor calls it made and how long a rate
limit held it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from linkmesh_devstack.stack import Stack

PROBE = r"""
import logging, sys, threading, time, warnings
from linkmesh_core.logging import configure_logging
configure_logging("probe")

import grpc
from concurrent import futures
server = grpc.server(futures.ThreadPoolExecutor(1))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
channel = grpc.secure_channel(f"127.0.0.1:{port}", grpc.ssl_channel_credentials())  # TLS to a plaintext port: gRPC's C core logs the handshake failure
try:
    grpc.channel_ready_future(channel).result(timeout=1)
except grpc.FutureTimeoutError:
    pass
logging.getLogger("pymongo.serverSelection").warning("no server %s", "answers", extra={"api_token": "tok-in-extra"})
warnings.warn("a library's deprecation")
print("a library printing to stderr", file=sys.stderr)
def refund(access_token):
    raise RuntimeError("the vendor hung up")
try:
    refund("tok-in-a-local")
except RuntimeError:
    logging.getLogger("aiohttp.server").exception("request_failed")
threading.Thread(target=lambda: 1 / 0).start()
time.sleep(0.2)
refund("tok-in-a-local")
"""


def lines_of(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.strip():
            event = json.loads(line)  # raises on any line that is not JSON
            assert isinstance(event, dict), line
            out.append(event)
    return out


def test_every_line_a_service_writes_is_json_libraries_and_native_code_included() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1  # the uncaught exception at the end
    assert result.stdout == ""
    events = lines_of(result.stderr)
    assert all(e["service"] == "probe" and e["level"] and e["timestamp"] for e in events), events
    by_event = {e["event"]: e for e in events}

    native = [e for e in events if e.get("logger") == "grpc.core"]
    assert native and "Handshake failed" in native[0]["message"] and native[0]["source"].startswith("ssl_transport_security")

    pymongo = by_event["no server answers"]
    assert pymongo["logger"] == "pymongo.serverSelection" and pymongo["level"] == "warning"
    assert pymongo["api_token"] == "[redacted]"

    assert any(e.get("logger") == "py.warnings" and "a library's deprecation" in e["event"] for e in events)
    assert any(e.get("logger") == "stderr" and e["message"] == "a library printing to stderr" for e in events)

    failed = by_event["request_failed"]
    frames = failed["exception"][0]["frames"]
    assert failed["exception"][0]["exc_type"] == "RuntimeError" and frames[-1]["name"] == "refund"
    uncaught = [e for e in events if e["event"] == "uncaught_exception"]
    assert {e["exception"][0]["exc_type"] for e in uncaught} == {"ZeroDivisionError", "RuntimeError"}
    assert all(e["level"] == "critical" for e in uncaught)
    # Frames carry no local variables: a secret passed as an argument stays out of the log.
    assert "tok-in-a-local" not in result.stderr and "tok-in-extra" not in result.stderr


def test_a_terminal_gets_the_console_renderer_and_the_setting_overrides_it() -> None:
    code = "from linkmesh_core.logging import configure_logging\nimport structlog\nconfigure_logging('probe')\nstructlog.get_logger().info('hello', n=1)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env={**__import__("os").environ, "LINKMESH_LOG_FORMAT": "console"},
    )
    assert "hello" in result.stderr and not result.stderr.lstrip().startswith("{")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env={**__import__("os").environ, "LINKMESH_LOG_FORMAT": "json"},
    )
    assert lines_of(result.stderr)[0]["n"] == 1


def canonical(stack: Stack, service: str, event: str, since: int) -> list[dict[str, Any]]:
    text = stack.services[service].log_tail(50_000_000)[since:]
    return [e for e in lines_of(text) if e["event"] == event]


def log_size(stack: Stack, service: str) -> int:
    return len(stack.services[service].log_tail(50_000_000))


@pytest.mark.e2e
@pytest.mark.usefixtures("sandbox_reset")
def test_canonical_lines_say_the_app_the_vendor_calls_and_the_rate_limit_waits(
    stack: Stack, own_app: Callable[[str], dict[str, Any]]
) -> None:
    returnlogic = own_app("returnlogic")["id"]
    headers = {"Authorization": f"Bearer {stack.token('agent')}"}
    customer = requests.post(f"{stack.gateway_url}/api/v1/customers", json={"name": "Canon"}, headers=headers, timeout=20).json()
    marks = {name: log_size(stack, name) for name in ("gateway", "profile", "connector-returnlogic")}
    # ReturnLogic allows 2 requests a second: the third search back to back waits for its turn.
    for _ in range(3):
        answer = requests.post(
            f"{stack.gateway_url}/api/v1/customers/{customer['id']}/external-search",
            json={"app_id": returnlogic, "email": "jane.smith@example.com"},
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    time.sleep(0.5)
    gateway = [e for e in canonical(stack, "gateway", "http_request", marks["gateway"]) if e["path"].endswith("/external-search")]
    assert len(gateway) == 3 and all(e["app_id"] == returnlogic and e["downstream_calls"] == 1 for e in gateway), gateway
    profile = [e for e in canonical(stack, "profile", "rpc", marks["profile"]) if e["rpc"].endswith("/SearchExternal")]
    assert profile and all(e["app_id"] == returnlogic and e["downstream_calls"] >= 1 for e in profile), profile
    connector = [
        e for e in canonical(stack, "connector-returnlogic", "rpc", marks["connector-returnlogic"]) if e["rpc"].endswith("/Search")
    ]
    assert len(connector) == 3 and all(e["app_id"] == returnlogic and e["vendor_calls"] >= 1 for e in connector), connector
    waited = [e for e in connector if e.get("rate_limit_waits")]
    assert waited and all(e["rate_limit_wait_ms"] > 0 for e in waited), connector
