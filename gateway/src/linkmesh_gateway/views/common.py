"""What every handler module shares."""

from __future__ import annotations

from aiohttp import web

from linkmesh_gateway.state import SETTINGS

ALL = ("admin", "agent", "developer")


def rpc_timeout(request: web.Request) -> float:
    return request.app[SETTINGS].rpc_timeout_s
