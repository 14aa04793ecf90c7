"""Long-lived gRPC client channels with retries through service config.

A channel is created once per target and closed on shutdown. Transient
UNAVAILABLE answers are retried by gRPC itself (bounded: three attempts within
the call's deadline), reconnection after a peer restarts is quick, and every
call still carries its own deadline set by the caller.
"""

from __future__ import annotations

import json

import grpc

from linkmesh_core.request_context import RequestIdClientInterceptor

RETRY_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "0.5s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def open_channel(target: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.service_config", RETRY_SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", 16 * 1024 * 1024),
            ("grpc.keepalive_time_ms", 30_000),
            # A restarted peer is reachable again within a second, not after
            # gRPC's default back-off of up to two minutes.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
        ],
        interceptors=[RequestIdClientInterceptor()],
    )
