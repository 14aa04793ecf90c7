"""Entry point: ``linkmesh-gateway`` (configuration from the environment)."""

from __future__ import annotations

from aiohttp import web

from linkmesh_core.logging import configure_logging
from linkmesh_core.metrics import serve_metrics
from linkmesh_core.settings import load_settings
from linkmesh_gateway.app import init_app
from linkmesh_gateway.config import Settings


def main() -> None:
    settings = load_settings(Settings)
    configure_logging("gateway", settings.log_level, settings.log_json)
    serve_metrics(settings.metrics_port, settings.host)
    web.run_app(init_app(settings), host=settings.host, port=settings.port, print=None, access_log=None, shutdown_timeout=5.0)


if __name__ == "__main__":
    main()
