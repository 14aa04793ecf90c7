"""Profile service configuration, from the environment only."""

from __future__ import annotations

import re

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from linkmesh_core.settings import ServerSettings


def parse_connectors(raw: str) -> dict[str, str]:
    """``"bigcommerce=host:50061,magento=host:50062"`` → ``{type: target}``. A target may name
    several replicas as gRPC does (``ipv4:10.0.0.5:50061,10.0.0.6:50061``): a comma starts
    a new entry only where ``type=`` follows."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in re.split(r",(?=\s*[A-Za-z0-9_.-]+\s*=)", raw)):
        if not part:
            continue
        name, sep, target = part.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise ValueError(f"{part!r} is not type=host:port")
        out[name.strip()] = target.strip()
    return out


def parse_delays(raw: str) -> tuple[float, ...]:
    """``"2,5,15"`` → ``(2.0, 5.0, 15.0)``: 1 to 20 delays, each from 0.1 s to a day."""
    try:
        delays = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a comma-separated list of seconds") from None
    if not 1 <= len(delays) <= 20 or not all(0.1 <= d <= 86400 for d in delays):
        raise ValueError("give 1 to 20 delays, each from 0.1 to 86400 seconds")
    return delays


class Settings(ServerSettings):
    """Environment: ``PROFILE_PORT`` (50051), ``PROFILE_HOST``, ``PROFILE_LOG_LEVEL``,
    ``PROFILE_LOG_JSON``, ``PROFILE_SHUTDOWN_GRACE_S``, ``MONGODB_URI`` (required),
    ``PROFILE_MONGODB_DB`` (linkmesh), ``PROFILE_DB_TIMEOUT_S`` (5: one database operation,
    after which the request answers UNAVAILABLE), ``LINKMESH_SECRET_KEYS`` (required: Fernet keys,
    comma-separated, the first encrypts), ``LINKMESH_CONNECTORS`` (required:
    ``type=host:port,...``), ``PROFILE_DEFAULT_REGION`` (US: phones without a
    country code), ``PROFILE_LOOKUP_TIMEOUT_S`` (8: deadline of one connector call),
    ``PROFILE_ACTION_TIMEOUT_S`` (20: deadline of one order action at the connector; a
    running action's lease is this plus a margin), ``PROFILE_SHUTDOWN_GRACE_S`` (30:
    must outlast the action deadline, so a graceful stop lets running actions end),
    ``PROFILE_BREAKER_THRESHOLD`` (3) and ``PROFILE_BREAKER_COOLDOWN_S`` (10): after that
    many failures in a row an app's calls fail at once for the cool-down, then one probes,
    ``PROFILE_FRESHNESS_S`` (60: a linked app refreshed this recently is not fetched
    again), ``PROFILE_APP_CACHE_S`` (1: how stale this replica's copy of the apps may be
    after another replica changed one), ``PROFILE_TRACE_FLUSH_S`` (0.25: lookup traces are queued and written together at most
    this much later), ``PROFILE_TRACE_RETENTION_S`` (7 days) and ``PROFILE_TRACE_MAX_PER_APP``
    (1000): how long and how many lookup traces are kept, ``PROFILE_METRICS_PORT``
    (Prometheus ``/metrics``; 0: off), ``PROFILE_HEALTH_INTERVAL_S`` (2) and
    ``PROFILE_HEALTH_TIMEOUT_S`` (1): the health service reports NOT_SERVING while MongoDB
    does not answer a ping within the timeout, SERVING again when it does;
    ``PROFILE_ACTION_RESOLVE_DELAYS_S`` (``2,5,15,60,300,1800``): after an action's outcome
    became unknown, the vendor's record is read after each of these delays in turn (one check
    per delay) until it shows whether the action took effect, then the outcome stays unknown;
    ``PROFILE_ACTION_RESOLVE_EVERY_S`` (1): how often a replica looks for checks that are due;
    ``PROFILE_PROVISIONAL_S`` (120): a profile a contact made stays provisional this long while it
    holds only what contacts brought, and a burst of contacts for one person folds such a
    profile into the other it made (``linkmesh_profile.customers.folding``); 0 turns folding off;
    ``LINKMESH_PUBLIC_URL`` (empty): the gateway's address vendors can reach (``https://…``), under
    which they deliver their change events; empty: no app subscribes (docs/events.md);
    ``LINKMESH_ENVIRONMENT`` (``development``; ``production`` refuses to start without an
    ``https://`` ``LINKMESH_PUBLIC_URL``: its apps' data would be read on every open instead of kept
    fresh by their vendors' events); ``PROFILE_EVENTS_FRESHNESS_S`` (86400): an app whose change events are subscribed is read again
    on open only after this long (an event reads it at once, the sweep what events missed); ``PROFILE_WATCH_POLL_S`` (0.5): how
    often a replica reads the stamps of the profiles open consoles watch; ``PROFILE_SWEEP_INTERVAL_S``
    (900) and ``PROFILE_SWEEP_MAX_PAGES`` (4): how often each app's vendor is asked what changed
    since the last sweep (what change events missed), and at most how many pages of 250 a sweep reads;
    retention (docs/privacy.md): ``PROFILE_AUDIT_RETENTION_DAYS`` (400), ``PROFILE_ACTION_RETENTION_DAYS``
    (2557: seven years, for accounts), ``PROFILE_INACTIVE_APP_DATA_DAYS`` (90: the data a deactivated app
    pulled), ``PROFILE_IDLE_PROFILE_MONTHS`` (0: profiles no one contacted for this long are erased),
    each 0 to keep forever, and ``PROFILE_RETENTION_EVERY_S`` (3600): how often the sweeper runs."""

    model_config = SettingsConfigDict(env_prefix="PROFILE_")
    port: int = 50051
    mongodb_uri: str = Field(validation_alias=AliasChoices("MONGODB_URI"))
    mongodb_db: str = "linkmesh"
    db_timeout_s: float = Field(default=5.0, gt=0)
    # How often the health service asks MongoDB for a ping, and how long it waits for the answer:
    # NOT_SERVING while it gets none, SERVING again when it does.
    health_interval_s: float = Field(default=2.0, gt=0)
    health_timeout_s: float = Field(default=1.0, gt=0)
    secret_keys: str = Field(validation_alias=AliasChoices("LINKMESH_SECRET_KEYS"))
    connectors: str = Field(validation_alias=AliasChoices("LINKMESH_CONNECTORS"))
    default_region: str = "US"
    lookup_timeout_s: float = 8.0
    action_timeout_s: float = Field(default=20.0, gt=0)
    breaker_threshold: int = Field(default=3, ge=1)
    breaker_cooldown_s: float = Field(default=10.0, gt=0)
    shutdown_grace_s: float = 30.0
    freshness_s: float = 60.0
    app_cache_s: float = Field(default=1.0, ge=0)
    trace_flush_s: float = Field(default=0.25, gt=0, le=10)
    trace_retention_s: float = 7 * 24 * 3600.0
    trace_max_per_app: int = 1000
    action_resolve_delays_s: str = "2,5,15,60,300,1800"
    action_resolve_every_s: float = Field(default=1.0, gt=0)
    provisional_s: float = Field(default=120.0, ge=0)
    # The gateway's address vendors can reach: their change events are delivered under it.
    public_url: str = Field(default="", validation_alias=AliasChoices("LINKMESH_PUBLIC_URL", "PROFILE_PUBLIC_URL"))
    environment: str = Field(
        default="development", validation_alias=AliasChoices("LINKMESH_ENVIRONMENT"), pattern="^(development|production)$"
    )
    events_freshness_s: float = Field(default=86400.0, ge=0)
    watch_poll_s: float = Field(default=0.5, gt=0, le=10)
    sweep_interval_s: float = Field(default=900.0, ge=10)
    sweep_max_pages: int = Field(default=4, ge=1, le=100)
    audit_retention_days: float = Field(default=400.0, ge=0)
    action_retention_days: float = Field(default=2557.0, ge=0)
    inactive_app_data_days: float = Field(default=90.0, ge=0)
    idle_profile_months: float = Field(default=0.0, ge=0)
    retention_every_s: float = Field(default=3600.0, ge=10)

    @field_validator("connectors")
    @classmethod
    def _check_connectors(cls, value: str) -> str:
        if not parse_connectors(value):
            raise ValueError("name at least one connector as type=host:port")
        return value

    @field_validator("action_resolve_delays_s")
    @classmethod
    def _check_delays(cls, value: str) -> str:
        parse_delays(value)
        return value

    @field_validator("default_region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be a two-letter country code")
        return value.upper()

    @model_validator(mode="after")
    def _grace_outlasts_actions(self) -> Settings:
        if self.shutdown_grace_s <= self.action_timeout_s:
            raise ValueError(
                f"PROFILE_SHUTDOWN_GRACE_S ({self.shutdown_grace_s:g}) must be longer than PROFILE_ACTION_TIMEOUT_S "
                f"({self.action_timeout_s:g}), so a graceful stop lets running actions finish"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be the gateway's address, http(s)://host[:port][/path], without a query")
        return value

    @model_validator(mode="after")
    def _public_in_production(self) -> Settings:
        if self.environment == "production" and not self.public_url.startswith("https://"):
            raise ValueError(
                "LINKMESH_PUBLIC_URL must be the gateway's https:// address in production (LINKMESH_ENVIRONMENT=production): "
                "vendors deliver their change events to it"
            )
        return self

    @property
    def connector_targets(self) -> dict[str, str]:
        return parse_connectors(self.connectors)

    @property
    def resolve_delays(self) -> tuple[float, ...]:
        return parse_delays(self.action_resolve_delays_s)
