"""Entry point: ``linkmesh-gateway`` (configuration from the environment)."""

from __future__ import annotations

from aiohttp import web

from linkmesh_core import event_loop, gc_policy
from linkmesh_core.grpc_server import fail
from linkmesh_core.logging import configure_logging
from linkmesh_core.metrics import serve_metrics
from linkmesh_core.settings import invalid_configuration, load_settings
from linkmesh_core.tls import TlsConfigError, tls_from_env
from linkmesh_gateway.app import init_app
from linkmesh_gateway.config import Settings
from linkmesh_gateway.malformed import log_malformed_requests_as_the_clients


def main() -> None:
    settings = load_settings(Settings, "gateway")
    configure_logging("gateway", settings.log_level, settings.log_json)
    log_malformed_requests_as_the_clients()
    try:
        tls_from_env()  # the certificate its channel to the profile service presents, if any
    except TlsConfigError as exc:
        fail("gateway", str(exc))
    try:
        serve_metrics(settings.metrics_port, settings.host)
    except OSError as exc:
        fail("gateway", f"cannot serve metrics on {settings.host}:{settings.metrics_port}: {exc.strerror or exc}")
    try:
        gc_policy.apply()
        loop = event_loop.new_event_loop()
    except SystemExit as exc:
        invalid_configuration("gateway", str(exc.code))
    try:
        web.run_app(
            init_app(settings), host=settings.host, port=settings.port, print=None, access_log=None, shutdown_timeout=5.0, loop=loop
        )
    except OSError as exc:  # the listening socket: a busy port, an address not on this host
        fail("gateway", f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")


if __name__ == "__main__":
    main()
