"""structlog set-up shared by every service.

JSON lines in production, the console renderer on a terminal; context variables
(request id, rpc, app id) bound per request are merged into every line; values
under secret-looking keys are redacted before anything is rendered.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

SECRET_KEY_PARTS = ("secret", "token", "password", "api_key", "apikey", "authorization", "access_key")
REDACTED = "[redacted]"


def is_secret_key(key: str) -> bool:
    k = key.lower().replace("-", "_")
    return any(part in k for part in SECRET_KEY_PARTS)


def redact(value: Any) -> Any:
    """Returns a copy of ``value`` with every secret-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and is_secret_key(k) and v else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def _redact_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return redact(event_dict)


def configure_logging(service: str, level: str = "INFO", json_logs: bool | None = None) -> None:
    """Configures structlog and the stdlib root logger for ``service``."""
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    def add_service(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_processor,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer] if json_logs else [*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
    # Libraries chatter at INFO; keep their warnings only.
    for noisy in ("aiohttp.access", "pymongo", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
