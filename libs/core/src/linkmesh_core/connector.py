"""What every connector process shares: its settings and its ``main``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2, lookup_pb2_grpc
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from linkmesh_core.budget import Budget, Windows
from linkmesh_core.errors import ServiceError
from linkmesh_core.grpc_server import run_service, serve
from linkmesh_core.logging import configure_logging
from linkmesh_core.settings import ServerSettings, load_settings
from linkmesh_core.shared_budget import vendor_budget
from linkmesh_core.vendor_http import Deadline, VendorHTTP

LOOKUP_SERVICE = lookup_pb2.DESCRIPTOR.services_by_name["LookupService"].full_name


class ConnectorSettings(ServerSettings):
    """``CONNECTOR_PORT`` (default 50061), ``CONNECTOR_HOST``, ``CONNECTOR_LOG_LEVEL``,
    ``CONNECTOR_LOG_JSON``, ``CONNECTOR_SHUTDOWN_GRACE_S``, ``CONNECTOR_VENDOR_TIMEOUT_S``
    (cap on one lookup's vendor calls when the caller sets no deadline),
    ``CONNECTOR_VENDOR_ATTEMPTS`` (bounded retries of 5xx and network errors),
    ``CONNECTOR_METRICS_PORT`` (Prometheus ``/metrics``; 0: off),
    ``LINKMESH_ALLOW_PRIVATE_VENDOR_HOSTS`` (false: vendor URLs may not reach
    private, loopback or link-local addresses; true for local sandboxes),
    ``MONGODB_URI`` (or ``CONNECTOR_MONGODB_URI``; where every replica keeps the vendor
    budgets it shares, see ``linkmesh_core.budget``; unset: this process keeps its own),
    ``CONNECTOR_MONGODB_DB`` (linkmesh), ``CONNECTOR_REPLICAS_MAX`` (1: the most replicas
    that may run; without the shared budget each keeps to its share of the vendor's limits)."""

    model_config = SettingsConfigDict(env_prefix="CONNECTOR_")
    port: int = 50061
    vendor_timeout_s: float = 10.0
    vendor_attempts: int = 3
    allow_private_vendor_hosts: bool = Field(
        default=False, validation_alias=AliasChoices("LINKMESH_ALLOW_PRIVATE_VENDOR_HOSTS", "CONNECTOR_ALLOW_PRIVATE_VENDOR_HOSTS")
    )
    mongodb_uri: str = Field(default="", validation_alias=AliasChoices("CONNECTOR_MONGODB_URI", "MONGODB_URI"))
    mongodb_db: str = "linkmesh"
    replicas_max: int = Field(default=1, ge=1)

    def budget(self, vendor: str, windows: Windows = ()) -> Budget:
        """The vendor budget this connector keeps: ``windows`` are the vendor's published
        (requests, seconds) limits per key; shared by every replica through MongoDB."""
        return vendor_budget(vendor, windows, mongodb_uri=self.mongodb_uri, database=self.mongodb_db, replicas=self.replicas_max)


def run_connector(
    name: str,
    make_http: Callable[[ConnectorSettings], VendorHTTP],
    make_servicer: Callable[[VendorHTTP, ConnectorSettings], lookup_pb2_grpc.LookupServiceServicer],
) -> None:
    """Runs a connector until SIGTERM: one vendor HTTP client, one Lookup servicer."""
    settings = load_settings(ConnectorSettings, name)
    configure_logging(name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def register(server: grpc.aio.Server) -> AsyncIterator[Iterable[str]]:
        http = make_http(settings)
        await http.start()
        try:
            lookup_pb2_grpc.add_LookupServiceServicer_to_server(make_servicer(http, settings), server)
            yield [LOOKUP_SERVICE]
        finally:
            await http.close()

    run_service(
        name,
        serve(
            name=name,
            host=settings.host,
            port=settings.port,
            register=register,
            grace=settings.shutdown_grace_s,
            metrics_port=settings.metrics_port,
        ),
    )


Unreachable = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class LookupServicer(lookup_pb2_grpc.LookupServiceServicer):
    """What every connector's Lookup servicer shares: its client, the deadline of
    each call, and ValidateApp's proof of the credentials by a real vendor call."""

    vendor_name = "the vendor"

    def __init__(self, client: Any, default_timeout: float) -> None:
        self.client = client
        self.default_timeout = default_timeout

    def deadline(self, context: grpc.aio.ServicerContext) -> Deadline:
        """The caller's deadline less a margin, capped at the configured vendor timeout."""
        return Deadline.from_grpc(context, self.default_timeout)

    async def SearchEach(
        self, request: lookup_pb2.SearchEachRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[lookup_pb2.SearchOutcomes]:
        """A connector that takes its searches one at a time: the caller sends each as a Search."""
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"the {self.vendor_name} connector takes each search alone")
        yield  # an async generator: the contract's stream is served as one

    async def FetchEach(
        self, request: lookup_pb2.FetchEachRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[lookup_pb2.FetchOutcomes]:
        """A connector that takes its fetches one at a time: the caller sends each as a Fetch."""
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"the {self.vendor_name} connector takes each fetch alone")
        yield  # an async generator: the contract's stream is served as one

    async def ResolveAction(
        self, request: lookup_pb2.ResolveActionRequest, context: grpc.aio.ServicerContext
    ) -> lookup_pb2.ResolveActionResponse:
        """A connector that cannot read back what its actions did: the outcome stays unknown."""
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.vendor_name} cannot be asked whether an action took effect")

    async def GetActionForm(self, request: lookup_pb2.GetActionFormRequest, context: grpc.aio.ServicerContext) -> lookup_pb2.ActionForm:
        """A connector whose actions are declared in Describe (fields and all) serves no forms: only
        a custom lookup adaptor's actions come as forms fetched from the adaptor."""
        raise ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{self.vendor_name} declares its actions' forms in Describe; it serves none")

    async def proven(
        self,
        errors: dict[str, str],
        probe: Callable[[], Awaitable[Any]] | None,
        refusals: Mapping[grpc.StatusCode, tuple[str | tuple[str, ...], str]],
        *,
        base_url_field: str = "api_base_url",
    ) -> lookup_pb2.ValidateAppResponse:
        """Runs ``probe`` (a real call with the app's credentials) unless the settings
        already failed; maps the vendor's refusals onto the fields they concern."""
        if probe is not None and not errors:
            try:
                await probe()
            except ServiceError as err:
                if err.fields:  # the vendor client named the setting at fault (a forbidden or redirected URL)
                    errors.update(err.fields)
                elif err.code in refusals:
                    fields, message = refusals[err.code]
                    errors.update(dict.fromkeys((fields,) if isinstance(fields, str) else fields, message))
                elif err.code in Unreachable:
                    errors[base_url_field] = f"could not reach {self.vendor_name}: {err.message}"
                else:
                    raise
        return lookup_pb2.ValidateAppResponse(
            ok=not errors, errors=[lookup_pb2.FieldError(field=f, message=m) for f, m in sorted(errors.items())]
        )
