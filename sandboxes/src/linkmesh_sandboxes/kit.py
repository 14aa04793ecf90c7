"""What a vendor sandbox declares for the tools that run it (``linkmesh-sandbox``,
``make run``, the end-to-end stack): named by its connector's ``ConnectorSpec.sandbox``."""

from __future__ import annotations

import asyncio
import os
import pickle
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

# The app keys that hold a sandbox's vendor data (what its reset seeds again): set by each
# sandbox's create_app, kept across restarts by ``keep_state``.
DATA_KEYS = web.AppKey("sandbox_data_keys", dict)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
log = structlog.get_logger("linkmesh.sandbox")


@dataclass(frozen=True)
class Sandbox:
    """``create_app``: the sandbox with its demo data, its knobs read from the environment
    (``SANDBOX_*``). ``demo_app(base_url)``: the body of ``POST /api/v1/apps`` for an app
    pointed at a sandbox answering at ``base_url`` (its secrets are the sandbox's demo
    secrets, which the tests look for in every service's logs). ``ready_path``: answers
    200 once it serves."""

    create_app: Callable[[], web.Application]
    demo_app: Callable[[str], dict[str, Any]]
    ready_path: str = "/__sandbox/knobs"


def keep_state(app: web.Application, path: Path, interval_s: float = 1.0) -> None:
    """Keeps the sandbox's vendor data in ``path`` across restarts, so it stays in step with
    what linkmesh remembers (a refunded order stays refunded): loaded now if the file exists,
    written (atomically) within ``interval_s`` of a change and at shutdown. A file that no
    longer loads (the sandbox's code changed) is set aside and the demo data used."""
    keys: dict[str, web.AppKey[Any]] = app[DATA_KEYS]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        try:
            with path.open("rb") as f:
                saved = pickle.load(f)
            for name, key in keys.items():
                app[key] = saved[name]
            log.info("sandbox_state_loaded", path=str(path))
        except Exception as exc:
            aside = path.with_suffix(path.suffix + ".unreadable")
            os.replace(path, aside)
            log.warning("sandbox_state_unreadable", path=str(path), set_aside=str(aside), error=f"{type(exc).__name__}: {exc}")
    changed: dict[str, Any] = {"until": 0.0, "saved": b""}

    def save() -> None:
        data = pickle.dumps({name: app[key] for name, key in keys.items()}, protocol=pickle.HIGHEST_PROTOCOL)
        if data == changed["saved"]:
            return
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        changed["saved"] = data

    @web.middleware
    async def note_writes(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        if request.method not in SAFE_METHODS:
            # Some changes land after the answer (Shopify's cancellation job): watch a while longer.
            changed["until"] = time.monotonic() + 5.0
        return await handler(request)

    async def saver(_app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(interval_s)
                if time.monotonic() <= changed["until"] + interval_s:
                    save()

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        save()

    app.middlewares.append(note_writes)
    app.cleanup_ctx.append(saver)
    changed["saved"] = pickle.dumps({name: app[key] for name, key in keys.items()}, protocol=pickle.HIGHEST_PROTOCOL)
