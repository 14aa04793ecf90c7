"""Configuration from the environment, failing fast with a clear message.

Each service declares a pydantic-settings class; ``load_settings`` builds it
from the environment and, when a variable is missing or invalid, exits with one
message that names every bad variable instead of a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)


class ConfigError(Exception):
    """The environment does not hold a valid configuration."""


def _env_name(cls: type[BaseSettings], field: str) -> str:
    """The environment variable behind ``field`` (errors name aliases directly)."""
    if field not in cls.model_fields:
        return field
    prefix = cls.model_config.get("env_prefix", "") or ""
    return f"{prefix}{field}".upper()


def describe_errors(cls: type[BaseSettings], exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        msg = "is required but not set" if err["type"] == "missing" else err["msg"]
        if not err["loc"]:  # a rule across several variables names them itself
            lines.append(f"  {msg.removeprefix('Value error, ')}")
            continue
        lines.append(f"  {_env_name(cls, str(err['loc'][0]))}: {msg}")
    return "invalid configuration:\n" + "\n".join(lines)


def settings_from_env(cls: type[S]) -> S:
    """Builds ``cls`` from the environment; raises ConfigError naming every bad variable."""
    try:
        return cls()
    except ValidationError as exc:
        raise ConfigError(describe_errors(cls, exc)) from None


def load_settings(cls: type[S], service: str = "") -> S:
    """Like settings_from_env, but exits the process with status 2 on bad configuration,
    said in one log line (JSON unless stderr is a terminal) naming every bad setting."""
    try:
        return settings_from_env(cls)
    except ConfigError as exc:
        invalid_configuration(service, str(exc))


def invalid_configuration(service: str, message: str) -> NoReturn:
    """Ends a service whose settings are wrong: one log line (``invalid_configuration``, JSON
    unless stderr is a terminal) naming every bad setting, and exit code 2."""
    from linkmesh_core.logging import startup_logger

    startup_logger(service or os.path.basename(sys.argv[0])).error("invalid_configuration", error=message)
    raise SystemExit(2)


class ServerSettings(BaseSettings):
    """What every gRPC server reads; services subclass it with their own prefix."""

    host: str = "0.0.0.0"
    port: int
    log_level: str = "INFO"
    # None: JSON unless stderr is a terminal.
    log_json: bool | None = None
    shutdown_grace_s: float = 5.0
    # Prometheus metrics on this port (/metrics); 0: off.
    metrics_port: int = 0
