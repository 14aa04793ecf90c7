"""The mesh with mutual TLS on: every gRPC hop (gateway → profile → connectors) over TLS with
certificates this test makes, each server answering only the clients it trusts, and the
health checks still working with the service's own certificate."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc
from linkmesh.profile.v1 import admin_pb2_grpc, profile_pb2

from linkmesh_core.tls import tls_from
from linkmesh_devstack import certs
from linkmesh_devstack.ports import free_port
from linkmesh_devstack.stack import ServiceProcess, Stack
from tests.conftest import Api
from tests.e2e.test_mesh import bc_app_payload

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(base_dir=tmp_path_factory.mktemp("mtls"), mutual_tls=True, extra_env={"GATEWAY_SEARCH_TIMEOUT_S": "3"})
    stack.start()
    yield stack
    stack.stop()


def channel_as(stack: Stack, name: str | None, port: int, ca_dir: Path | None = None) -> grpc.Channel:
    """A client presenting ``name``'s certificate (None: plain text) to the service on ``port``."""
    if name is None:
        return grpc.insecure_channel(f"127.0.0.1:{port}")
    tls_dir = ca_dir or stack.base_dir / "tls"
    tls = tls_from(
        {
            "LINKMESH_TLS_CERT": str(tls_dir / f"{name}.crt"),
            "LINKMESH_TLS_KEY": str(tls_dir / f"{name}.key"),
            "LINKMESH_TLS_CA": str(stack.base_dir / "tls" / "ca.crt"),
        }
    )
    assert tls is not None
    return grpc.secure_channel(f"127.0.0.1:{port}", tls.channel_credentials())


def test_the_mesh_works_end_to_end_over_mutual_tls(tls_stack: Stack) -> None:
    api = Api(tls_stack)
    for name in ("gateway", "profile", "connector-bigcommerce"):
        log = tls_stack.services[name].log_tail(200_000)
        assert "mutual_tls=True" in log or '"mutual_tls": true' in log or name == "gateway", f"{name} did not start with TLS"
    app = api.post("/api/v1/apps", bc_app_payload(api), role="admin")  # the connector proves the credentials
    assert app.status_code == 201, app.text
    contact = api.post("/api/v1/contacts", {"channel": "email", "email": "jane.smith@example.com"})
    assert contact.status_code == 200, contact.text
    assert contact.json()["linked"] == [app.json()["id"]], "auto-linked through profile → connector → vendor"
    customer = api.get(f"/api/v1/customers/{contact.json()['customer_id']}").json()
    assert customer["links"][0]["external_customer_id"] and customer["links"][0]["data"]["orders"], "the linked data fetched over TLS"
    entry = api.get("/api/v1/audit", role="admin", params={"customer_id": customer["id"]}).json()["entries"][0]
    assert entry["actor"]["id"] == "bootstrap:agent", "the gateway's verified caller travels over the TLS hop"


def test_each_server_answers_only_the_clients_it_trusts(tls_stack: Stack, tmp_path: Path) -> None:
    profile_port = tls_stack.profile_port
    connector_port = tls_stack.connector_ports["bigcommerce"]
    with channel_as(tls_stack, "gateway", profile_port) as channel:
        answer = admin_pb2_grpc.AdminServiceStub(channel).ListConnectors(profile_pb2.ListConnectorsRequest(), timeout=10)
        assert {c.type for c in answer.connectors} >= {"bigcommerce", "magento"}
    with channel_as(tls_stack, "profile", connector_port) as channel:
        assert lookup_pb2_grpc.LookupServiceStub(channel).Describe(lookup_pb2.DescribeRequest(), timeout=10).vendor == "bigcommerce"

    with channel_as(tls_stack, "gateway", connector_port) as channel:  # a trusted certificate, but not a client of connectors
        with pytest.raises(grpc.RpcError) as refused:
            lookup_pb2_grpc.LookupServiceStub(channel).Describe(lookup_pb2.DescribeRequest(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "answers profile" in refused.value.details() and "gateway" in refused.value.details()
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING, "the health service answers any certificate the CA signed"

    with channel_as(tls_stack, None, profile_port) as channel:  # no TLS at all
        with pytest.raises(grpc.RpcError) as plain:
            admin_pb2_grpc.AdminServiceStub(channel).ListConnectors(profile_pb2.ListConnectorsRequest(), timeout=5)
        assert plain.value.code() == grpc.StatusCode.UNAVAILABLE

    certs.write(tmp_path / "other", names=("gateway",))  # another CA's "gateway": the handshake refuses it
    with channel_as(tls_stack, "gateway", profile_port, ca_dir=tmp_path / "other") as channel:
        with pytest.raises(grpc.RpcError) as foreign:
            admin_pb2_grpc.AdminServiceStub(channel).ListConnectors(profile_pb2.ListConnectorsRequest(), timeout=5)
        assert foreign.value.code() == grpc.StatusCode.UNAVAILABLE


def test_the_image_health_check_uses_the_services_own_certificate(tls_stack: Stack) -> None:
    connector = tls_stack.services["connector-bigcommerce"]
    env = {
        **os.environ,
        **{k: v for k, v in connector.env.items() if k.startswith("LINKMESH_TLS_")},
        "LINKMESH_PORT_ENV": "CONNECTOR_PORT",
        "CONNECTOR_PORT": str(connector.port),
    }
    check = subprocess.run([sys.executable, "-m", "linkmesh_core.healthcheck"], env=env, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    plain = {k: v for k, v in env.items() if not k.startswith("LINKMESH_TLS_")}
    check = subprocess.run([sys.executable, "-m", "linkmesh_core.healthcheck"], env=plain, capture_output=True, text=True, timeout=30)
    assert check.returncode != 0, "a plain-text check cannot reach a TLS-only server"


def test_incomplete_tls_settings_stop_a_service_naming_what_is_missing(tls_stack: Stack, tmp_path: Path) -> None:
    connector = tls_stack.services["connector-magento"]
    port = free_port()
    env = {**connector.env, "CONNECTOR_PORT": str(port), "LINKMESH_TLS_CA": ""}
    process = ServiceProcess("connector-half-tls", connector.cmd, env, port, "grpc", tmp_path / "log")
    process.start()
    assert process.process is not None and process.process.wait(30) != 0
    assert "mutual TLS needs LINKMESH_TLS_CA too" in process.log_tail()
    env = {**connector.env, "CONNECTOR_PORT": str(port), "LINKMESH_TLS_KEY": str(tmp_path / "missing.key")}
    process = ServiceProcess("connector-bad-key", connector.cmd, env, port, "grpc", tmp_path / "log2")
    process.start()
    assert process.process is not None and process.process.wait(30) != 0
    assert f"LINKMESH_TLS_KEY={tmp_path / 'missing.key'}: cannot be read" in process.log_tail()
