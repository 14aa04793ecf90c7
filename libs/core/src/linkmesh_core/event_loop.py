"""The event loop every linkmesh service runs on: uvloop (libuv), else asyncio's own.

Measured with ``bench/mesh_load.py`` on the same machine and run: uvloop cut the profile
service's CPU per contact by a fifth (6.67 to 5.33 ms for a new email, 10.07 to 8.27 ms for
a returning customer refreshed from two systems) and the whole mesh's from 13.0 to 10.7 ms,
with grpc.aio and aiohttp unchanged. ``LINKMESH_EVENT_LOOP=asyncio`` goes back to the
standard loop (to rule the loop out when chasing a bug); uvloop does not exist on Windows.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
ENV = "LINKMESH_EVENT_LOOP"


def _uvloop() -> Any | None:
    choice = os.environ.get(ENV, "uvloop").strip().lower()
    if choice not in ("uvloop", "asyncio"):
        raise SystemExit(f"invalid configuration:\n  {ENV}: must be uvloop or asyncio, not {choice!r}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # not built for this platform
        return None
    return uvloop


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        uvloop = _uvloop()
    except SystemExit:
        main.close()  # never started: no "was never awaited" warning on the way out
        raise
    if uvloop is None:
        return asyncio.run(main)
    return uvloop.run(main)


def new_event_loop() -> asyncio.AbstractEventLoop:
    uvloop = _uvloop()
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()


def name(loop: asyncio.AbstractEventLoop) -> str:
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
