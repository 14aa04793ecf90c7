"""Webhook deliveries, sent as a vendor sends them: each change the sandbox's own API makes is
POSTed to every subscription of its topic, signed by the vendor's rule (the caller builds the
headers), retried with backoff while the receiver does not answer 2xx, and, by knobs, sent twice
(``deliveries_duplicate``) or held and sent newest first (``deliveries_reorder``), as vendors
that promise neither exactly-once nor order do.

Every attempt is logged (``GET /__sandbox/deliveries``): the URL, the event, the attempt, the
status answered (0: no answer), the receiver's JSON answer, and when, so tests can see what a receiver was sent.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from linkmesh_sandboxes.knobs import SandboxState

MAX_ATTEMPTS = 8  # Shopify retries 8 times over 4 hours; here the backoff knob sets the pace
REORDER_WINDOW_S = 0.3


@dataclass
class Delivery:
    url: str
    topic: str
    event_id: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Sender:
    """Sends deliveries in the background of the sandbox's event loop."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state  # its knobs are read at each send (a reset replaces them)
        self.log: deque[dict[str, Any]] = deque(maxlen=2000)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[Delivery] = []
        self._release: asyncio.TimerHandle | None = None

    def send(self, deliveries: list[Delivery]) -> None:
        """Queues each delivery (twice with the duplicate knob); with the reorder knob they are
        held for a moment and sent newest first."""
        batch = [d for d in deliveries for _ in range(2 if self.state.knobs.deliveries_duplicate else 1)]
        if self.state.knobs.deliveries_reorder:
            self._held.extend(batch)
            if self._release is None:
                self._release = asyncio.get_running_loop().call_later(REORDER_WINDOW_S, self._flush_held)
            return
        for d in batch:
            self._start(d)

    def _flush_held(self) -> None:
        held, self._held, self._release = self._held, [], None
        for d in reversed(held):
            self._start(d)

    def _start(self, delivery: Delivery) -> None:
        task = asyncio.ensure_future(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, d: Delivery) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            answer: Any = None
            try:
                async with self._session.post(d.url, data=d.body, headers=d.headers) as resp:
                    status = resp.status
                    answer = await resp.json(content_type=None) if resp.content_length != 0 else None
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            except ValueError:  # an answer that is not JSON: its status is what a vendor reads
                pass
            entry = {"url": d.url, "topic": d.topic, "event_id": d.event_id, "attempt": attempt, "status": status, "at": time.time()}
            self.log.append({**entry, "answer": answer})
            if 200 <= status < 300:
                return
            await asyncio.sleep(self.state.knobs.delivery_backoff_s * 2 ** (attempt - 1))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


SENDER = web.AppKey("deliveries", Sender)


def add_delivery_routes(app: web.Application, state: SandboxState) -> Sender:
    """The sender of this sandbox, closed with it, and its log under ``/__sandbox/deliveries``."""
    sender = app[SENDER] = Sender(state)

    async def deliveries(request: web.Request) -> web.Response:
        if request.method == "DELETE":
            sender.log.clear()
            return web.Response(status=204)
        return web.json_response(list(sender.log))

    async def close(_: web.Application) -> None:
        await sender.close()

    app.router.add_route("GET", "/__sandbox/deliveries", deliveries)
    app.router.add_route("DELETE", "/__sandbox/deliveries", deliveries)
    app.on_cleanup.append(close)
    return sender
