"""structlog set-up shared by every service.

JSON lines in production, the console renderer on a terminal; context variables
(request id, rpc, app id) bound per request are merged into every line; values
under secret-looking keys are redacted before anything is rendered. The standard
library's records (pymongo, grpc, aiohttp) go through the same processors, and in
JSON mode so does anything else written to stderr (gRPC's C core): every line a
service writes is one JSON object.
"""

from __future__ import annotations

import atexit
import faulthandler
import functools
import json
import logging
import os
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import structlog
import structlog.tracebacks

SECRET_KEY_PARTS = ("secret", "token", "password", "api_key", "apikey", "authorization", "access_key")
REDACTED = "[redacted]"


@functools.lru_cache(maxsize=4096)  # the keys of log lines and traces are few and come again each request
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
    exc_info = event_dict.pop("exc_info", None)  # rendered later, from the exception itself
    out = redact(event_dict)
    if exc_info is not None:
        out["exc_info"] = exc_info
    return out


class _Out:
    """Where every line of the process goes, one whole line per write under one lock, so
    two writers (structlog, the standard library's handlers, the native-stderr reader)
    never merge two lines into one."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def write_line(self, line: str) -> None:
        data = (line.rstrip("\n") + "\n").encode("utf-8", "replace")
        with self.lock:
            while data:
                try:
                    written = os.write(self.fd, data)
                except InterruptedError:
                    continue
                except OSError:
                    return  # nobody reads our output any more: nothing to do about it
                data = data[written:]


class _LineLogger:
    """structlog's logger: one rendered line, written whole."""

    def __init__(self, out: _Out) -> None:
        self._out = out

    def msg(self, message: str) -> None:
        self._out.write_line(message)

    log = debug = info = warn = warning = error = err = critical = exception = fatal = failure = msg


class _LineHandler(logging.Handler):
    """The standard library's records, rendered by structlog's ProcessorFormatter."""

    def __init__(self, out: _Out) -> None:
        super().__init__()
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._out.write_line(self.format(record))
        except Exception:
            self.handleError(record)


# gRPC's C core (absl) writes "I1124 03:30:13.313814   30896 file.cc:2563] text" to fd 2.
_NATIVE = re.compile(r"^(?P<sev>[IWEF])\d{4} [\d:.]+\s+\d+ (?P<source>[^\]\s]+)\] ?(?P<text>.*)$")
_NATIVE_LEVEL = {"I": "info", "W": "warning", "E": "error", "F": "critical"}
_state: dict[str, Any] = {}
# Tracebacks as structured fields, never with the frames' local variables (they hold secrets).
_TRACEBACKS = structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False))


def _native_reader(read_fd: int, out: _Out, service: str) -> None:
    with os.fdopen(read_fd, "rb") as pipe:
        for raw in pipe:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            try:
                if isinstance(json.loads(line), dict):
                    out.write_line(line)
                    continue
            except ValueError:
                pass
            match = _NATIVE.match(line)
            event: dict[str, Any] = {
                "event": "native_output",
                "service": service,
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
            if match:
                event.update(level=_NATIVE_LEVEL[match["sev"]], logger="grpc.core", source=match["source"], message=match["text"])
            else:
                event.update(level="warning", logger="stderr", message=line)
            out.write_line(json.dumps(redact(event)))


def _capture_native_stderr(service: str) -> _Out:
    """Everything written to file descriptor 2 by code that does not log through Python
    (gRPC's C core, a library printing to stderr, the interpreter's own messages) reaches
    the output as a JSON line; the process's own lines go straight to the real stderr."""
    if "out" in _state:
        return _state["out"]
    sys.stderr.flush()
    out = _Out(os.dup(2))
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    # A crash dump must still be seen even when the reader thread dies with the process.
    faulthandler.enable(file=os.fdopen(os.dup(out.fd), "w"), all_threads=True)
    reader = threading.Thread(target=_native_reader, args=(read_fd, out, service), name="native-stderr", daemon=True)
    reader.start()

    def drain() -> None:  # at exit: what was written last is still read and wrapped
        try:
            sys.stderr.flush()
            os.close(2)
        except (OSError, ValueError):
            return
        reader.join(timeout=1.0)

    atexit.register(drain)
    _state["out"] = out
    return out


def _uncaught(out_logger: Any) -> Any:
    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        out_logger.critical("uncaught_exception", exc_info=(kind, value, tb))

    return hook


def wants_json(json_logs: bool | None = None) -> bool:
    """JSON unless told otherwise: ``json_logs``, else ``LINKMESH_LOG_FORMAT`` (``json`` or
    ``console``), else JSON unless stderr is a terminal."""
    if json_logs is not None:
        return json_logs
    fmt = os.environ.get("LINKMESH_LOG_FORMAT", "").strip().lower()
    if fmt in ("json", "console"):
        return fmt == "json"
    return not sys.stderr.isatty()


def configure_logging(service: str, level: str = "INFO", json_logs: bool | None = None) -> None:
    """Configures structlog and the standard library's logging for ``service``: one
    pipeline for both (structlog's ProcessorFormatter), so pymongo's, grpc's and aiohttp's
    records are JSON lines like ours, tracebacks as structured fields. In JSON mode whatever
    else reaches stderr is wrapped into JSON lines too, and an uncaught exception is logged."""
    json_logs = wants_json(json_logs)
    _state["configured"] = True
    out = _capture_native_stderr(service) if json_logs else _state.setdefault("console", _Out(2))

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
    if json_logs:
        tail: list[Any] = [_TRACEBACKS, structlog.processors.JSONRenderer()]
    else:
        tail = [structlog.dev.ConsoleRenderer()]
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO
    structlog.configure(
        processors=[*shared, *tail],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=lambda *_args: _LineLogger(out),
        cache_logger_on_first_use=True,
    )
    handler = _LineHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder(), *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    logging.captureWarnings(True)
    # Libraries chatter at INFO; keep their warnings only.
    for noisy in ("aiohttp.access", "pymongo", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if json_logs:
        sys.excepthook = _uncaught(structlog.get_logger("linkmesh.uncaught"))
        threading.excepthook = lambda a: _uncaught(structlog.get_logger("linkmesh.uncaught"))(a.exc_type, a.exc_value, a.exc_traceback)


def startup_logger(service: str) -> Any:
    """A logger for what happens before a service has read its settings (a bad setting, a
    port in use): configured with the defaults when nothing configured logging yet."""
    if "configured" not in _state and not structlog.is_configured():
        configure_logging(service)
    return structlog.get_logger("linkmesh.startup")
