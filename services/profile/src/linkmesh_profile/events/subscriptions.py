"""An app's subscription to its vendor's change events: made when the app is made or activated
(and again when its settings change), removed when it is deactivated or deleted. The address is
the gateway's public one (``LINKMESH_PUBLIC_URL``) with the app's route. How it stands is kept
on the app (``App.webhooks``) for the apps list; a vendor that sends none, a missing secret or
a vendor that did not answer never fails the app's own write."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import structlog
from linkmesh.lookup.v1 import lookup_pb2
from prometheus_client import Counter

from linkmesh_core.errors import ServiceError
from linkmesh_profile.db.store import now
from linkmesh_profile.model.app import Webhooks

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.model.app import App

log = structlog.get_logger("linkmesh.events")
RESTORED = Counter("linkmesh_subscriptions_restored_total", "Vendor subscriptions made again after the vendor dropped them")


class Subscriptions:
    def __init__(self, store: Store, apps: AppService, public_url: str) -> None:
        self.store = store
        self.apps = apps
        self.public_url = public_url.strip().rstrip("/")

    def callback(self, app: App) -> str:
        return f"{self.public_url}/webhooks/v1/apps/{app.id}"

    async def _record(self, app: App, state: str, message: str = "", topics: list[str] | None = None, restored: int = 0) -> Webhooks:
        hooks = Webhooks(state, message, tuple(topics or ()), self.callback(app), now(), restored)
        await self.store.set_app_webhooks(app.id, hooks)
        log.info("webhooks", app_id=app.id, state=state, topics=len(hooks.topics), message=message)
        return hooks

    async def ensure(self, app: App) -> Webhooks:
        """Subscribes the active app (what is there is kept; asking again is safe)."""
        if not app.active:
            return await self.remove(app)
        if not self.public_url:
            return await self._record(app, "off", "set LINKMESH_PUBLIC_URL, the gateway's address vendors can reach")
        request = lookup_pb2.SubscribeRequest(app=self.apps.context(app), callback_url=self.callback(app))
        try:
            answer = await self.apps.connectors.subscribe(app, request)
        except ServiceError as err:
            if err.code == grpc.StatusCode.UNIMPLEMENTED:
                return await self._record(app, "not_offered", f"{app.name} sends no change events: its data is read when due")
            if err.code == grpc.StatusCode.INVALID_ARGUMENT:
                return await self._record(app, "needs_setting", err.message)
            return await self._record(app, "failed", err.message)
        topics = sorted(s.topic for s in answer.subscriptions)
        # Made again where the app had them all: the vendor had dropped them (a sweep asks again).
        restored = len(answer.created) if app.kept_fresh_by_events else 0
        if restored:
            RESTORED.inc(restored)
            log.warning("webhooks_restored", app_id=app.id, restored=restored)
            note = f"registered again {restored} subscription{'s' if restored > 1 else ''} {app.name}'s vendor had dropped"
            return await self._record(app, "active", note, topics, restored)
        return await self._record(app, "active", topics=topics)

    async def remove(self, app: App) -> Webhooks:
        """Removes the app's subscriptions (best effort: a vendor away is said, not raised)."""
        if not self.public_url or app.webhooks is None or not app.webhooks.subscribed:
            return app.webhooks or Webhooks()
        request = lookup_pb2.UnsubscribeRequest(app=self.apps.context(app), callback_url=self.callback(app))
        try:
            await self.apps.connectors.unsubscribe(app, request)
        except ServiceError as err:
            return await self._record(app, "failed", f"could not remove the subscriptions: {err.message}")
        return await self._record(app, "removed")
