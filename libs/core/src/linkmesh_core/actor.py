"""Who a request acts for, carried from the HTTP edge to every service it reaches.

The gateway verifies a credential (an OpenID Connect token, an API key, a bootstrap token)
and binds the ``Actor`` it names; the gRPC client interceptor sends it on as the
``x-linkmesh-actor`` metadata (base64url of compact JSON) and the server interceptor binds
it again on the other side, so the profile service records the verified author of a write
without every RPC message carrying one. Only services on the internal network can set it
(with mutual TLS on, only the clients the server trusts); a call that carries none is
recorded as its calling service.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import json
from dataclasses import asdict, dataclass

ACTOR_METADATA = "x-linkmesh-actor"
KINDS = ("user", "api_key", "bootstrap", "adaptor", "service")


@dataclass(frozen=True)
class Actor:
    kind: str  # one of KINDS
    id: str  # the OIDC subject, the API key's id, "bootstrap:<role>", ...
    name: str  # what a person reads: an email, the key's name
    role: str = ""
    on_behalf_of: str = ""  # a trusted key acting for a person it names

    def describe(self) -> str:
        who = f"{self.name} ({self.kind} {self.id})" if self.name != self.id else f"{self.kind} {self.id}"
        return f"{who} on behalf of {self.on_behalf_of}" if self.on_behalf_of else who

    def encode(self) -> str:
        return _encoded(self)

    @classmethod
    def decode(cls, value: str) -> Actor | None:
        """The actor in a metadata value, or None when it is not one."""
        return _decoded(value) if cls is Actor and len(value) <= 2048 else cls._parse(value)

    @classmethod
    def _parse(cls, value: str) -> Actor | None:
        try:
            data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            actor = cls(**{k: str(data.get(k) or "")[:300] for k in ("kind", "id", "name", "role", "on_behalf_of")})
        except (ValueError, TypeError, AttributeError):
            return None
        return actor if actor.kind in KINDS and actor.id else None


# An actor is immutable and every call of a request (and every request of a session) sends
# the same one: each is encoded and decoded once, not on every call.
@functools.lru_cache(maxsize=1024)
def _encoded(actor: Actor) -> str:
    raw = json.dumps(asdict(actor), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@functools.lru_cache(maxsize=1024)
def _decoded(value: str) -> Actor | None:
    return Actor._parse(value)


UNKNOWN = Actor(kind="service", id="unidentified", name="a caller that named no actor")
_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("linkmesh_actor", default=None)


def bind_actor(actor: Actor | None) -> contextvars.Token[Actor | None]:
    return _current.set(actor)


def current_actor() -> Actor | None:
    return _current.get()


def reset_actor(token: contextvars.Token[Actor | None]) -> None:
    """Back to the actor bound before ``bind_actor`` answered ``token``."""
    _current.reset(token)
