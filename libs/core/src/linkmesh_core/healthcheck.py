"""Container health check: exits 0 when the service in this container answers healthy.

``python -m linkmesh_core.healthcheck``: the port is read from the environment variable
the service itself listens on, named by ``LINKMESH_PORT_ENV`` (``CONNECTOR_PORT``,
``PROFILE_PORT``, ...), so the check follows the port wherever it is set (image, compose,
Kubernetes) and cannot drift from it. With ``LINKMESH_HEALTH_PATH`` set (``/healthz``)
the check is an HTTP GET answering 200; without, the gRPC health service must say
SERVING (the profile service says NOT_SERVING while MongoDB cannot be reached); with mutual TLS
on (``LINKMESH_TLS_*``), over TLS with the service's own certificate.

``python -m linkmesh_core.healthcheck PORT [SERVICE]`` checks a gRPC port given directly.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from linkmesh_core.tls import TlsConfigError, tls_from_env

TIMEOUT_S = 2.0


def check_grpc(port: str, service: str = "") -> str | None:
    """None when healthy, else what is wrong."""
    target = f"127.0.0.1:{port}"
    try:
        tls = tls_from_env()
    except TlsConfigError as exc:
        return str(exc)
    # With mutual TLS, the check presents the service's own certificate (the health service
    # answers any client the CA signed) and expects the server to be that same service.
    channel = (
        grpc.secure_channel(target, tls.channel_credentials(), options=[("grpc.ssl_target_name_override", tls.names[0])])
        if tls is not None
        else grpc.insecure_channel(target)
    )
    with channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT_S)
        except grpc.RpcError as err:
            return f"{target}: {err.code().name}"
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        return f"{target}: {health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}"
    return None


def check_http(port: str, path: str) -> str | None:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
            return None if answer.status == 200 else f"{url}: HTTP {answer.status}"
    except (urllib.error.URLError, OSError) as err:
        return f"{url}: {err}"


def from_environment() -> str | None:
    name = os.environ.get("LINKMESH_PORT_ENV", "")
    port = os.environ.get(name, "") if name else ""
    if not port.isdigit():
        return f"LINKMESH_PORT_ENV must name the variable holding the service's port (LINKMESH_PORT_ENV={name!r}, {name or '?'}={port!r})"
    path = os.environ.get("LINKMESH_HEALTH_PATH", "")
    return check_http(port, path) if path else check_grpc(port)


def main() -> int:
    if len(sys.argv) >= 2:
        problem = check_grpc(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
    else:
        problem = from_environment()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
