"""Prometheus metrics (``prometheus-client``) every service exposes on its own
metrics port (``<PREFIX>_METRICS_PORT``; 0 turns it off)."""

from __future__ import annotations

import structlog
from prometheus_client import Counter, Histogram, start_http_server

log = structlog.get_logger("linkmesh.metrics")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RPC_REQUESTS = Counter("linkmesh_rpc_requests_total", "gRPC requests served, by method and status code", ["service", "rpc", "code"])
RPC_LATENCY = Histogram("linkmesh_rpc_duration_seconds", "Time to serve a gRPC request", ["service", "rpc"], buckets=LATENCY_BUCKETS)
HTTP_REQUESTS = Counter("linkmesh_http_requests_total", "HTTP requests served by the gateway", ["route", "method", "status"])
HTTP_LATENCY = Histogram("linkmesh_http_duration_seconds", "Time to serve an HTTP request", ["route", "method"], buckets=LATENCY_BUCKETS)
VENDOR_REQUESTS = Counter(
    "linkmesh_vendor_requests_total", "Requests sent to a vendor API, by HTTP status (0: no answer)", ["vendor", "status"]
)
VENDOR_LATENCY = Histogram("linkmesh_vendor_duration_seconds", "Time a vendor API took to answer", ["vendor"], buckets=LATENCY_BUCKETS)


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Starts the metrics endpoint (``/metrics``) in a background thread; 0 means off."""
    if port > 0:
        start_http_server(port, addr=host)
        log.info("metrics_serving", address=f"{host}:{port}")
