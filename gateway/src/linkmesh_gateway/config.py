"""Gateway configuration, from the environment only."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES = ("admin", "agent", "developer")


def parse_tokens(raw: str) -> dict[str, str]:
    """``"admin:<token>,agent:<token>"`` → ``{token: role}``."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        role, sep, token = part.partition(":")
        role, token = role.strip(), token.strip()
        if not sep or role not in ROLES:
            raise ValueError(f"entries must be role:token with role one of {', '.join(ROLES)}")
        if len(token) < 8:
            raise ValueError(f"the {role} token must be at least 8 characters")
        out[token] = role
    if not out:
        raise ValueError("give at least one role:token")
    return out


class Settings(BaseSettings):
    """Environment: ``GATEWAY_PORT`` (8080), ``GATEWAY_HOST`` (0.0.0.0),
    ``GATEWAY_PROFILE_ADDR`` (127.0.0.1:50051), ``GATEWAY_SEARCH_TIMEOUT_S`` (5: deadline
    of each system in a fan-out search), ``GATEWAY_RPC_TIMEOUT_S`` (15: other calls),
    ``GATEWAY_LOG_LEVEL``, ``GATEWAY_LOG_JSON``, ``GATEWAY_METRICS_PORT`` (Prometheus
    ``/metrics``; 0: off), ``GATEWAY_RATE_LIMIT_PER_MINUTE`` (600: requests per minute of
    one caller, unless its API key says otherwise; 0: no limit), ``GATEWAY_REPLICAS_MAX`` (1:
    the most gateway replicas that may run; each allows a caller its share of the limit),
    ``LINKMESH_TOKENS`` (required: ``role:token,...`` with roles admin, agent, developer; the
    bootstrap tokens of ``make run`` and the tests, shared by everyone who holds them: give
    integrations API keys and people sign-in)."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_")
    host: str = "0.0.0.0"
    port: int = 8080
    profile_addr: str = "127.0.0.1:50051"
    search_timeout_s: float = 5.0
    rpc_timeout_s: float = 15.0
    log_level: str = "INFO"
    log_json: bool | None = None
    metrics_port: int = 0
    rate_limit_per_minute: int = Field(600, ge=0)
    replicas_max: int = Field(1, ge=1)
    tokens: str = Field(validation_alias=AliasChoices("LINKMESH_TOKENS"))

    @field_validator("tokens")
    @classmethod
    def _check_tokens(cls, value: str) -> str:
        parse_tokens(value)
        return value

    @property
    def token_roles(self) -> dict[str, str]:
        return parse_tokens(self.tokens)
