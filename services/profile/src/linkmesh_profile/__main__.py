"""Entry point: ``linkmesh-profile`` (configuration from the environment)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import grpc
from pymongo.errors import ConnectionFailure, PyMongoError

from linkmesh_core.circuit import CircuitBreakers
from linkmesh_core.errors import ServiceError, unavailable
from linkmesh_core.grpc_server import StartupError, run_service, serve
from linkmesh_core.logging import configure_logging
from linkmesh_core.settings import invalid_configuration, load_settings
from linkmesh_profile.actions.resolution import ActionResolver
from linkmesh_profile.admin.apps import AppService
from linkmesh_profile.admin.secret_box import SecretBox, SecretKeyError
from linkmesh_profile.api import add_servicers
from linkmesh_profile.assembly import Parts, Tuning, assemble
from linkmesh_profile.config import Settings
from linkmesh_profile.connectors.registry import ConnectorRegistry
from linkmesh_profile.db.store import Store
from linkmesh_profile.db.traces import TraceStore
from linkmesh_profile.linking.autolink_queue import run_deferred
from linkmesh_profile.privacy.retention import Policy, Retention


def map_database_errors(exc: Exception) -> ServiceError | None:
    if isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout):
        return unavailable("the profile database is unavailable; retry shortly", retry_after=1.0)
    if isinstance(exc, PyMongoError):
        return ServiceError(grpc.StatusCode.INTERNAL, "the profile database refused the operation")
    return None


def redacted_uri(uri: str) -> str:
    """The connection string without its credentials."""
    return re.sub(r"//[^@/]*@", "//***@", uri)


class ProfileService:
    """The service's life: its parts over one database, their background work, and a clean stop."""

    def __init__(self, settings: Settings, box: SecretBox) -> None:
        self.settings = settings
        self.box = box
        self.store: Store | None = None

    async def database_reachable(self) -> str | None:
        """The health probe: NOT_SERVING while MongoDB does not answer a ping."""
        if self.store is None:
            return "the database is not open yet"
        try:
            await asyncio.wait_for(self.store.ping(), timeout=self.settings.health_timeout_s)
        except (TimeoutError, PyMongoError) as exc:
            return f"MongoDB does not answer ({type(exc).__name__})"
        return None

    async def _open_store(self) -> Store:
        s = self.settings
        store = Store(s.mongodb_uri, s.mongodb_db, s.db_timeout_s, s.app_cache_s)
        try:
            await store.ensure_indexes(s.trace_retention_s, s.audit_retention_days * 86400, s.action_retention_days * 86400)
        except PyMongoError as exc:
            await store.close()
            raise StartupError(
                f"cannot reach MongoDB at {redacted_uri(s.mongodb_uri)} within {s.db_timeout_s:g}s ({type(exc).__name__})"
            ) from None
        return store

    def _background(self, parts: Parts) -> list[asyncio.Task[None]]:
        """Trace pruning, deferred auto-links, expired action leases, unknown outcomes to resolve, vendors' change events and the sweep for what they missed."""
        s = self.settings
        resolver = ActionResolver(parts.actions, parts.audit, s.resolve_delays, check_timeout_s=s.lookup_timeout_s)
        return [
            asyncio.create_task(parts.traces.prune_forever()),
            asyncio.create_task(parts.queue.run_forever(lambda entry: run_deferred(parts.store, parts.autolinker, entry))),
            asyncio.create_task(parts.actions.expire_leases_forever()),
            asyncio.create_task(resolver.resolve_forever(s.action_resolve_every_s)),
            asyncio.create_task(parts.consumer.run_forever()),
            asyncio.create_task(parts.sweeper.run_forever()),
            asyncio.create_task(Retention(parts.store, parts.people, self._retention()).run_forever()),
        ]

    def _retention(self) -> Policy:
        s = self.settings
        return Policy(s.inactive_app_data_days, s.idle_profile_months, s.retention_every_s)

    @asynccontextmanager
    async def register(self, server: grpc.aio.Server) -> AsyncIterator[Iterable[str]]:
        s = self.settings
        connectors = ConnectorRegistry(
            s.connector_targets, s.lookup_timeout_s, CircuitBreakers(threshold=s.breaker_threshold, cooldown_s=s.breaker_cooldown_s)
        )
        try:
            self.store = store = await self._open_store()
        except StartupError:
            await connectors.close()
            raise
        traces = TraceStore(store, s.trace_retention_s, s.trace_max_per_app, s.trace_flush_s)
        parts = assemble(
            store,
            AppService(store, connectors, self.box),
            traces,
            s.secret_keys,
            Tuning(
                region=s.default_region,
                freshness_s=s.freshness_s,
                action_timeout_s=s.action_timeout_s,
                resolve_delays=s.resolve_delays,
                provisional_s=s.provisional_s,
                public_url=s.public_url,
                events_freshness_s=s.events_freshness_s,
                watch_poll_s=s.watch_poll_s,
                sweep_interval_s=s.sweep_interval_s,
                sweep_max_pages=s.sweep_max_pages,
            ),
        )
        tasks = self._background(parts)
        try:
            yield add_servicers(server, parts)
        finally:
            for task in tasks:
                task.cancel()
            await parts.actions.abandon_running()
            await traces.settle()
            await connectors.close()
            await store.close()


def main() -> None:
    settings = load_settings(Settings, "profile")
    configure_logging("profile", settings.log_level, settings.log_json)
    try:
        box = SecretBox(settings.secret_keys)
    except SecretKeyError as exc:
        invalid_configuration("profile", f"invalid configuration:\n  {exc}")
    service = ProfileService(settings, box)
    run_service(
        "profile",
        serve(
            name="profile",
            host=settings.host,
            port=settings.port,
            register=service.register,
            grace=settings.shutdown_grace_s,
            error_mappers=[map_database_errors],
            metrics_port=settings.metrics_port,
            expose_debug=False,  # vendors' raw answers stay in the lookup debugger
            health_probe=service.database_reachable,
            health_interval_s=settings.health_interval_s,
        ),
    )


if __name__ == "__main__":
    main()
