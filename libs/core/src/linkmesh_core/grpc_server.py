"""The gRPC server bootstrap every linkmesh service uses.

grpc.aio with the standard health service (SERVING when ready, NOT_SERVING
while shutting down), reflection, the request-context interceptor, and a
graceful stop on SIGTERM/SIGINT with a grace period.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any, NoReturn

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from linkmesh_core import event_loop, gc_policy
from linkmesh_core.metrics import serve_metrics
from linkmesh_core.request_context import ErrorMapper, RequestContextInterceptor
from linkmesh_core.tls import PeerCheckInterceptor, Tls, TlsConfigError, tls_from_env

log = structlog.get_logger("linkmesh.server")


class StartupError(Exception):
    """The service cannot start (a busy port, a database out of reach): said in one line."""


def run_service(name: str, main: Coroutine[Any, Any, None]) -> None:
    """Runs a service's main coroutine; a StartupError ends the process with one
    clear line on stderr and exit code 1, not a traceback."""
    try:
        gc_policy.apply()
        event_loop.run(main)
    except StartupError as exc:
        fail(name, str(exc))
    except SystemExit as exc:
        if isinstance(exc.code, str):  # a setting refused on the way (the event loop's): one log line too
            from linkmesh_core.settings import invalid_configuration

            invalid_configuration(name, exc.code)
        raise


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, found before gRPC tries (its own failure is a
    C-core log line plus a vague exception)."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"the address {host!r} is not known ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


async def _watch_health(
    probe: Callable[[], Awaitable[str | None]], interval_s: float, servicer: health.aio.HealthServicer, services: list[str], name: str
) -> None:
    serving = True
    while True:
        await asyncio.sleep(interval_s)
        try:
            problem = await probe()
        except Exception as exc:
            problem = f"{type(exc).__name__}"
        if (problem is None) != serving:
            serving = problem is None
            status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
            for service in services:
                await servicer.set(service, status)
            if serving:
                log.info("health_serving", server=name)
            else:
                log.warning("health_not_serving", server=name, problem=problem)


def fail(name: str, message: str) -> NoReturn:
    """Ends a service that cannot start with one log line (``cannot_start``) and exit code 1."""
    from linkmesh_core.logging import startup_logger

    startup_logger(name).error("cannot_start", error=f"{name}: cannot start: {message}")
    raise SystemExit(1)


def _server(name: str, error_mappers: list[ErrorMapper] | None, expose_debug: bool) -> tuple[Tls | None, grpc.aio.Server]:
    """The server with its interceptors: request context and errors, then the peer check under mutual TLS."""
    try:
        tls = tls_from_env()
    except TlsConfigError as exc:
        raise StartupError(str(exc)) from None
    interceptors: list[grpc.aio.ServerInterceptor] = [RequestContextInterceptor(error_mappers, service=name, expose_debug=expose_debug)]
    if tls is not None:
        interceptors.append(PeerCheckInterceptor(tls.allowed_clients))  # inside: a refused client is logged like any call
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
    )
    return tls, server


async def _serve_metrics(server: grpc.aio.Server, host: str, metrics_port: int) -> None:
    try:
        serve_metrics(metrics_port, host)
    except OSError as exc:
        await server.stop(0)
        raise StartupError(f"cannot serve metrics on {host}:{metrics_port}: {exc.strerror or exc}") from None


def _watch(
    probe: Callable[[], Awaitable[str | None]] | None, every_s: float, servicer: health.aio.HealthServicer, names: list[str], server: str
) -> asyncio.Task[None] | None:
    return asyncio.create_task(_watch_health(probe, every_s, servicer, names, server)) if probe is not None else None


def _stop_on_signals(stop: asyncio.Event) -> asyncio.Event:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass
    return stop


def _listen(server: grpc.aio.Server, host: str, port: int, tls: Tls | None) -> int:
    """Binds the port (mutual TLS when configured); answers the port bound, or a StartupError saying why not."""
    problem = port_problem(host, port)
    if problem is not None:
        raise StartupError(f"cannot listen on {host}:{port}: {problem}")
    try:
        address = f"{host}:{port}"
        bound = server.add_secure_port(address, tls.server_credentials()) if tls else server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise StartupError(f"cannot listen on {host}:{port}: the port is in use or the address is not available")
    return bound


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
    health_probe: Callable[[], Awaitable[str | None]] | None = None,
    health_interval_s: float = 2.0,
) -> None:
    """Runs a server until SIGTERM/SIGINT (or ``stop`` is set).

    ``health_probe``, when given, is asked every ``health_interval_s`` whether the service
    can do its work (None: yes; else what is wrong): the health service answers
    NOT_SERVING while it cannot and SERVING again once it can, without a restart, so
    orchestrators stop sending traffic to a replica that has lost its database.

    ``register`` is an async context manager factory: entering it opens the
    service's long-lived resources, adds its servicers to the server and yields
    the full names of the services it added; leaving it closes the resources
    after the server has stopped.
    """
    tls, server = _server(name, error_mappers, expose_debug)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    stop = _stop_on_signals(stop or asyncio.Event())

    async with register(server) as service_names:
        names = list(service_names)
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
        bound = _listen(server, host, port, tls)
        await server.start()
        await _serve_metrics(server, host, metrics_port)
        for service in ["", *names]:
            await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "server_started",
            server=name,
            address=f"{host}:{bound}",
            mutual_tls=tls is not None,
            allowed_clients=sorted(tls.allowed_clients) if tls else None,
        )
        watching = _watch(health_probe, health_interval_s, health_servicer, ["", *names], name)
        if ready is not None:
            ready.set()
        await stop.wait()
        if watching is not None:
            watching.cancel()
        log.info("server_stopping", server=name, grace_s=grace)
        await health_servicer.enter_graceful_shutdown()
        await server.stop(grace)
    log.info("server_stopped", server=name)
