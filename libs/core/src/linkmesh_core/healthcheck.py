"""``python -m linkmesh_core.healthcheck PORT [SERVICE]``: exits 0 when the gRPC
server on localhost:PORT reports SERVING. For container health checks."""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python -m linkmesh_core.healthcheck PORT [SERVICE]", file=sys.stderr)
        return 2
    target = f"127.0.0.1:{sys.argv[1]}"
    service = sys.argv[2] if len(sys.argv) > 2 else ""
    with grpc.insecure_channel(target) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
        except grpc.RpcError as err:
            print(f"{target}: {err.code().name}", file=sys.stderr)  # type: ignore[attr-defined]
            return 1
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        print(f"{target}: {health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
