"""Gateway configuration, from the environment only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from linkmesh_gateway.oidc import OidcConfig, check_issuer, parse_algorithms, parse_role_map

ROLES = ("admin", "agent", "developer")
RESERVED_AUTH_PARAMS = {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"}


def parse_origins(raw: str) -> list[str]:
    """Origins separated by spaces or commas: ``https://host[:port]``, plain http only for the
    machine itself; no path, no wildcard (a framed console trusts messages from exactly these)."""
    out = []
    for item in raw.replace(",", " ").split():
        parsed = urlsplit(item)
        loopback = parsed.hostname in ("localhost", "127.0.0.1", "::1")
        if (
            parsed.scheme not in ("https", "http")
            or (parsed.scheme == "http" and not loopback)
            or not parsed.hostname
            or "*" in item
            or parsed.path not in ("", "/")
            or parsed.query
            or parsed.fragment
            or parsed.username
        ):
            raise ValueError(
                f"GATEWAY_FRAME_ANCESTORS: {item!r} is not an origin like https://support.example.com "
                "(https, no path or wildcard; http only for localhost)"
            )
        out.append(f"{parsed.scheme}://{parsed.netloc}".lower())
    return out


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
    ``GATEWAY_API_KEY_CACHE_S`` (0: every request's API key is checked by the profile, so a
    revoked key fails at once everywhere; up to 300: a replica takes a key the profile accepted
    as accepted for that long, never past its expiry, and a revocation through another replica
    holds here once that time is over), ``LINKMESH_TOKENS`` (required: ``role:token,...`` with roles admin, agent, developer; the
    bootstrap tokens of ``make run`` and the tests, shared by everyone who holds them: give
    integrations API keys and people sign-in).

    Sign-in with an OpenID Connect provider (off unless ``GATEWAY_OIDC_ISSUER`` is set):
    ``GATEWAY_OIDC_ISSUER`` (the issuer URL, exactly as the provider's discovery document names
    it), ``GATEWAY_OIDC_AUDIENCE`` (required with it: the ``aud`` its access tokens carry for
    linkmesh), ``GATEWAY_OIDC_ROLES_CLAIM`` (``groups``: a dotted path, e.g.
    ``realm_access.roles``), ``GATEWAY_OIDC_ROLE_MAP`` (``group:role,...``; empty: the claim's
    values are role names), ``GATEWAY_OIDC_ALGORITHMS`` (``RS256,PS256,ES256``; asymmetric
    only), ``GATEWAY_OIDC_CLIENT_ID`` (the console's public client; empty: the console offers
    API-key sign-in only), ``GATEWAY_OIDC_SCOPE`` (``openid profile email``),
    ``GATEWAY_OIDC_AUTH_PARAMS`` (extra authorization request parameters, ``name=value&...``,
    e.g. ``audience=...`` for providers that want one), ``GATEWAY_OIDC_LEEWAY_S`` (30),
    ``GATEWAY_OIDC_JWKS_REFRESH_MIN_S`` (60: the least time between two key fetches caused by
    an unknown ``kid``), ``GATEWAY_OIDC_JWKS_MAX_AGE_S`` (3600)."""

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
    # Requests per minute to one served lookup adaptor (/gladly/v1/apps/{id}/...), counted before
    # anything is verified, so a flood of badly signed requests costs no signature checks.
    adaptor_rate_limit_per_minute: int = Field(600, ge=0)
    replicas_max: int = Field(1, ge=1)
    # Seconds a replica takes an API key the profile accepted as accepted (0: asked every request).
    api_key_cache_s: float = Field(0.0, ge=0, le=300)
    tokens: str = Field(validation_alias=AliasChoices("LINKMESH_TOKENS"))
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_roles_claim: str = "groups"
    oidc_role_map: str = ""
    oidc_algorithms: str = "RS256,PS256,ES256"
    oidc_client_id: str = ""
    oidc_scope: str = "openid profile email"
    oidc_auth_params: str = ""
    oidc_leeway_s: float = Field(30.0, ge=0, le=300)
    oidc_jwks_refresh_min_s: float = Field(60.0, ge=0)
    oidc_jwks_max_age_s: float = Field(3600.0, gt=0)
    frame_ancestors: str = ""

    @field_validator("frame_ancestors")
    @classmethod
    def _check_frame_ancestors(cls, value: str) -> str:
        parse_origins(value)
        return value

    @property
    def frame_origins(self) -> list[str]:
        """The origins that may show the console in a frame (a helpdesk's sidebar), and whose
        messages the framed console reads (GATEWAY_FRAME_ANCESTORS); none by default."""
        return parse_origins(self.frame_ancestors)

    @field_validator("oidc_issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        return check_issuer(value) if value else value

    @field_validator("oidc_role_map")
    @classmethod
    def _check_role_map(cls, value: str) -> str:
        parse_role_map(value)
        return value

    @field_validator("oidc_algorithms")
    @classmethod
    def _check_algorithms(cls, value: str) -> str:
        parse_algorithms(value)
        return value

    @field_validator("oidc_auth_params")
    @classmethod
    def _check_auth_params(cls, value: str) -> str:
        for name in parse_qs(value, keep_blank_values=True):
            if name in RESERVED_AUTH_PARAMS:
                raise ValueError(f"{name} is set by the console itself")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("GATEWAY_OIDC_AUDIENCE is required with GATEWAY_OIDC_ISSUER: the aud of the provider's tokens for linkmesh")
        return self

    @property
    def oidc(self) -> OidcConfig | None:
        if not self.oidc_issuer:
            return None
        return OidcConfig(
            issuer=self.oidc_issuer,
            audience=self.oidc_audience,
            roles_claim=self.oidc_roles_claim,
            role_map=parse_role_map(self.oidc_role_map),
            algorithms=parse_algorithms(self.oidc_algorithms),
            leeway_s=self.oidc_leeway_s,
            jwks_refresh_min_s=self.oidc_jwks_refresh_min_s,
            jwks_max_age_s=self.oidc_jwks_max_age_s,
            client_id=self.oidc_client_id,
            scope=self.oidc_scope,
            auth_params={k: v[-1] for k, v in parse_qs(self.oidc_auth_params, keep_blank_values=True).items()},
        )

    @field_validator("tokens")
    @classmethod
    def _check_tokens(cls, value: str) -> str:
        parse_tokens(value)
        return value

    @property
    def token_roles(self) -> dict[str, str]:
        return parse_tokens(self.tokens)
