"""Receiving a delivery: the app's connector checks its signature and says what changed; it is
kept in the inbox once (its vendor's event id, else the hash of its body); nothing is applied
here, so the gateway answers the vendor at once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import inbox_pb2
from prometheus_client import Counter

from linkmesh_core.errors import ServiceError
from linkmesh_profile.db.store import now

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.db.inbox import Inbox
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.events")
RECEIVED = Counter("linkmesh_events_received_total", "Vendor change events received, by outcome", ["outcome"])


class Receiver:
    def __init__(self, apps: AppService, inbox: Inbox, wake: Callable[[], None], callback: Callable[[App], str]) -> None:
        self.apps = apps
        self.inbox = inbox
        self.callback = callback  # the address the app's subscriptions deliver to
        self.wake = wake  # the consumer in this process, told at once

    async def receive(self, delivery: inbox_pb2.Delivery) -> inbox_pb2.Received:
        app = await self.apps.require(delivery.app_id)
        request = lookup_pb2.ReadDeliveryRequest(
            app=self.apps.context(app), headers=dict(delivery.headers), body=delivery.body, callback_url=self.callback(app)
        )
        try:
            change = (await self.apps.connectors.read_delivery(app, request)).change
        except ServiceError as err:
            RECEIVED.labels("refused" if err.code.name == "UNAUTHENTICATED" else "failed").inc()
            log.warning("event_refused", app_id=app.id, code=err.code.name, error=err.message)
            raise
        if not change.event_id:  # a vendor that names no event: the same body is the same event
            change.event_id = hashlib.sha256(delivery.body).hexdigest()
        kept = await self.inbox.keep(app.id, change, now())
        RECEIVED.labels("kept" if kept else "duplicate").inc()
        log.info("event_received", app_id=app.id, topic=change.topic, event_id=change.event_id, duplicate=not kept)
        if kept:
            self.wake()
        return inbox_pb2.Received(event_id=change.event_id, duplicate=not kept)
