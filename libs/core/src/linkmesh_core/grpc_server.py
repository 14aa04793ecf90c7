"""The gRPC server bootstrap every linkmesh service uses.

grpc.aio with the standard health service (SERVING when ready, NOT_SERVING
while shutting down), reflection, the request-context interceptor, and a
graceful stop on SIGTERM/SIGINT with a grace period.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from linkmesh_core.metrics import serve_metrics
from linkmesh_core.request_context import ErrorMapper, RequestContextInterceptor

log = structlog.get_logger("linkmesh.server")



async def serve(
    *,
    name: str,
    host: str,
    port: int,
    register: Callable[[grpc.aio.Server], AbstractAsyncContextManager[Iterable[str]]],
    grace: float = 5.0,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    error_mappers: list[ErrorMapper] | None = None,
    metrics_port: int = 0,
    expose_debug: bool = True,
) -> None:
    """Runs a server until SIGTERM/SIGINT (or ``stop`` is set).

    ``register`` is an async context manager factory: entering it opens the
    service's long-lived resources, adds its servicers to the server and yields
    the full names of the services it added; leaving it closes the resources
    after the server has stopped.
    """
    server = grpc.aio.server(
        interceptors=[RequestContextInterceptor(error_mappers, service=name, expose_debug=expose_debug)],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass

    async with register(server) as service_names:
        names = list(service_names)
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
        bound = server.add_insecure_port(f"{host}:{port}")
        if bound == 0:
            raise RuntimeError(f"{name}: cannot listen on {host}:{port}")
        await server.start()
        serve_metrics(metrics_port, host)
        for service in ["", *names]:
            await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
        log.info("server_started", server=name, address=f"{host}:{bound}")
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("server_stopping", server=name, grace_s=grace)
        await health_servicer.enter_graceful_shutdown()
        await server.stop(grace)
    log.info("server_stopped", server=name)


