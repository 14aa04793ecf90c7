"""Every server: configuration fails fast and clearly, health and reflection
answer, SIGTERM stops it gracefully, request ids travel across hops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import ServiceProcess

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("PROFILE_", "CONNECTOR_", "GATEWAY_", "LINKMESH_", "MONGODB_"))}


@pytest.mark.parametrize(
    ("module", "env", "expected"),
    [
        ("linkmesh_profile", {}, ["MONGODB_URI: is required", "LINKMESH_SECRET_KEYS: is required", "LINKMESH_CONNECTORS: is required"]),
        (
            "linkmesh_profile",
            {"MONGODB_URI": "mongodb://x", "LINKMESH_SECRET_KEYS": "k", "LINKMESH_CONNECTORS": "bigcommerce", "PROFILE_PORT": "eighty"},
            ["PROFILE_PORT:", "LINKMESH_CONNECTORS:"],
        ),
        (
            "linkmesh_profile",
            {"MONGODB_URI": "mongodb://x", "LINKMESH_SECRET_KEYS": "short", "LINKMESH_CONNECTORS": "bigcommerce=h:1"},
            ["LINKMESH_SECRET_KEYS: each key must be 32 url-safe base64-encoded bytes"],
        ),
        ("linkmesh_gateway", {}, ["LINKMESH_TOKENS: is required"]),
        ("linkmesh_gateway", {"LINKMESH_TOKENS": "root:abcdefgh12"}, ["LINKMESH_TOKENS:", "role one of admin, agent, developer"]),
        ("linkmesh_bigcommerce", {"CONNECTOR_PORT": "-x"}, ["CONNECTOR_PORT:"]),
    ],
)
def test_bad_configuration_fails_fast_naming_each_variable(module: str, env: dict[str, str], expected: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", module], env={**CLEAN_ENV, **env}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]  # one JSON line, like every other
    assert len(lines) == 1 and lines[0]["event"] == "invalid_configuration" and lines[0]["level"] == "error", result.stderr
    for text in expected:
        assert text in lines[0]["error"], result.stderr


def test_profile_grace_must_outlast_the_action_deadline() -> None:
    env = {
        "MONGODB_URI": "mongodb://x",
        "LINKMESH_CONNECTORS": "bigcommerce=h:1",
        "LINKMESH_SECRET_KEYS": "k" * 43 + "=",
        "PROFILE_ACTION_TIMEOUT_S": "20",
        "PROFILE_SHUTDOWN_GRACE_S": "10",
    }
    result = subprocess.run(
        [sys.executable, "-m", "linkmesh_profile"], env={**CLEAN_ENV, **env}, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "PROFILE_SHUTDOWN_GRACE_S (10) must be longer than PROFILE_ACTION_TIMEOUT_S (20)" in result.stderr, result.stderr


def one_line_failure(module: str, env: dict[str, str], timeout: float = 30) -> str:
    """Runs a service that cannot start; answers the error of its single line of output (JSON)."""
    result = subprocess.run([sys.executable, "-m", module], env={**CLEAN_ENV, **env}, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, lines
    event = json.loads(lines[0])
    assert (
        event["event"] == "cannot_start"
        and event["level"] == "error"
        and event["service"] in module.replace("linkmesh_", "connector-") + "profile gateway"
    ), event
    return event["error"]


def test_a_busy_port_is_one_clear_line_and_exit_code_1() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        line = one_line_failure("linkmesh_bigcommerce", {"CONNECTOR_HOST": "127.0.0.1", "CONNECTOR_PORT": port})
        assert line.startswith("connector-bigcommerce: cannot start: cannot listen on 127.0.0.1:") and "in use" in line
        line = one_line_failure(
            "linkmesh_gateway", {"GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": port, "LINKMESH_TOKENS": "agent:agent-token"}
        )
        assert line.startswith("gateway: cannot start: cannot listen on 127.0.0.1:") and "in use" in line


def test_a_database_out_of_reach_at_start_is_one_clear_line_without_its_password() -> None:
    from cryptography.fernet import Fernet

    line = one_line_failure(
        "linkmesh_profile",
        {
            "PROFILE_HOST": "127.0.0.1",
            "PROFILE_PORT": str(free_port()),
            "PROFILE_DB_TIMEOUT_S": "1",
            "MONGODB_URI": f"mongodb://user:hunter2@127.0.0.1:{free_port()}/?directConnection=true",
            "LINKMESH_SECRET_KEYS": Fernet.generate_key().decode(),
            "LINKMESH_CONNECTORS": "bigcommerce=127.0.0.1:1",
        },
    )
    assert line.startswith("profile: cannot start: cannot reach MongoDB at mongodb://***@127.0.0.1:") and "hunter2" not in line


def test_connector_serves_health_and_reflection_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    service = ServiceProcess(
        "connector",
        [sys.executable, "-m", "linkmesh_bigcommerce"],
        {"CONNECTOR_HOST": "127.0.0.1", "CONNECTOR_PORT": str(port), "CONNECTOR_SHUTDOWN_GRACE_S": "2"},
        port,
        "grpc",
        tmp_path / "connector.log",
    )
    service.start()
    try:
        service.wait_ready()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            answer = health.Check(health_pb2.HealthCheckRequest(service="linkmesh.lookup.v1.LookupService"), timeout=2)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            replies = list(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=2))
            names = {s.name for s in replies[0].list_services_response.service}
            assert {"linkmesh.lookup.v1.LookupService", "grpc.health.v1.Health"} <= names
            watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
            assert service.process is not None
            service.process.send_signal(signal.SIGTERM)
            statuses = []
            try:
                for update in watch:
                    statuses.append(update.status)
            except grpc.RpcError:
                pass
            assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses, "health says NOT_SERVING while shutting down"
        assert service.process.wait(timeout=10) == 0
    finally:
        service.stop()
    log = (tmp_path / "connector.log").read_text()
    assert "server_stopping" in log and "server_stopped" in log


def test_a_request_id_travels_from_the_gateway_to_the_connector(stack) -> None:
    import requests

    request_id = f"trace-{time.time_ns()}"
    response = requests.get(
        f"{stack.gateway_url}/api/v1/connectors",
        headers={"Authorization": f"Bearer {stack.token('agent')}", "X-Request-Id": request_id},
        timeout=10,
    )
    assert response.status_code == 200
    time.sleep(0.3)
    for name in ("gateway", "profile", "connector-bigcommerce"):
        assert request_id in stack.services[name].log_tail(10_000_000), f"{name} did not log the request id"


def test_a_connector_exports_rpc_and_vendor_metrics(tmp_path: Path) -> None:
    import urllib.request

    from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc

    port, metrics = free_port(), free_port()
    service = ServiceProcess(
        "connector",
        [sys.executable, "-m", "linkmesh_bigcommerce"],
        {
            "CONNECTOR_HOST": "127.0.0.1",
            "CONNECTOR_PORT": str(port),
            "CONNECTOR_METRICS_PORT": str(metrics),
            "LINKMESH_ALLOW_PRIVATE_VENDOR_HOSTS": "true",
        },
        port,
        "grpc",
        tmp_path / "connector.log",
    )
    service.start()
    try:
        service.wait_ready()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = lookup_pb2_grpc.LookupServiceStub(channel)
            stub.Describe(lookup_pb2.DescribeRequest(), timeout=2)
            app = lookup_pb2.AppContext(
                settings={"store_hash": "abcde", "api_base_url": f"http://127.0.0.1:{free_port()}"}, secrets={"access_token": "t"}
            )
            with pytest.raises(grpc.RpcError):
                stub.Search(lookup_pb2.SearchRequest(app=app, emails=["a@b.co"]), timeout=5)
        # A call is counted once its answer is on its way: the caller may read the metrics first
        # (CI did, at 3c686b7), so they are read until the failed search is in them.
        deadline = time.monotonic() + 5
        while True:
            text = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5).read().decode()
            if 'rpc="/linkmesh.lookup.v1.LookupService/Search"' in text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        service.stop()
    assert (
        'linkmesh_rpc_requests_total{code="OK",rpc="/linkmesh.lookup.v1.LookupService/Describe",service="connector-bigcommerce"} 1.0'
        in text
    )
    assert 'code="UNAVAILABLE",rpc="/linkmesh.lookup.v1.LookupService/Search"' in text
    assert 'linkmesh_vendor_requests_total{status="0",vendor="BigCommerce"} 3.0' in text, "three attempts, none answered"


def test_the_gateway_and_profile_export_metrics(stack) -> None:
    import urllib.request

    import requests

    requests.get(f"{stack.gateway_url}/api/v1/connectors", headers={"Authorization": f"Bearer {stack.token('agent')}"}, timeout=10)
    requests.get(f"{stack.gateway_url}/api/v1/apps", timeout=10)
    gateway = urllib.request.urlopen(f"http://127.0.0.1:{stack.extra_env['GATEWAY_METRICS_PORT']}/metrics", timeout=5).read().decode()
    assert 'linkmesh_http_requests_total{method="GET",route="/api/v1/connectors",status="200"}' in gateway
    assert 'linkmesh_http_requests_total{method="GET",route="/api/v1/apps",status="401"}' in gateway
    profile = urllib.request.urlopen(f"http://127.0.0.1:{stack.extra_env['PROFILE_METRICS_PORT']}/metrics", timeout=5).read().decode()
    assert 'rpc="/linkmesh.profile.v1.AdminService/ListConnectors",service="profile"' in profile
