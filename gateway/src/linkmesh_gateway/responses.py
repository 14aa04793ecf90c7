"""The gateway's JSON answers, written by orjson (``linkmesh_core.json_text``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from linkmesh_core.json_text import dumps

JSON = "application/json"


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None, content_type: str = JSON) -> web.Response:
    """``web.json_response`` with orjson: the same status, headers and ``; charset=utf-8``."""
    return web.Response(body=dumps(data), status=status, headers=headers, content_type=content_type, charset="utf-8")
