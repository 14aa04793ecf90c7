"""Entry point: ``linkmesh-profile`` (configuration from the environment)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import grpc
from linkmesh.profile.v1 import profile_pb2, profile_pb2_grpc
from pymongo.errors import ConnectionFailure, PyMongoError

from linkmesh_core.circuit import CircuitBreakers
from linkmesh_core.errors import ServiceError, unavailable
from linkmesh_core.grpc_server import StartupError, run_service, serve
from linkmesh_core.logging import configure_logging
from linkmesh_core.settings import invalid_configuration, load_settings
from linkmesh_profile.action_resolution import ActionResolver
from linkmesh_profile.api_keys import ApiKeys
from linkmesh_profile.apps import AppService
from linkmesh_profile.audit import AuditLog, audited_fold
from linkmesh_profile.autolink import AutoLinker
from linkmesh_profile.autolink_queue import AutoLinkQueue, run_deferred
from linkmesh_profile.config import Settings
from linkmesh_profile.connectors import ConnectorRegistry
from linkmesh_profile.contacts import Contacts
from linkmesh_profile.debugger import Debugger
from linkmesh_profile.folding import Folder
from linkmesh_profile.linking import Linker
from linkmesh_profile.lookups import Lookups
from linkmesh_profile.order_actions import ActionRunner
from linkmesh_profile.secret_box import SecretBox, SecretKeyError
from linkmesh_profile.servicer import ProfileServicer
from linkmesh_profile.store import Store
from linkmesh_profile.traces import TraceStore


def map_database_errors(exc: Exception) -> ServiceError | None:
    if isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout):
        return unavailable("the profile database is unavailable; retry shortly", retry_after=1.0)
    if isinstance(exc, PyMongoError):
        return ServiceError(grpc.StatusCode.INTERNAL, "the profile database refused the operation")
    return None


def redacted_uri(uri: str) -> str:
    """The connection string without its credentials."""
    return re.sub(r"//[^@/]*@", "//***@", uri)


def main() -> None:
    settings = load_settings(Settings, "profile")
    configure_logging("profile", settings.log_level, settings.log_json)
    try:
        box = SecretBox(settings.secret_keys)
    except SecretKeyError as exc:
        invalid_configuration("profile", f"invalid configuration:\n  {exc}")

    stores: list[Store] = []

    async def database_reachable() -> str | None:
        """The health probe: NOT_SERVING while MongoDB does not answer a ping."""
        try:
            await asyncio.wait_for(stores[0].ping(), timeout=settings.health_timeout_s)
        except (TimeoutError, PyMongoError) as exc:
            return f"MongoDB does not answer ({type(exc).__name__})"
        return None

    @asynccontextmanager
    async def register(server: grpc.aio.Server) -> AsyncIterator[Iterable[str]]:
        store = Store(settings.mongodb_uri, settings.mongodb_db, settings.db_timeout_s, settings.app_cache_s)
        connectors = ConnectorRegistry(settings.connector_targets, settings.lookup_timeout_s,
                                       CircuitBreakers(threshold=settings.breaker_threshold, cooldown_s=settings.breaker_cooldown_s))
        traces = TraceStore(store, settings.trace_retention_s, settings.trace_max_per_app, settings.trace_flush_s)
        pruning: asyncio.Task[None] | None = None
        sweeping: asyncio.Task[None] | None = None
        deferring: asyncio.Task[None] | None = None
        resolving: asyncio.Task[None] | None = None
        actions: ActionRunner | None = None
        try:
            try:
                await store.ensure_indexes()
                await traces.ensure_indexes()
            except PyMongoError as exc:
                raise StartupError(f"cannot reach MongoDB at {redacted_uri(settings.mongodb_uri)} "
                                   f"within {settings.db_timeout_s:g}s ({type(exc).__name__})") from None
            stores.append(store)
            pruning = asyncio.create_task(traces.prune_forever())
            region = settings.default_region
            apps = AppService(store, connectors, box)
            lookups = Lookups(apps, traces)
            linker = Linker(store, apps, lookups, region, settings.freshness_s)
            queue = AutoLinkQueue(store)
            await queue.ensure_indexes()
            audit = AuditLog(store)
            await audit.ensure_indexes()
            autolinker = AutoLinker(store, linker, lookups, region, defer=queue.defer, folder=Folder(store, audited_fold(audit)))
            deferring = asyncio.create_task(queue.run_forever(lambda entry: run_deferred(store, autolinker, entry)))
            actions = ActionRunner(store, apps, linker, traces, settings.action_timeout_s, settings.resolve_delays)
            await actions.ensure_indexes()
            sweeping = asyncio.create_task(actions.expire_leases_forever())
            resolver = ActionResolver(actions, audit, settings.resolve_delays, check_timeout_s=settings.lookup_timeout_s)
            resolving = asyncio.create_task(resolver.resolve_forever(settings.action_resolve_every_s))
            servicer = ProfileServicer(
                store, apps, linker, autolinker, Contacts(store, linker, autolinker, region, settings.provisional_s),
                Debugger(store, apps, lookups, autolinker, region), traces, actions, region, audit, ApiKeys(store, settings.secret_keys),
            )
            profile_pb2_grpc.add_ProfileServiceServicer_to_server(servicer, server)
            yield [profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name]
        finally:
            for task in (pruning, sweeping, deferring, resolving):
                if task is not None:
                    task.cancel()
            if actions is not None:
                await actions.abandon_running()
            await traces.settle()
            await connectors.close()
            await store.close()

    run_service(
        "profile",
        serve(
            name="profile", host=settings.host, port=settings.port, register=register,
            grace=settings.shutdown_grace_s, error_mappers=[map_database_errors], metrics_port=settings.metrics_port,
            expose_debug=False,  # vendors' raw answers stay in the lookup debugger
            health_probe=database_reachable, health_interval_s=settings.health_interval_s,
        )
    )


if __name__ == "__main__":
    main()
