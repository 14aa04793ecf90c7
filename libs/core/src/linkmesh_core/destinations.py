"""Where a connector may send an app's credentials.

An app's ``api_base_url`` is typed by an admin; without a guard it could point
the connector (and the vendor token it sends) at the cloud metadata service,
the cluster's own services or anything else on a private network. Unless the
deployment allows private destinations (``LINKMESH_ALLOW_PRIVATE_VENDOR_HOSTS``,
on for ``make run`` and the tests, whose sandboxes listen on loopback), only
globally routable addresses are reached. The check is made on the address that
is actually connected to (the resolver answers only allowed addresses), not
only on the URL's text, so a name that resolves to 169.254.169.254 is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class ForbiddenDestination(OSError):
    """The host resolves only to addresses this deployment does not send credentials to."""


def address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_problem(url: str) -> str | None:
    """What is wrong with a vendor URL's text, whatever it resolves to."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials (user:password@); enter secrets in the app's secret settings"
    return None


def literal_address(url: str) -> str | None:
    """The host of ``url`` when it is an IP address literal."""
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host


class GuardedResolver(AbstractResolver):
    """Resolves as usual, then keeps only the addresses a connector may connect to."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        allowed = [a for a in answers if address_allowed(a["host"])]
        if not allowed:
            raise ForbiddenDestination(f"{host} resolves only to private, loopback or link-local addresses")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def forbidden_cause(exc: BaseException) -> ForbiddenDestination | None:
    """The ForbiddenDestination behind an aiohttp connection error, if that is what it was."""
    seen: set[int] = set()
    current: Any = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ForbiddenDestination):
            return current
        current = getattr(current, "os_error", None) or current.__cause__ or current.__context__
    return None
